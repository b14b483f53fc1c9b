"""mdAT on the 200-profile APOGEE-like grid (S/N 50): R² and twin probes along training, for the
opt-in settings (modulated decoder, kernel penalty μ, re-observation term ν).

Run from the repository root (one torch thread; output in the *.log files next to it):

    OMP_NUM_THREADS=1 PYTHONPATH=. python bench/results/disentangle_apogee_2p_snr50_p200_modulated/trajectories/trajectory.py \
        MU EPOCHS [SETTING=VALUE ...] [--save DIR] [--snr SNR] [--checkpoint FILE [--probe-now [--kept]]]
        [--repetitions N]

MU is the kernel-penalty weight, EPOCHS the comma-separated epochs at which to probe (e.g. 25,35,45),
and each SETTING=VALUE (a Python literal) overrides a DisentanglerConfig field, e.g.
noise_invariance=0.05, decoder="joint", encoder="residual", variant="noAT" or seed=1 (a seed changes
the initialisation, the shuffles and the noise; the split stays seed 0's). --snr changes the grid's
S/N (50 by default; inf for noiseless spectra). --checkpoint FILE makes the run resumable: the
trainer writes FILE after every epoch, and a rerun with the same arguments (append to the same log)
continues from it exactly, skipping the probes already taken (--probe-now: probe the checkpoint's
epoch once and stop, training nothing; with --kept, its validation-best weights instead).
--repetitions N gives the R² as the median of N probes (1 by default, as in the logs). Runs longer
than a session (the 200-epoch runs, about 3½ hours on one core) are made this way, on a machine that
keeps its files: checkpoints are not in git. Each probe line gives the R² of MLP probes (median of
N repetitions) and twin recall@1/@10 and AUC on the test split, then recall@1 of z standardised per
dimension and of z − poly(cp) (not counted towards the target; see README), and last the Teff and
logg R² of z − poly(cp): what is left of them once z's conditional mean E[z | cp] is taken out,
and how z's per-latent mean and spread move across ten Teff bins of the test stars (medians over
the latents: the bin means' spread in units of the latent's σ, and the largest over the smallest
within-bin σ). For a z unrelated to Teff they are about 0.05 and 1.10 on the 4,200 test stars.
"""
import ast
import math
import sys
import time
from pathlib import Path

import numpy as np

from ml.data import split_indices
from ml.disentangle import DisentanglerConfig, DisentanglerTrainer
from ml.evaluate import PolynomialResidual, r2_probe, twin_metrics
from ml.synth.gridbuilder import GridSpec, build_grid
from ml.synth.stellar import StellarSpectrumModel

started = time.time()
arguments = sys.argv[1:]


def flag(name: str) -> bool:
    """Whether ``name`` was given; removes it from the arguments."""
    given = name in arguments
    if given:
        arguments.remove(name)
    return given


def option(name: str, default=None):
    """The value after ``name`` (a string), or ``default``; removes both from the arguments."""
    if name not in arguments:
        return default
    at = arguments.index(name)
    value = arguments[at + 1]
    del arguments[at:at + 2]
    return value


checkpoint = Path(option("--checkpoint")) if "--checkpoint" in arguments else None
save = Path(option("--save")) if "--save" in arguments else None
probe_now, kept = flag("--probe-now"), flag("--kept")
repetitions = int(option("--repetitions", 1))
snr = float(option("--snr", 50.0))
snr = None if math.isinf(snr) else snr  # the grid builder's "noiseless"
mu, checks = float(arguments[0]), [int(c) for c in arguments[1].split(",")]
overrides = {key: ast.literal_eval(value) for key, value in (a.split("=", 1) for a in arguments[2:])}
grid = build_grid(GridSpec(band="apogee", n_profiles=200, snr=snr, seed=0), StellarSpectrumModel("apogee"), batch_size=512)
flux, group, labels = grid.flux, grid.group, grid.labels
print(f"grid {time.time() - started:.0f}s", flush=True)
config = DisentanglerConfig.from_dict({"variant": "mdAT", "epochs": max(checks), "batch_size": 50, "patience": 20,
                                       "decoder": "modulated", "independence": mu, **overrides})
print(config, flush=True)
parameters = np.stack([labels[name] for name in config.conditional], 1)
# The split is seed 0's whatever the config's seed, so that a seed=N override changes only the
# initialisation, the shuffles and the noise, and every run is probed on the same test stars.
split = split_indices(len(flux), config.validation, config.test, 0)
trainer = DisentanglerTrainer(config, flux, parameters, split=split)
train, test = trainer.split["train"], trainer.split["test"]
probe_train = np.sort(np.random.default_rng(0).choice(train, 4000, replace=False))


def probe(tag: str) -> None:
    z = trainer.encode(flux, parameters)
    r2 = {name: r2_probe(z[probe_train], labels[name][probe_train], z[test], labels[name][test], repetitions=repetitions)
          for name in ["teff", "logg", "fe_h", "alpha_fe", "Mg_Fe", "C_Fe"]}
    twins = twin_metrics(z[test], group[test])
    mean, spread = z[train].mean(0), np.maximum(z[train].std(0), 1e-12)
    standardised = twin_metrics(((z[test] - mean) / spread).astype(np.float32), group[test])
    conditional_mean = PolynomialResidual(3).fit(z[train], parameters[train])  # E[z | cp], fitted once
    residual = conditional_mean.transform(z[test], parameters[test])
    minus_poly = twin_metrics(residual.astype(np.float32), group[test])
    # Where the parameters sit: if z − poly(cp) no longer gives Teff, they are in z's conditional mean
    # E[z | cp] (a shift the decoder can undo), not in how z spreads about it.
    residual_train = conditional_mean.transform(z[probe_train], parameters[probe_train])
    left = {name: r2_probe(residual_train, labels[name][probe_train], residual, labels[name][test], repetitions=repetitions)
            for name in ["teff", "logg"]}
    # How: per latent, the spread over the test stars' 10 Teff bins of its bin means (in units of its
    # overall σ) and the ratio of its largest to smallest within-bin σ; medians over the latents.
    teff_bin = np.digitize(labels["teff"][test], np.quantile(labels["teff"][test], np.linspace(0, 1, 11)[1:-1]))
    means = np.stack([z[test][teff_bin == b].mean(0) for b in range(10)])  # (10, L)
    spreads = np.stack([z[test][teff_bin == b].std(0) for b in range(10)])  # (10, L)
    shift = np.median(means.std(0) / np.maximum(z[test].std(0), 1e-12))
    scale = np.median(spreads.max(0) / np.maximum(spreads.min(0), 1e-12))
    print(f"{tag}: " + " ".join(f"{name} {value:.3f}" for name, value in r2.items())
          + f" | R@1 {twins['recall_at_1']:.3f} R@10 {twins['recall_at_10']:.3f} auc {twins['pairwise_auc']:.3f}"
          + f" | std R@1 {standardised['recall_at_1']:.3f} | -poly R@1 {minus_poly['recall_at_1']:.3f}"
          + " | -poly " + " ".join(f"{name} {value:.3f}" for name, value in left.items())
          + f" | Teff-bin mean shift {shift:.3f} σ ratio {scale:.2f}"
          + f" | {time.time() - started:.0f}s", flush=True)


def on_epoch(record: dict) -> None:
    print(f"ep {record['epoch']} rec {record['val_reconstruction']:.4f} acc {np.round(record['val_disc_accuracy'], 2).tolist()} "
          f"obj {record['val_objective']:.4f} {time.time() - started:.0f}s", flush=True)


if checkpoint is not None and checkpoint.exists():
    trainer.fit(epochs=0, checkpoint=checkpoint)  # loads it, trains nothing
    print(f"resumed from {checkpoint} at epoch {trainer.epoch} {time.time() - started:.0f}s", flush=True)
if probe_now:
    if kept:
        trainer.use_best()
    probe(f"probe of {'the kept epoch ' + str(trainer.history.best_epoch) if kept else 'epoch ' + str(trainer.epoch)}"
          f" ({repetitions} repetition{'s' * (repetitions > 1)})")
    sys.exit(0)
for check in checks:
    if check <= trainer.epoch:
        continue  # probed before the interruption
    trainer.fit(epochs=check, checkpoint=checkpoint, on_epoch=on_epoch)
    probe(f"epoch {trainer.epoch}")  # early stopping may end the run before the check
    if save:
        trainer.save(save / f"mdAT_e{trainer.epoch}.pt")
    if trainer.history.stopped_early:
        print(f"stopped early at epoch {trainer.epoch}", flush=True)
        break
trainer.use_best()
probe(f"best epoch {trainer.history.best_epoch}")
