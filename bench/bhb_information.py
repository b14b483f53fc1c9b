"""How much each modality of the generated BHB set can tell, before any neural network.

    python bench/bhb_information.py [--n-bhb 4985] [--n-other 3128] [--seeds 5]

A gradient-boosted tree classifier (class-balanced) on a few physical features per star, on the
same 70/20/10 splits and seeds as ``python -m ml.experiments.bhb``; macro F1 on the test split,
mean ± sample σ over seeds. Two kinds of features:

- **true**: the generator's own parameters, noise-free (Balmer-line shape D0.2, fm, c, b; the
  colours u−g, g−r and g). These are ceilings: no model can read more from that modality.
- **measured**: what a classical pipeline gets from the noisy data, with no training of features:
  Sérsic fits of Hδ/Hγ on the spectra (``ml.balmer``) and forced PSF photometry of the cutouts
  (``ml.photometry``).

If the image-only network scores well below "measured colours", the image encoder, not the data,
is what limits the fusion.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _django import print_table  # noqa: E402

from ml.balmer import measure  # noqa: E402
from ml.data import split_indices  # noqa: E402
from ml.photometry import magnitudes, psf_flux  # noqa: E402
from ml.synth.bhb import PSF_FWHM, bhb_sample  # noqa: E402


def feature_sets(sample) -> dict[str, tuple[str, np.ndarray]]:
    """name → (modality, features (N, k))."""
    true_lines = np.c_[sample.d02, sample.fm, sample.c, sample.b]
    true_colours = np.c_[sample.u_g, sample.g_r, sample.g_mag]
    fits = [measure(sample.wavelength, flux, error) for flux, error in zip(sample.flux, sample.error)]
    measured_lines = np.array([[m.d02, m.fm, m.c, m.b] for m in fits])
    mags = magnitudes(psf_flux(sample.images, PSF_FWHM))
    measured_colours = np.c_[mags[:, 0] - mags[:, 1], mags[:, 1] - mags[:, 2], mags[:, 1]]
    return {
        "true Balmer lines (D0.2, fm, c, b)": ("spectrum", true_lines),
        "true colours (u−g, g−r, g)": ("image", true_colours),
        "true lines + true colours": ("both", np.c_[true_lines, true_colours]),
        "measured Sérsic fits": ("spectrum", measured_lines),
        "measured PSF colours": ("image", measured_colours),
        "measured fits + PSF colours": ("both", np.c_[measured_lines, measured_colours]),
    }


def macro_f1(features: np.ndarray, labels: np.ndarray, seeds: list[int]) -> list[float]:
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.metrics import f1_score

    scores = []
    for seed in seeds:
        split = split_indices(len(labels), 0.2, 0.1, seed)
        train = split["train"]  # as the SVM and XGBoost baselines
        classifier = HistGradientBoostingClassifier(class_weight="balanced", random_state=seed)
        classifier.fit(features[train], labels[train])
        scores.append(f1_score(labels[split["test"]], classifier.predict(features[split["test"]]), average="macro"))
    return scores


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-bhb", type=int, default=4985)
    parser.add_argument("--n-other", type=int, default=3128)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--data-seed", type=int, default=0)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    sample = bhb_sample(args.n_bhb, args.n_other, np.random.default_rng(args.data_seed))
    labels = sample.is_bhb.astype(int)
    rows = []
    for name, (modality, features) in feature_sets(sample).items():
        scores = macro_f1(features, labels, list(range(args.seeds)))
        rows.append([name, modality, f"{np.mean(scores):.3f} ± {np.std(scores, ddof=1):.3f}"])
    title = (f"bench/bhb_information.py — {len(labels)} generated stars ({labels.sum()} BHB), gradient-boosted trees, "
             f"macro F1 on the test split over {args.seeds} seeds ({time.perf_counter() - started:.0f} s)")
    return print_table(title, ["features", "modality", "F1 (macro)"], rows)


if __name__ == "__main__":
    main()
