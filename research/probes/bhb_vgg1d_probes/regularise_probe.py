"""VGG1D alone (the experiment config, bhb-4 code) with a different regulariser on its training
spectra, to see whether VGG1D's gap to the SVM is a fitting/memorising trade-off.

Usage (repository root, one thread each):
    OMP_NUM_THREADS=1 python bench/results/bhb_vgg1d_probes/regularise_probe.py noise LEVEL [SEED]
    OMP_NUM_THREADS=1 python bench/results/bhb_vgg1d_probes/regularise_probe.py mixup ALPHA [SEED]

- ``noise LEVEL``: the experiment's training noise (``spectrum_noise``) at LEVEL instead of 1.0.
- ``mixup ALPHA``: the experiment's noise, then mixup (Zhang et al. 2018): each training batch is
  replaced by λ·x + (1 − λ)·x[perm] of its min–max-normalised spectra, λ ~ Beta(ALPHA, ALPHA) per
  batch, with the loss λ·CE(y) + (1 − λ)·CE(y[perm]) (class-weighted). It runs through the
  trainer's own loop (``BHBTrainer._train``): the mix is its ``augment``, the second label's share
  of the loss its ``auxiliary`` term.

Prints every epoch's validation F1, then the kept epoch's macro F1 on the training, validation
and test splits. Output: regularise_<mode><value>_seed<seed>.log.
"""
import sys, time
sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[3]))
import numpy as np, torch
from torch.nn import functional as F
from ml.batmm import BATMMConfig, minmax_normalise
from ml.bhb_train import BHBTrainer, BHBTrainingConfig, spectrum_head, metrics
from ml.data import split_indices
from ml.synth.bhb import bhb_sample

mode, value = sys.argv[1], float(sys.argv[2])
seed = int(sys.argv[3]) if len(sys.argv) > 3 else 3
if mode not in ("noise", "mixup"):
    sys.exit(f"mode must be 'noise' or 'mixup', not {mode!r}")
started = time.perf_counter()
sample = bhb_sample(4985, 3128, np.random.default_rng(0))
labels = sample.is_bhb.astype(int)
split = split_indices(len(labels), 0.2, 0.1, seed)
config = BHBTrainingConfig(model=BATMMConfig(width=0.25, d_model=128, n_layers=8, n_heads=8, dropout=0.1), seed=seed,
                           epochs_encoder=15, batch_size=64, lr=1e-4, weight_decay=0.05, patience=5,
                           image_colour_weight=0.0, spectrum_noise=value if mode == "noise" else 1.0)
trainer = BHBTrainer(config, sample.flux, sample.images, labels, split=split, log=lambda line: print(line, flush=True))
inputs = lambda index: (trainer.spectra[index],)  # noqa: E731
if mode == "mixup":
    rng = np.random.default_rng(seed)
    mix = {}

    def augment(batch, index, generator):
        spectra = minmax_normalise(trainer._noisy_spectra(batch, index, generator)[0])
        mix["share"] = float(rng.beta(value, value))
        mix["partner"] = torch.randperm(len(spectra), generator=generator)
        return (mix["share"] * spectra + (1 - mix["share"]) * spectra[mix["partner"]],)

    def auxiliary(output, index):
        logits, truth = output[0].float(), trainer.labels[index]
        own = F.cross_entropy(logits, truth, weight=trainer.weights)
        partner = F.cross_entropy(logits, truth[mix["partner"]], weight=trainer.weights)
        return (1 - mix["share"]) * (partner - own)  # the loop's CE(y) + this = λ·CE(y) + (1 − λ)·CE(y[perm])
else:
    augment, auxiliary = trainer._noisy_spectra, None

model = trainer._train(trainer._seeded(lambda: spectrum_head(config.model)), inputs, 15, "VGG1D", augment=augment,
                       auxiliary=auxiliary)
scores = {part: round(metrics(labels[split[part]], trainer._scores(model, inputs, split[part]))["f1_macro"], 4)
          for part in ("train", "validation", "test")}
print(mode, value, "seed", seed, "kept epoch, macro F1:", scores, f"({time.perf_counter() - started:.0f} s)", flush=True)
