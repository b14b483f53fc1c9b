"""Peculiar stars: how isolated a star's latent is, measured against its own neighbourhood.

In a latent space that no longer carries Teff and logg, a star whose chemistry nobody shares sits
far from its neighbours, farther than they sit from theirs. The score is a local density ratio (in
the spirit of the local outlier factor, Breunig et al. 2000):

    peculiarity_i = mean_k d(z_i, its k nearest) / mean over those neighbours j of mean_k d(z_j, its k nearest)

1 is a star as crowded as its neighbourhood; 2 is one whose neighbours are twice as far as theirs
are. Normalising by the neighbourhood keeps a star of a sparse but ordinary region (a rare Teff,
a thin part of the catalog) from outranking a truly peculiar one in a dense region.

The neighbour lists can come from anywhere: ``nearest_neighbours`` (an exact, batched search) or
the catalog's HNSW index.
"""
from __future__ import annotations

import numpy as np


def nearest_neighbours(latents: np.ndarray, k: int, batch: int = 512) -> tuple[np.ndarray, np.ndarray]:
    """Exact k nearest neighbours (L2) of each row among the other rows.

    latents (n, d) → (distances (n, k) float64 ascending, indices (n, k)); a row is never its own
    neighbour (a duplicate row is, at distance 0). Memory: one (batch, n) float64 block at a time
    (512 × 100,000 rows: 400 MB); the block chooses the neighbours, whose distances are then
    computed directly. O(n²): for a million latents use the catalog's HNSW index instead."""
    import torch

    latents = np.asarray(latents, np.float64)
    n = len(latents)
    if not 1 <= k < n:
        raise ValueError(f"k must be between 1 and n - 1 = {n - 1}, not {k}")
    # float64 and centred: cdist's |a|² + |b|² − 2ab would lose close neighbours to cancellation in
    # float32 (a tight group far from the origin)
    centred = latents - latents.mean(axis=0)
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


def peculiarity_scores(latents: np.ndarray, k: int = 20) -> np.ndarray:
    """``peculiarity`` of every row of latents (n, d) with exact neighbours: (n,)."""
    return peculiarity(*nearest_neighbours(latents, k))


def precision_at(scores: np.ndarray, truth: np.ndarray, k: int) -> float:
    """The fraction of the k highest-scored rows that are truly peculiar (truth (n,) bool)."""
    top = np.argsort(-np.asarray(scores), kind="stable")[:k]
    return float(np.asarray(truth, bool)[top].mean())


def strongest_features(wavelength: np.ndarray, difference: np.ndarray, lines: list[tuple[str, float]],
                       n: int = 5, tolerance_pixels: float = 1.5) -> list[dict]:
    """The ``n`` largest |difference| peaks (a local extremum each, at least 3 pixels apart), each
    named after the nearest of ``lines`` ((label, Å)) within ``tolerance_pixels`` local pixel
    widths, else None: [{"wavelength" Å, "difference", "line", "line_wavelength" Å}], strongest
    first. wavelength, difference (P,)."""
    wavelength, difference = np.asarray(wavelength, float), np.asarray(difference, float)
    size = np.abs(np.nan_to_num(difference))
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
