"""Near-twin metrics: how well Euclidean distance in a representation finds stars of the same
chemical profile (``groups``: the profile id of a synthetic grid)."""
from __future__ import annotations

import numpy as np
import torch


def _row_distances(features: torch.Tensor, first: torch.Tensor, second: torch.Tensor, chunk: int) -> torch.Tensor:
    """‖features[first[i]] − features[second[i]]‖ for every i, ``chunk`` pairs at a time: on raw
    spectra (7214 pixels) 200,000 pairs at once would be a 5.8 GB difference array."""
    return torch.cat([(features[first[start : start + chunk]] - features[second[start : start + chunk]]).norm(dim=1)
                      for start in range(0, len(first), chunk)] or [torch.zeros(0)])


def twin_metrics(features: np.ndarray, groups: np.ndarray, n_pairs: int = 200_000, seed: int = 0,
                 chunk: int = 2048) -> dict[str, float]:
    """How well Euclidean distance in ``features`` finds chemical twins.

    For every star with at least one twin: rank = the number of non-twins at most as far as its
    nearest true twin (ties count against the representation, so a constant latent ranks every
    twin last, not first). Reports recall@1 (rank 0), recall@10 (rank < 10), the median and mean
    rank, and the pairwise AUC = P(d(star, random twin) < d(star, random non-twin)).
    """
    features = torch.as_tensor(np.asarray(features, dtype=np.float32))
    groups = torch.as_tensor(np.asarray(groups))
    n = len(features)
    ranks = []
    for start in range(0, n, chunk):
        block = features[start : start + chunk]
        distance = torch.cdist(block, features)  # (b, N)
        rows = torch.arange(len(block))
        distance[rows, start + rows] = float("inf")  # not its own twin
        same = groups[start : start + chunk, None] == groups[None, :]
        same[rows, start + rows] = False
        has_twin = same.any(dim=1)
        nearest_twin = torch.where(same, distance, torch.full_like(distance, float("inf"))).min(dim=1).values
        closer = ((distance <= nearest_twin[:, None]) & ~same).sum(dim=1)
        ranks.append(closer[has_twin])
    rank = torch.cat(ranks).double()
    if len(rank) == 0:
        raise ValueError("no star has a twin in this set")
    # Pairwise AUC from random (star, twin, non-twin) triples.
    generator = torch.Generator().manual_seed(seed)
    order = torch.argsort(groups)
    sorted_groups = groups[order]
    first = torch.searchsorted(sorted_groups, sorted_groups, right=False)
    last = torch.searchsorted(sorted_groups, sorted_groups, right=True)
    anchor_pos = torch.randint(0, n, (n_pairs,), generator=generator)
    size = last[anchor_pos] - first[anchor_pos]
    valid = size > 1
    anchor_pos, size = anchor_pos[valid], size[valid]
    offset = (torch.rand(len(anchor_pos), generator=generator) * (size - 1)).long()
    twin_pos = first[anchor_pos] + offset
    twin_pos = twin_pos + (twin_pos >= anchor_pos).long()  # skip the anchor itself
    other = torch.randint(0, n, (len(anchor_pos),), generator=generator)
    keep = groups[order[other]] != sorted_groups[anchor_pos]
    anchor, twin, other = order[anchor_pos][keep], order[twin_pos][keep], order[other][keep]
    d_twin, d_other = _row_distances(features, anchor, twin, chunk), _row_distances(features, anchor, other, chunk)
    auc = float(((d_twin < d_other).double() + 0.5 * (d_twin == d_other).double()).mean())
    return {"recall_at_1": float((rank == 0).double().mean()), "recall_at_10": float((rank < 10).double().mean()),
            "median_rank": float(rank.median()), "mean_rank": float(rank.mean()), "pairwise_auc": auc,
            "n_stars": int(len(rank))}


# ----------------------------------------------------------------------------- far twins

FAR_TEFF_K = 800.0  # a far twin differs by at least this much in Teff ...
FAR_LOGG_DEX = 1.0  # ... or at least this much in logg


def far_twins(teff: np.ndarray, logg: np.ndarray, groups: np.ndarray, seed: int = 0,
              min_teff: float = FAR_TEFF_K, min_logg: float = FAR_LOGG_DEX) -> np.ndarray:
    """Each star's far twin: a star of the same profile at ≥ ``min_teff`` K in Teff or ≥ ``min_logg``
    dex in logg away, drawn at random with ``seed``. teff (N,) K, logg (N,) dex, groups (N,) →
    (N,) row indices, −1 where the star has no such twin."""
    teff, logg, groups = np.asarray(teff, np.float64), np.asarray(logg, np.float64), np.asarray(groups)
    rng = np.random.default_rng(seed)
    far = np.full(len(groups), -1, dtype=np.int64)
    for group in np.unique(groups):
        members = np.flatnonzero(groups == group)
        apart = ((np.abs(teff[members, None] - teff[None, members]) >= min_teff)
                 | (np.abs(logg[members, None] - logg[None, members]) >= min_logg))  # (m, m), False on the diagonal
        for row, choices in zip(members, apart):
            if choices.any():
                far[row] = rng.choice(members[choices])
    return far


def far_twin_metrics(features: np.ndarray, groups: np.ndarray, far: np.ndarray, chunk: int = 2048) -> dict[str, float]:
    """How well distance in ``features`` (N, D) finds each star's far twin (``far``, from
    :func:`far_twins`; −1 = none).

    A star's rank is the number of other-profile stars at most as far from it as its far twin (ties
    count against the representation, so a constant latent ranks every twin last). Reports far
    recall@1 (rank 0), far recall@10 (rank < 10), the median rank, the far AUC = 1 − mean of rank /
    number of other-profile stars (0.5 for a random representation, 1 when the far twin is always
    nearer than every other profile), and how many stars have a far twin."""
    features = torch.as_tensor(np.asarray(features, dtype=np.float32))
    groups_t, far_t = torch.as_tensor(np.asarray(groups)), torch.as_tensor(np.asarray(far))
    stars = torch.nonzero(far_t >= 0).flatten()
    if len(stars) == 0:
        raise ValueError("no star has a far twin in this set (none ≥ 800 K or ≥ 1 dex apart within a profile)")
    ranks, fractions = [], []
    for start in range(0, len(stars), chunk):
        rows = stars[start : start + chunk]
        distance = torch.cdist(features[rows], features)  # (b, N)
        to_twin = distance.gather(1, far_t[rows, None])  # (b, 1)
        other = groups_t[None, :] != groups_t[rows, None]  # (b, N)
        rank = ((distance <= to_twin) & other).sum(dim=1).double()
        ranks.append(rank)
        fractions.append(rank / other.sum(dim=1).clamp_min(1).double())
    rank, fraction = torch.cat(ranks), torch.cat(fractions)
    return {"far_recall_at_1": float((rank == 0).double().mean()), "far_recall_at_10": float((rank < 10).double().mean()),
            "far_median_rank": float(rank.median()), "far_auc": float(1.0 - fraction.mean()),
            "far_n_stars": int(len(rank)), "far_coverage": float(len(rank) / len(far_t))}
