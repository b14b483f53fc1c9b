"""VGG1D alone, with an auxiliary head that regresses the spectrum's own Balmer-line measurements.

The image encoder got a self-supervised colour head (PSF colours measured on the cutout); this is
the same idea for the spectrum: a second linear map of VGG1D's 7 ordered tokens regresses the
Sérsic fits of Hδ and Hγ (D0.2, fm, c, b; ``ml.balmer.measure`` on the observed spectrum, no label
and no generator truth), standardised on the training split, with weight WEIGHT on the MSE. The
question is whether pointing the CNN at the lines the physics says matter closes VGG1D's gap to
the SVM (README, "What would close the gap").

Usage (repository root): OMP_NUM_THREADS=1 python bench/results/bhb_line_head/probe.py WEIGHT SEED
Same data, split and config as ``bench/results/bhb_pixel_noise/probe.py`` (width 0.25, d_model 128,
15 epochs, patience 5, DER_SNR training noise), whose scalar-noise runs are the controls.
"""
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

from ml.balmer import measure  # noqa: E402
from ml.batmm import N_SEGMENTS, BATMMConfig  # noqa: E402
from ml.bhb_train import BHBTrainer, BHBTrainingConfig, metrics, spectrum_head  # noqa: E402
from ml.data import split_indices  # noqa: E402
from ml.synth.bhb import bhb_sample  # noqa: E402

weight, seed = float(sys.argv[1]), int(sys.argv[2])
started = time.perf_counter()
sample = bhb_sample(4985, 3128, np.random.default_rng(0))
labels = sample.is_bhb.astype(int)
split = split_indices(len(labels), 0.2, 0.1, seed)
config = BHBTrainingConfig(model=BATMMConfig(width=0.25, d_model=128, n_layers=8, n_heads=8, dropout=0.1), seed=seed,
                           epochs_encoder=15, batch_size=64, lr=1e-4, weight_decay=0.05, patience=5,
                           image_colour_weight=0.0, spectrum_noise=1.0)
fits = [measure(sample.wavelength, flux, error) for flux, error in zip(sample.flux, sample.error)]
lines = np.array([[fit.d02, fit.fm, fit.c, fit.b] for fit in fits], dtype=np.float64)
train_lines = lines[split["train"]]
centre, scale = np.nanmedian(train_lines, 0), np.nanpercentile(train_lines, 75, 0) - np.nanpercentile(train_lines, 25, 0)
targets = np.clip((lines - centre) / np.maximum(scale, 1e-9), -5, 5)  # robust: a failed fit cannot dominate the MSE
known = torch.as_tensor(np.isfinite(targets), dtype=torch.float32)
targets = torch.as_tensor(np.nan_to_num(targets), dtype=torch.float32)
print(f"Balmer fits for {len(lines)} spectra ({np.isfinite(lines).all(1).mean():.3f} finite), {time.perf_counter() - started:.0f} s", flush=True)

trainer = BHBTrainer(config, sample.flux, sample.images, labels, split=split, log=lambda message: print(message, flush=True))
model = trainer._seeded(lambda: spectrum_head(config.model))  # the control's initial weights
model.auxiliary = nn.Linear(config.model.d_model * N_SEGMENTS, targets.shape[1])


def line_loss(output, index):
    predicted = model.auxiliary(output[1].flatten(1)).float()
    return weight * ((predicted - targets[index]) ** 2 * known[index]).sum() / known[index].sum().clamp(min=1)


inputs = lambda index: (trainer.spectra[index],)  # noqa: E731
model = trainer._train(model, inputs, config.epochs_encoder, "VGG1D", augment=trainer._noisy_spectra,
                       auxiliary=line_loss if weight else None)
test = split["test"]
with torch.no_grad():
    _, tokens, _ = model(trainer.spectra[test])
    predicted = model.auxiliary(tokens.flatten(1)).numpy()
r = [np.corrcoef(predicted[:, k], targets[test, k].numpy())[0, 1] for k in range(targets.shape[1])]
print(f"weight {weight} seed {seed} test F1 {metrics(labels[test], trainer._scores(model, inputs, test))['f1_macro']:.4f}"
      f" | line fits r (D0.2, fm, c, b) {' '.join(f'{v:.2f}' for v in r)} | {time.perf_counter() - started:.0f} s", flush=True)
