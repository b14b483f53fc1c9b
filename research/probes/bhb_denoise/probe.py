"""VGG1D alone (bhb-4 code, the experiment config) on spectra denoised by projection onto the
leading principal components of each segment, fitted on the training split's min–max-normalised
spectra. The projection runs inside VGG1D's forward pass, right after the min–max normalisation,
so the training noise is still added to the observed spectrum before it.

Usage (repository root, one thread each):
    OMP_NUM_THREADS=1 python bench/results/bhb_denoise/probe.py K [SEED]
K components per segment (7 segments of 503 px); output: k<K>_seed<SEED>.log.
"""
import sys, time
sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[3]))
import numpy as np, torch
import ml.batmm as batmm
from ml.batmm import BATMMConfig
from ml.bhb_train import BHBTrainer, BHBTrainingConfig, spectrum_head, metrics
from ml.data import split_indices
from ml.synth.bhb import bhb_sample

components = int(sys.argv[1]); seed = int(sys.argv[2]) if len(sys.argv) > 2 else 3
started = time.perf_counter()
sample = bhb_sample(4985, 3128, np.random.default_rng(0))
labels = sample.is_bhb.astype(int)
split = split_indices(len(labels), 0.2, 0.1, seed)
normalise = batmm.minmax_normalise
segments = normalise(torch.as_tensor(np.asarray(sample.flux[split["train"]], np.float32)))[:, :7 * 503].reshape(-1, 7, 503)
mean = segments.mean(0)  # (7, 503)
basis = torch.stack([torch.linalg.svd(segments[:, s] - mean[s], full_matrices=False)[2][:components].T for s in range(7)])  # (7, 503, K)


def denoised(spectrum):
    scaled = normalise(spectrum)
    head = scaled[:, :7 * 503].reshape(-1, 7, 503) - mean
    projected = torch.einsum("bsk,spk->bsp", torch.einsum("bsp,spk->bsk", head, basis), basis) + mean
    return torch.cat([projected.reshape(len(scaled), -1), scaled[:, 7 * 503:]], dim=1)


batmm.minmax_normalise = denoised  # VGG1D.forward looks it up at call time
config = BHBTrainingConfig(model=BATMMConfig(width=0.25, d_model=128, n_layers=8, n_heads=8, dropout=0.1), seed=seed,
                           epochs_encoder=15, batch_size=64, lr=1e-4, weight_decay=0.05, patience=5,
                           image_colour_weight=0.0, spectrum_noise=1.0)
trainer = BHBTrainer(config, sample.flux, sample.images, labels, split=split, log=lambda line: print(line, flush=True))
inputs = lambda index: (trainer.spectra[index],)  # noqa: E731
model = trainer._train(trainer._seeded(lambda: spectrum_head(config.model)), inputs, 15, "VGG1D", augment=trainer._noisy_spectra)
scores = {part: round(metrics(labels[split[part]], trainer._scores(model, inputs, split[part]))["f1_macro"], 4)
          for part in ("train", "validation", "test")}
print(f"{components} components per segment, seed {seed}, kept epoch, macro F1:", scores,
      f"({time.perf_counter() - started:.0f} s)", flush=True)
