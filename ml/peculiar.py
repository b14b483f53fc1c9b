"""Peculiar stars: what a disentangler cannot explain in a spectrum, and how isolated that is.

A star's *decoder residual* is its flux minus the decoder's drawing of it at its own latent and
parameters, flux − D(E(x, cp), cp): the part of the spectrum that neither its Teff and logg nor the
chemistry the latent shares with other stars account for. A single element out of line (a Mn- or
P-rich star) leaves a residual at that element's lines; noise and the model's misfit leave one
everywhere. :class:`ResidualBasis` puts residuals in units of each pixel's robust spread over the
catalog and keeps their first principal components, a few numbers per star.

The score is a local density ratio among those numbers (in the spirit of the local outlier factor,
Breunig et al. 2000):

    peculiarity_i = mean_k d(r_i, its k nearest) / mean over those neighbours j of mean_k d(r_j, its k nearest)

1 is a star as crowded as its neighbourhood; 2 is one whose neighbours are twice as far as theirs
are. Normalising by the neighbourhood keeps a star of a sparse but ordinary region (a rare Teff,
a thin part of the catalog) from outranking a truly peculiar one in a dense region.

The neighbour lists can come from anywhere: ``nearest_neighbours`` (an exact, batched search) or an
HNSW index. ``docs/research/peculiar.md`` measures the score against the alternatives.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

RESIDUAL_COMPONENTS = 25  # principal components of the residual kept per star


@dataclass
class ResidualBasis:
    """Residuals (n, P) → (n, C) numbers: each pixel divided by its robust spread, centred, projected
    on the first C principal components of a sample. Fitted once per model version."""

    scale: np.ndarray  # (P,) 1.4826 × median |residual − median| per pixel, normalised flux (floored)
    mean: np.ndarray  # (P,) mean scaled residual of the sample
    components: np.ndarray  # (C, P) orthonormal rows

    @classmethod
    def fit(cls, residuals: np.ndarray, n_components: int = RESIDUAL_COMPONENTS) -> "ResidualBasis":
        """From a sample of residuals (n, P), n ≥ 2; C = min(n_components, n − 1, P). NaN pixels
        count as zero residual."""
        residuals = np.nan_to_num(np.asarray(residuals, np.float32))
        if residuals.ndim != 2 or len(residuals) < 2:
            raise ValueError(f"a residual basis needs at least 2 residual spectra, not {len(residuals)}")
        median = np.median(residuals, axis=0)
        scale = (1.4826 * np.median(np.abs(residuals - median), axis=0) + 1e-4).astype(np.float32)
        scaled = residuals / scale
        mean = scaled.mean(axis=0, dtype=np.float64).astype(np.float32)
        scaled -= mean
        count = min(n_components, len(residuals) - 1, residuals.shape[1])
        # float32 throughout: 20,000 residuals of 7214 pixels are 0.6 GB a copy
        _, _, vt = np.linalg.svd(scaled, full_matrices=False)
        return cls(scale=scale, mean=mean, components=vt[:count].astype(np.float32))

    def project(self, residuals: np.ndarray) -> np.ndarray:
        """(n, P) residuals → (n, C) float32 coordinates."""
        scaled = np.nan_to_num(np.asarray(residuals, np.float32)) / self.scale - self.mean
        return scaled @ self.components.T


def nearest_neighbours(points: np.ndarray, k: int, batch: int = 512) -> tuple[np.ndarray, np.ndarray]:
    """Exact k nearest neighbours (L2) of each row among the other rows.

    points (n, d) → (distances (n, k) float64 ascending, indices (n, k)); a row is never its own
    neighbour (a duplicate row is, at distance 0). Memory: one (batch, n) float64 block at a time
    (512 × 100,000 rows: 400 MB); the block chooses the neighbours, whose distances are then
    computed directly. O(n²): for a million latents use the catalog's HNSW index instead."""
    import torch

    points = np.asarray(points, np.float64)
    n = len(points)
    if not 1 <= k < n:
        raise ValueError(f"k must be between 1 and n - 1 = {n - 1}, not {k}")
    # float64 and centred: cdist's |a|² + |b|² − 2ab would lose close neighbours to cancellation in
    # float32 (a tight group far from the origin)
    centred = points - points.mean(axis=0)
    every = torch.from_numpy(centred)
    distances = np.empty((n, k), np.float64)
    indices = np.empty((n, k), np.int64)
    for start in range(0, n, batch):
        stop = min(start + batch, n)
        block = torch.cdist(every[start:stop], every)
        rows = torch.arange(stop - start)
        block[rows, rows + start] = float("inf")  # not its own neighbour
        chosen = torch.topk(block, k, dim=1, largest=False).indices.numpy()
        # the k chosen distances again, exactly (float64, directly), and in that order
        exact = np.linalg.norm(centred[chosen] - centred[start:stop, None, :], axis=2)
        order = np.argsort(exact, axis=1, kind="stable")
        distances[start:stop] = np.take_along_axis(exact, order, axis=1)
        indices[start:stop] = np.take_along_axis(chosen, order, axis=1)
    return distances, indices


def peculiarity(distances: np.ndarray, indices: np.ndarray) -> np.ndarray:
    """The score above from neighbour lists: distances (n, k) and indices (n, k) into the same n
    rows → (n,) float64, ≥ 0 and finite. Exact duplicates among themselves score 1."""
    distances = np.asarray(distances, np.float64)
    spread = distances.mean(axis=1)
    around = spread[np.asarray(indices)].mean(axis=1)
    # A neighbourhood of duplicates (spread 0: latents collapsed onto one point) would make any star
    # beside it infinitely peculiar; its spread counts as at least a thousandth of the typical one.
    typical = np.median(spread[spread > 0]) if (spread > 0).any() else 0.0
    around = np.maximum(around, 1e-3 * typical)
    with np.errstate(divide="ignore", invalid="ignore"):
        score = np.where(around > 0, spread / around, 1.0)
    return score


def peculiarity_scores(points: np.ndarray, k: int = 20) -> np.ndarray:
    """``peculiarity`` of every row of points (n, d) with exact neighbours: (n,)."""
    return peculiarity(*nearest_neighbours(points, k))


def precision_at(scores: np.ndarray, truth: np.ndarray, k: int) -> float:
    """The fraction of the k highest-scored rows that are truly peculiar (truth (n,) bool)."""
    top = np.argsort(-np.asarray(scores), kind="stable")[:k]
    return float(np.asarray(truth, bool)[top].mean())


def strongest_features(wavelength: np.ndarray, difference: np.ndarray, lines: list[tuple[str, float]],
                       n: int = 5, tolerance_pixels: float = 1.5, sigma: np.ndarray | None = None) -> list[dict]:
    """The ``n`` strongest peaks of |difference| (or of |difference| / sigma, its significance,
    where ``sigma`` (P,) is given): a local extremum each, at least 3 pixels apart, each named after
    the nearest of ``lines`` ((label, Å)) within ``tolerance_pixels`` local pixel widths, else None:
    [{"wavelength" Å, "difference", "line", "line_wavelength" Å}], strongest first. wavelength,
    difference (P,)."""
    wavelength, difference = np.asarray(wavelength, float), np.asarray(difference, float)
    size = np.abs(np.nan_to_num(difference))
    if sigma is not None:
        sigma = np.asarray(sigma, float)
        size = np.where(np.isfinite(sigma) & (sigma > 0), size / np.where(sigma > 0, sigma, 1.0), 0.0)
    peaks = [i for i in range(len(size)) if size[i] > 0 and size[i] >= size[max(i - 1, 0)] and size[i] >= size[min(i + 1, len(size) - 1)]]
    chosen: list[int] = []
    for i in sorted(peaks, key=lambda i: -size[i]):
        if all(abs(i - j) >= 3 for j in chosen):
            chosen.append(i)
        if len(chosen) == n:
            break
    step = np.gradient(wavelength) if len(wavelength) > 1 else np.ones(1)
    features = []
    for i in chosen:
        near = min(lines, key=lambda line: abs(line[1] - wavelength[i]), default=None)
        named = near is not None and abs(near[1] - wavelength[i]) <= tolerance_pixels * abs(step[i])
        features.append({"wavelength": float(wavelength[i]), "difference": float(difference[i]),
                         "line": near[0] if named else None, "line_wavelength": float(near[1]) if named else None})
    return features
