"""The disentangler (GANDALF): a conditional adversarial autoencoder whose 25-d latent z keeps a
spectrum's chemistry and drops its Teff and logg. Nearest neighbours in z are chemical twins.

    config   settings and the presets ``paper`` and ``twins``
    model    encoder, discriminators, the folded raw-input encoder
    decoders the decoders by name (joint; research registers more)
    losses   the adversarial term and the penalties by name (kernel)
    trainer  fit, validation, the kept epoch, checkpoints
    inference  TrainedDisentangler: load, encode, generate
"""
from ml.disentangler.config import PRESETS, VARIANTS, ConfigError, DisentanglerConfig
from ml.disentangler.inference import TrainedDisentangler
from ml.disentangler.trainer import DisentanglerTrainer, History

__all__ = ["PRESETS", "VARIANTS", "ConfigError", "DisentanglerConfig", "DisentanglerTrainer", "History",
           "TrainedDisentangler"]
