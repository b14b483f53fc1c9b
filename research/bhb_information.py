"""How much each modality of the generated BHB set can tell, before any neural network.

    python -m research.bhb_information [--n-bhb 4985] [--n-other 3128] [--seeds 5] [--svm] [--segments]
                                    [--components K]

A gradient-boosted tree classifier (class-balanced) on a few physical features per star, on the
same 70/20/10 splits and seeds as ``python -m research.experiments.bhb``; macro F1 on the test split,
mean ± sample σ over seeds. Two kinds of features:

- **true**: the generator's own parameters, noise-free (Balmer-line shape D0.2, fm, c, b; the
  colours u−g, g−r and g). These are ceilings: no model can read more from that modality.
- **measured**: what a classical pipeline gets from the noisy data, with no training of features:
  Sérsic fits of Hδ/Hγ on the spectra (``ml.balmer``) and forced PSF photometry of the cutouts
  (``ml.photometry``).

If the image-only network scores well below "measured colours", the image encoder, not the data,
is what limits the fusion.

With ``--svm`` two more rows ask what the cutouts add to the *whole* spectrum, not to a few line
measurements: the SVM baseline of ``python -m research.experiments.bhb`` (RBF, C = 10, on the min–max
normalised spectra) and the same SVM with the measured PSF colours appended. The colours are
standardised on the training split and scaled so that, together, they spread as much as the
3522 spectrum pixels (their summed variances match), or the RBF kernel would not see them. The gap
between the two rows is what any multimodal model can hope to add over the best spectrum-only
baseline. It takes about 2 min per fit on one core.

With ``--segments`` the same SVM gets a kernel that, like VGG1D with a linear head, cannot combine
evidence across the 7 segments the spectrum branch cuts the spectrum into: the mean of one RBF kernel
per segment (each with scikit-learn's "scale" width on its own 503 pixels) instead of one RBF kernel
over all pixels, which is their product. The gap between this row and the baseline is what
cross-segment interactions are worth (docs/research/bhb.md).

With ``--components K`` four rows ask how much of the spectrum's information survives projecting
each segment onto its K leading principal components (fitted on the training split; what
``ml.batmm.SegmentDenoiser`` does before VGG1D): logistic regression on the standardised pixels,
then logistic regression, a one-hidden-layer MLP (256 units) and the RBF SVM on the 7·K
standardised component scores (docs/research/bhb.md).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
from _django import print_table  # noqa: E402

from ml.balmer import measure  # noqa: E402
from ml.batmm import minmax_normalise  # noqa: E402
from research.bhb_baselines import svm_scores  # noqa: E402
from ml.data import split_indices  # noqa: E402
from ml.photometry import magnitudes, psf_flux  # noqa: E402
from ml.synth.bhb import PSF_FWHM, bhb_sample  # noqa: E402


def colour_features(sample) -> np.ndarray:
    """u−g, g−r and g from forced PSF photometry of the cutouts at the generator's own PSF width, (N, 3)
    mag (``ml.photometry.psf_colours`` gives the five the image encoder regresses, at a typical width)."""
    mags = magnitudes(psf_flux(sample.images, PSF_FWHM))
    return np.c_[mags[:, 0] - mags[:, 1], mags[:, 1] - mags[:, 2], mags[:, 1]]


def feature_sets(sample) -> dict[str, tuple[str, np.ndarray]]:
    """name → (modality, features (N, k))."""
    true_lines = np.c_[sample.d02, sample.fm, sample.c, sample.b]
    true_colours = np.c_[sample.u_g, sample.g_r, sample.g_mag]
    fits = [measure(sample.wavelength, flux, error) for flux, error in zip(sample.flux, sample.error)]
    measured_lines = np.array([[m.d02, m.fm, m.c, m.b] for m in fits])
    measured_colours = colour_features(sample)
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


def normalised_spectra(sample) -> np.ndarray:
    """The sample's spectra min–max normalised per star, as the SVM baseline reads them: (N, P)."""
    import torch

    return minmax_normalise(torch.as_tensor(np.asarray(sample.flux, np.float32))).numpy()


def with_colours(spectra: np.ndarray, colours: np.ndarray, train: np.ndarray) -> np.ndarray:
    """spectra (N, P) min–max normalised, colours (N, k) → (N, P + k): the colours standardised on
    ``train`` and scaled so that their summed variance matches the spectra's."""
    colours = (colours - colours[train].mean(0)) / colours[train].std(0)
    weight = np.sqrt(spectra[train].var(0).sum() / colours.shape[1])
    return np.c_[spectra, weight * colours].astype(np.float32)


def svm_f1(sample, labels: np.ndarray, seeds: list[int], colours: bool = True) -> dict[str, list[float]]:
    """Macro F1 of the SVM on the spectra alone and (with ``colours``) with the PSF colours, per seed."""
    from sklearn.metrics import f1_score

    spectra = normalised_spectra(sample)
    measured = colour_features(sample) if colours else None
    scores = {"SVM on the spectra (the baseline)": [], **({"SVM on the spectra + PSF colours": []} if colours else {})}
    for seed in seeds:
        split = split_indices(len(labels), 0.2, 0.1, seed)
        test = labels[split["test"]]
        variants = [spectra] + ([with_colours(spectra, measured, split["train"])] if colours else [])
        for name, features in zip(scores, variants):
            predicted = (svm_scores(features, labels, split, seed) >= 0.5).astype(int)
            scores[name].append(f1_score(test, predicted, average="macro"))
    return scores


def segment_kernel(a: np.ndarray, b: np.ndarray, train: np.ndarray) -> np.ndarray:
    """The mean of one RBF kernel per spectral segment: a (N, P), b (M, P) → (N, M). Each segment's
    width is scikit-learn's "scale" (1 / (pixels · variance)) on the spectra of ``train``."""
    from sklearn.metrics.pairwise import rbf_kernel

    from ml.batmm import N_SEGMENTS, SEGMENT_PIXELS

    total = np.zeros((len(a), len(b)))
    for k in range(N_SEGMENTS):
        pixels = slice(k * SEGMENT_PIXELS, (k + 1) * SEGMENT_PIXELS)
        total += rbf_kernel(a[:, pixels], b[:, pixels], gamma=1.0 / (SEGMENT_PIXELS * train[:, pixels].var()))
    return total / N_SEGMENTS


def segment_svm_f1(sample, labels: np.ndarray, seeds: list[int]) -> list[float]:
    """Macro F1 of the SVM baseline (C = 10, class-balanced) with ``segment_kernel``, per seed."""
    from sklearn.metrics import f1_score
    from sklearn.svm import SVC

    spectra = normalised_spectra(sample)
    scores = []
    for seed in seeds:
        split = split_indices(len(labels), 0.2, 0.1, seed)
        train, test = spectra[split["train"]], spectra[split["test"]]
        svm = SVC(kernel="precomputed", C=10.0, class_weight="balanced", random_state=seed)
        svm.fit(segment_kernel(train, train, train), labels[split["train"]])
        predicted = (svm.decision_function(segment_kernel(test, train, train)) >= 0).astype(int)
        scores.append(f1_score(labels[split["test"]], predicted, average="macro"))
    return scores


def component_scores(spectra: np.ndarray, train: np.ndarray, components: int) -> np.ndarray:
    """spectra (N, P) min–max normalised → (N, 7·components): each segment's scores on its leading
    principal components (fitted on ``train``), standardised on ``train``."""
    from sklearn.decomposition import PCA

    from ml.batmm import N_SEGMENTS, SEGMENT_PIXELS

    scores = []
    for k in range(N_SEGMENTS):
        segment = spectra[:, k * SEGMENT_PIXELS : (k + 1) * SEGMENT_PIXELS]
        scores.append(PCA(components, random_state=0).fit(segment[train]).transform(segment))
    scores = np.hstack(scores)
    return (scores - scores[train].mean(0)) / scores[train].std(0)


def component_f1(sample, labels: np.ndarray, seeds: list[int], components: int) -> dict[str, list[float]]:
    """Macro F1 per seed of linear, MLP and SVM classifiers on pixels or component scores."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import f1_score
    from sklearn.neural_network import MLPClassifier

    spectra = normalised_spectra(sample)
    names = ["logistic regression on the pixels", f"logistic regression on {components} components per segment",
             f"MLP on {components} components per segment", f"SVM on {components} components per segment"]
    scores = {name: [] for name in names}
    for seed in seeds:
        split = split_indices(len(labels), 0.2, 0.1, seed)
        train, test = split["train"], split["test"]
        pixels = (spectra - spectra[train].mean(0)) / np.maximum(spectra[train].std(0), 1e-6)
        reduced = component_scores(spectra, train, components)
        models = [(LogisticRegression(C=0.001, max_iter=2000, class_weight="balanced"), pixels),
                  (LogisticRegression(max_iter=2000, class_weight="balanced"), reduced),
                  (MLPClassifier((256,), alpha=1e-2, max_iter=500, early_stopping=True, random_state=seed), reduced)]
        for name, (model, features) in zip(names, models):
            model.fit(features[train], labels[train])
            scores[name].append(f1_score(labels[test], model.predict(features[test]), average="macro"))
        predicted = (svm_scores(reduced, labels, split, seed) >= 0.5).astype(int)
        scores[names[3]].append(f1_score(labels[test], predicted, average="macro"))
    return scores


def _mean_std(scores: list[float]) -> str:
    """mean ± sample σ (σ 0 for a single seed)."""
    return f"{np.mean(scores):.3f} ± {np.std(scores, ddof=1) if len(scores) > 1 else 0.0:.3f}"


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-bhb", type=int, default=4985)
    parser.add_argument("--n-other", type=int, default=3128)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--data-seed", type=int, default=0)
    parser.add_argument("--svm", action="store_true", help="add the SVM rows: whole spectra, with and without colours")
    parser.add_argument("--components", type=int, default=0,
                        help="add classifiers on this many principal components per segment (and on the pixels)")
    parser.add_argument("--segments", action="store_true",
                        help="add the SVM whose kernel cannot combine segments (a mean of per-segment kernels)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    sample = bhb_sample(args.n_bhb, args.n_other, np.random.default_rng(args.data_seed))
    labels = sample.is_bhb.astype(int)
    rows = []
    for name, (modality, features) in feature_sets(sample).items():
        scores = macro_f1(features, labels, list(range(args.seeds)))
        rows.append([name, modality, _mean_std(scores)])
    seeds = list(range(args.seeds))
    if args.svm or args.segments:
        for name, scores in svm_f1(sample, labels, seeds, colours=args.svm).items():
            rows.append([name, "spectrum" if "+" not in name else "both", _mean_std(scores)])
    if args.segments:
        rows.append(["SVM, per-segment kernels averaged", "spectrum", _mean_std(segment_svm_f1(sample, labels, seeds))])
    if args.components:
        for name, scores in component_f1(sample, labels, seeds, args.components).items():
            rows.append([name, "spectrum", _mean_std(scores)])
    title = (f"research/bhb_information.py — {len(labels)} generated stars ({labels.sum()} BHB), gradient-boosted trees"
             f"{' and SVMs' if args.svm or args.segments else ''}{', linear models and MLPs' if args.components else ''}, "
             f"macro F1 on the test split over {args.seeds} seeds ({time.perf_counter() - started:.0f} s)")
    return print_table(title, ["features", "modality", "F1 (macro)"], rows)


if __name__ == "__main__":
    main()
