"""VGG1D alone on seed 3: training noise per pixel from the error arrays instead of the DER_SNR scalar.

Usage (repository root, one thread each): OMP_NUM_THREADS=1 python bench/results/bhb_pixel_noise/probe.py MODE [SEED [WIDTH]]
MODE is "pixel" or "scalar" (the control: the experiment's DER_SNR noise). WIDTH scales every
VGG1D layer (0.25, the experiment config's, by default; the seed's is 1.0): ``scalar 3 0.5`` is the
width probe (width0.5_seed3.log, two threads) of README "What would close the gap".
"""
import sys, time
sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[3]))
import numpy as np, torch
from ml.batmm import BATMMConfig
from ml.bhb_train import BHBTrainer, BHBTrainingConfig, spectrum_head, metrics
from ml.data import split_indices
from ml.synth.bhb import bhb_sample
mode = sys.argv[1]; seed = int(sys.argv[2]) if len(sys.argv) > 2 else 3
width = float(sys.argv[3]) if len(sys.argv) > 3 else 0.25
t = time.perf_counter()
sample = bhb_sample(4985, 3128, np.random.default_rng(0))
labels = sample.is_bhb.astype(int)
split = split_indices(len(labels), 0.2, 0.1, seed)
cfg = BHBTrainingConfig(model=BATMMConfig(width=width, d_model=128, n_layers=8, n_heads=8, dropout=0.1), seed=seed,
                        epochs_encoder=15, batch_size=64, lr=1e-4, weight_decay=0.05, patience=5,
                        image_colour_weight=0.0, spectrum_noise=1.0)
error = torch.as_tensor(np.nan_to_num(sample.error, nan=0.0, posinf=0.0), dtype=torch.float32)
class PixelNoise(BHBTrainer):
    def _noisy_spectra(self, batch, index, generator):
        if mode == "scalar":
            return super()._noisy_spectra(batch, index, generator)
        spectra = batch[0]
        level = torch.rand(len(spectra), 1, generator=generator) * error[index]
        return (spectra + level * torch.randn(spectra.shape, generator=generator),)
trainer = PixelNoise(cfg, sample.flux, sample.images, labels, split=split, log=lambda m: print(m, flush=True))
inputs = lambda index: (trainer.spectra[index],)
model = trainer._train(trainer._seeded(lambda: spectrum_head(cfg.model)), inputs, 15, "VGG1D", augment=trainer._noisy_spectra)
test = split["test"]
print(mode, seed, f"width {width}", "test F1", round(metrics(labels[test], trainer._scores(model, inputs, test))["f1_macro"], 4), f"{time.perf_counter()-t:.0f} s", flush=True)
