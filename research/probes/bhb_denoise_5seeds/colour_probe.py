"""Is there image information that BATMM's fusion leaves unused? For each seed of this run, a
logistic regression on VGG1D's own logit (its stage checkpoint) against the same with the PSF
colours measured on the cutouts (ml.photometry.psf_colours: u−g, g−r, r−i, i−z, r) added, and a
gradient-boosted classifier on the same two feature sets. Fitted on the training split, scored on
the test split (macro F1), the experiment's splits and data.

It reads the seeds' vgg1d.pt stage checkpoints, which git does not keep: rerunning the experiment
into this directory (its configs are here) recreates them.

Usage (repository root, one thread): OMP_NUM_THREADS=1 python bench/results/bhb_denoise_5seeds/colour_probe.py
Output: colour_probe.txt beside this script.
"""
import sys, time
from pathlib import Path
here = Path(__file__).resolve().parent
sys.path.insert(0, str(here.parents[2]))
import numpy as np
import torch
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler
from ml.batmm import BATMMConfig
from ml.bhb_train import metrics, spectrum_head
from ml.data import split_indices
from ml.photometry import psf_colours
from ml.synth.bhb import bhb_sample

started = time.perf_counter()
sample = bhb_sample(4985, 3128, np.random.default_rng(0))
labels = sample.is_bhb.astype(int)
colours = psf_colours(sample.images)
spectra = torch.as_tensor(np.asarray(sample.flux, np.float32))  # VGG1D min–max normalises them itself
model_config = BATMMConfig(width=0.25, d_model=128, n_layers=8, n_heads=8, dropout=0.1, spectrum_components=10)
rows = []
for seed in range(5):
    split = split_indices(len(labels), 0.2, 0.1, seed)
    head = spectrum_head(model_config)
    head.load_state_dict(torch.load(here / "seeds" / f"seed_{seed}" / "vgg1d.pt", weights_only=True))
    head.eval()
    with torch.no_grad():
        logit = torch.cat([head(spectra[start:start + 256])[0] for start in range(0, len(labels), 256)])
    logit = (logit[:, 1] - logit[:, 0]).numpy()[:, None]
    train, test = split["train"], split["test"]
    row = {"seed": seed, "VGG1D (its own decision)": metrics(labels[test], 1 / (1 + np.exp(-logit[test, 0])))["f1_macro"]}
    for name, features in (("logit", logit), ("logit + PSF colours", np.c_[logit, colours])):
        scaler = StandardScaler().fit(features[train])
        linear = LogisticRegression(max_iter=2000, class_weight="balanced").fit(scaler.transform(features[train]), labels[train])
        row[f"logistic: {name}"] = metrics(labels[test], linear.predict_proba(scaler.transform(features[test]))[:, 1])["f1_macro"]
        trees = HistGradientBoostingClassifier(max_iter=200, learning_rate=0.05, class_weight="balanced", random_state=seed)
        trees.fit(features[train], labels[train])
        row[f"boosted trees: {name}"] = metrics(labels[test], trees.predict_proba(features[test])[:, 1])["f1_macro"]
    rows.append(row)
    print(row, flush=True)
names = [k for k in rows[0] if k != "seed"]
lines = [f"colour_probe.py — VGG1D stage checkpoints of bench/results/bhb_denoise_5seeds, macro F1 on the test split, 5 seeds ({time.perf_counter() - started:.0f} s)",
         "| features | F1 macro | per seed |", "|---|---|---|"]
for name in names:
    values = np.array([row[name] for row in rows])
    lines.append(f"| {name} | {values.mean():.4f} ± {values.std(ddof=1):.4f} | {' '.join(f'{v:.3f}' for v in values)} |")
lines.append("")
for model in ("logistic", "boosted trees"):
    gain = np.array([row[f"{model}: logit + PSF colours"] - row[f"{model}: logit"] for row in rows])
    lines.append(f"paired gain of the colours ({model}): {gain.mean():+.4f} ± {gain.std(ddof=1):.4f}, > 0 on {(gain > 0).sum()} / 5 seeds")
best = np.array([row["boosted trees: logit + PSF colours"] - row["VGG1D (its own decision)"] for row in rows])
lines.append(f"boosted trees on logit + PSF colours − VGG1D: {best.mean():+.4f} ± {best.std(ddof=1):.4f}, > 0 on {(best > 0).sum()} / 5 seeds")
(here / "colour_probe.txt").write_text("\n".join(lines) + "\n")
print("\n".join(lines))
