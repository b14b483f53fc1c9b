"""How far can any twin search get on the generated APOGEE-like grid? A ceiling for the
disentangler's twin target (issue #4: mdAT recall@1 at least twice PolyDis's at S/N 50).

    python -m research.twin_ceiling [--profiles 200] [--snr 50] [--skip-noiseless] [--model mdAT.pt ...]

The chemical profiles are cut in two halves, A and B, at random. Every row is scored on the same
stars: the test split's stars of profile half B (their twins are other such stars). Rows:

* **X**, **PolyDis** and **PolyDis (whitened)**: the baselines of ``research.experiments.disentangle``,
  fitted on the training split (all profiles; they use no chemistry labels).
* **Supervised Mahalanobis** and **supervised LDA (25)**: a linear twin metric *learned from
  twin labels*, on the training stars of profile half A only, so the test profiles are new to it.
  The PolyDis residuals (100 principal components) are whitened by the scatter of stars about
  their own profile's mean (within-profile covariance, ridge 1e-3 of its mean eigenvalue); LDA
  keeps the 25 directions that best separate profiles. This is the best a linear map of the
  spectrum can do when it is *told* which stars are twins; an unsupervised model such as the
  disentangler has less to go on.
* the same two PolyDis rows on **noiseless** spectra (S/N ∞, the same stars): what the noise
  costs.

With ``--model`` (a disentangler saved by ``python -m research.experiments.disentangle`` on the same
grid, e.g. ``OUT/mdAT.pt``), its latent gets the same rows: z as it is, and z under the supervised
Mahalanobis metric (does z still hold the twins, only weighted wrongly?). A second table then gives
the generation errors of ``research.experiments.disentangle.generation_table`` on the whole test split:
how far D(z_a, cp_b) lands from twin b's spectrum, against the size of the chemical signal.

The split of stars is the disentangler's (``split_indices``, 80/10/10, seed 0), so the subset
scored here is half of the experiment's test stars; with half the distractors, recall is higher
than in the experiment's table, so compare rows with each other, not with that table.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.decomposition import PCA

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

from _django import print_table  # noqa: E402
from ml.data import split_indices  # noqa: E402
from ml.disentangler import TrainedDisentangler  # noqa: E402
from ml.evaluate import PolyDis, PolynomialResidual, twin_metrics  # noqa: E402
from research.experiments.disentangle import generation_table  # noqa: E402
from ml.synth.gridbuilder import GridSpec, build_grid  # noqa: E402
from ml.synth.stellar import StellarSpectrumModel  # noqa: E402


def supervised_metric(residual_train: np.ndarray, groups: np.ndarray, n_lda: int | None = None,
                      ridge: float = 1e-3) -> np.ndarray:
    """A linear map (D, k) that whitens the within-profile scatter of ``residual_train`` (N, D),
    grouped by ``groups`` (N,); with ``n_lda`` only the k = n_lda directions of largest
    between-profile variance in that whitened space are kept (Fisher's LDA)."""
    means = {g: residual_train[groups == g].mean(axis=0) for g in np.unique(groups)}
    within = residual_train - np.stack([means[g] for g in groups])
    covariance = within.T @ within / len(within)
    values, vectors = np.linalg.eigh(covariance)
    values = values + ridge * values.mean()
    whiten = vectors / np.sqrt(values)[None, :]  # (D, D): within-profile scatter → identity
    if n_lda is None:
        return whiten
    centres = np.stack(list(means.values())) @ whiten
    centres -= centres.mean(axis=0)
    _, _, directions = np.linalg.svd(centres, full_matrices=False)
    return whiten @ directions[:n_lda].T


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profiles", type=int, default=200)
    parser.add_argument("--snr", type=float, default=50.0)
    parser.add_argument("--components", type=int, default=100, help="PolyDis components the supervised metric reads")
    parser.add_argument("--skip-noiseless", action="store_true")
    parser.add_argument("--model", action="append", default=[], help="a saved disentangler (.pt) trained on this grid")
    args = parser.parse_args(argv)
    model = StellarSpectrumModel("apogee")
    trainers = {}
    for path in args.model:  # checked before the grid is built (minutes)
        try:
            trainer = TrainedDisentangler.load(path, device="cpu")
        except Exception as problem:  # a missing file or not a disentangler artifact
            parser.error(f"--model {path}: cannot load a disentangler ({problem})")
        if tuple(trainer.config.conditional) != ("teff", "logg"):
            parser.error(f"--model {path}: conditioned on {', '.join(trainer.config.conditional)}, not Teff and logg")
        if trainer.model.n_pixels != len(model.wavelength):
            parser.error(f"--model {path}: trained on spectra of another length than the grid's {len(model.wavelength)} pixels")
        decoder = "" if trainer.config.decoder == "joint" else f", {trainer.config.decoder} decoder"
        name = f"{trainer.config.variant}{decoder} ({Path(path).parent.name}/{Path(path).name})"
        if name in trainers:
            parser.error(f"--model {path}: given twice")
        trainers[name] = trainer
    started = time.perf_counter()
    grid = build_grid(GridSpec(band="apogee", n_profiles=args.profiles, snr=args.snr, seed=0), model, batch_size=512)
    parameters = np.stack([grid.labels["teff"], grid.labels["logg"]], axis=1)
    split = split_indices(len(grid.group), 0.1, 0.1, 0)
    train, test = split["train"], split["test"]
    half_a = np.random.default_rng(1).permutation(args.profiles)[: args.profiles // 2]
    in_a = np.isin(grid.group, half_a)
    train_a, test_b = train[in_a[train]], test[~in_a[test]]
    groups_b = grid.group[test_b]

    rows: list[list[str]] = []

    def score(name: str, features: np.ndarray) -> None:
        result = twin_metrics(features, groups_b)
        rows.append([name, f"{result['recall_at_1']:.3f}", f"{result['recall_at_10']:.3f}",
                     f"{result['median_rank']:.0f}", f"{result['pairwise_auc']:.3f}"])
        print(f"  {name}: recall@1 {result['recall_at_1']:.3f} ({time.perf_counter() - started:.0f} s)", flush=True)

    score("X", grid.flux[test_b])
    for label, whiten in (("PolyDis", False), ("PolyDis (whitened)", True)):
        polydis = PolyDis(whiten=whiten).fit(grid.flux[train], parameters[train])
        score(label, polydis.transform(grid.flux[test_b], parameters[test_b]))
    residual = PolynomialResidual().fit(grid.flux[train], parameters[train])
    pca = PCA(n_components=args.components, random_state=0).fit(residual.transform(grid.flux[train], parameters[train]))
    components_a = pca.transform(residual.transform(grid.flux[train_a], parameters[train_a]))
    components_b = pca.transform(residual.transform(grid.flux[test_b], parameters[test_b]))
    for label, n_lda in (("supervised Mahalanobis (profiles A → B)", None), ("supervised LDA 25 (profiles A → B)", 25)):
        projection = supervised_metric(components_a, grid.group[train_a], n_lda)
        score(label, (components_b @ projection).astype(np.float32))
    for name, trainer in trainers.items():
        train_z, test_z = trainer.encode(grid.flux[train_a], parameters[train_a]), trainer.encode(grid.flux[test_b], parameters[test_b])
        score(f"z, {name}", test_z)
        projection = supervised_metric(train_z.astype(np.float64), grid.group[train_a])
        score(f"z, {name}, supervised Mahalanobis (A → B)", (test_z @ projection).astype(np.float32))
    if not args.skip_noiseless:
        clean = build_grid(GridSpec(band="apogee", n_profiles=args.profiles, snr=None, seed=0), model, batch_size=512)
        assert np.array_equal(clean.group, grid.group)
        for label, whiten in (("PolyDis, noiseless", False), ("PolyDis (whitened), noiseless", True)):
            polydis = PolyDis(whiten=whiten).fit(clean.flux[train], parameters[train])
            score(label, polydis.transform(clean.flux[test_b], parameters[test_b]))
    print_table(f"research/twin_ceiling.py — APOGEE-like grid, {args.profiles} profiles, S/N {args.snr:g}; {len(test_b)} test "
                f"stars of {args.profiles - len(half_a)} unseen profiles ({time.perf_counter() - started:.0f} s)",
                ["representation", "recall@1", "recall@10", "median rank", "AUC"], rows)
    if trainers:
        latents = {name: trainer.encode(grid.flux, parameters) for name, trainer in trainers.items()}
        generation = generation_table(grid.flux, grid.error, parameters, grid.group, latents, trainers, train, test)
        print()
        print_table(f"Generation: twin b's spectrum guessed from star a alone ({len(test)} test stars, 3,000 twin pairs); "
                    "RMS in flux units, noise removed", ["prediction of x_b", "RMS"],
                    [[name, f"{value:.4f}"] for name, value in generation.items()])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
