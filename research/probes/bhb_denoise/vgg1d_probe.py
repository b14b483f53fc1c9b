"""VGG1D alone with the bhb-6 code and the experiment config (segment denoiser, 10 components per
segment), with early stopping switched off: all 15 epochs run and the best validation epoch is kept.

Usage (repository root, one thread): OMP_NUM_THREADS=1 python bench/results/bhb_denoise/vgg1d_probe.py SEED
Output: vgg1d_no_patience_seed<SEED>.log.
"""
import sys, time
sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[3]))
import numpy as np
from ml.batmm import BATMMConfig
from ml.bhb_train import BHBTrainer, BHBTrainingConfig, spectrum_head, metrics
from ml.data import split_indices
from ml.synth.bhb import bhb_sample

seed = int(sys.argv[1])
started = time.perf_counter()
sample = bhb_sample(4985, 3128, np.random.default_rng(0))
labels = sample.is_bhb.astype(int)
split = split_indices(len(labels), 0.2, 0.1, seed)
config = BHBTrainingConfig(model=BATMMConfig(width=0.25, d_model=128, n_layers=8, n_heads=8, dropout=0.1,
                                             spectrum_components=10), seed=seed,
                           epochs_encoder=15, batch_size=64, lr=1e-4, weight_decay=0.05, patience=0,
                           image_colour_weight=0.0, spectrum_noise=1.0)
trainer = BHBTrainer(config, sample.flux, sample.images, labels, split=split, log=lambda line: print(line, flush=True))
inputs = lambda index: (trainer.spectra[index],)  # noqa: E731
head = trainer._seeded(lambda: spectrum_head(config.model))
head.encoder.fit_denoiser(trainer.spectra[split["train"]])
model = trainer._train(head, inputs, 15, "VGG1D", augment=trainer._noisy_spectra)
scores = {part: round(metrics(labels[split[part]], trainer._scores(model, inputs, split[part]))["f1_macro"], 4)
          for part in ("train", "validation", "test")}
print(f"seed {seed}, no early stopping, kept epoch, macro F1:", scores, f"({time.perf_counter() - started:.0f} s)", flush=True)
