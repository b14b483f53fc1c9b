"""Chemical groups: stars that share a chemistry, found by density clustering of their latents.

HDBSCAN (Campello et al. 2013; scikit-learn's ``sklearn.cluster.HDBSCAN``, so no extra package)
finds groups of any shape and size without being told how many, and leaves stars in no dense
region unassigned (label -1) instead of forcing them into a group; each member gets a membership
probability. ``min_cluster_size`` is the smallest group worth naming; ``min_samples`` (default:
the same) sets how conservative the density estimate is.

``group_recovery`` judges groups against the true chemical profiles of a synthetic grid with the
metrics of Price-Jones & Bovy (2019): a recovered group *matches* a profile when at least
``purity`` (70 %) of its members share it; *efficiency* is the fraction of groups that match one;
a matched profile's *completeness* is the fraction of its stars in its largest matching group.
Beside them, the fraction of profiles that some group matches: a few huge groups can be complete
for the profiles they match while matching almost none.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Groups:
    labels: np.ndarray  # (n,) int: group id 0, 1, …, or -1 for a star in no group
    probabilities: np.ndarray  # (n,) float in [0, 1]: strength of each star's membership (0 outside)

    @property
    def n_groups(self) -> int:
        return int(self.labels.max()) + 1 if len(self.labels) and self.labels.max() >= 0 else 0


def chemical_groups(latents: np.ndarray, min_cluster_size: int = 20, min_samples: int | None = None) -> Groups:
    """HDBSCAN groups of latents (n, d), L2 metric."""
    from sklearn.cluster import HDBSCAN

    latents = np.asarray(latents, np.float64)
    if len(latents) < max(2, min_cluster_size):
        return Groups(labels=np.full(len(latents), -1), probabilities=np.zeros(len(latents)))
    model = HDBSCAN(min_cluster_size=min_cluster_size, min_samples=min_samples, copy=True).fit(latents)
    return Groups(labels=model.labels_.astype(np.int64), probabilities=model.probabilities_.astype(np.float64))


def group_recovery(labels: np.ndarray, truth: np.ndarray, purity: float = 0.7) -> dict:
    """{"efficiency": fraction of recovered groups that are ≥ purity one true profile,
    "completeness": mean over the matched profiles of the fraction of their stars in their largest
    matching group (0 when none is matched), "matched": fraction of true profiles matched by some
    group, "n_groups", "n_profiles", "unassigned": fraction of stars in no group}.
    labels (n,) with -1 for none; truth (n,) profile ids."""
    labels, truth = np.asarray(labels), np.asarray(truth)
    found = [g for g in np.unique(labels) if g >= 0]
    matched: dict = {}  # profile → stars in its largest matching group
    efficient = 0
    for group in found:
        profiles, counts = np.unique(truth[labels == group], return_counts=True)
        if counts.max() / counts.sum() >= purity:
            efficient += 1
            profile = profiles[counts.argmax()]
            matched[profile] = max(matched.get(profile, 0), int(counts.max()))
    sizes = dict(zip(*np.unique(truth, return_counts=True)))
    completeness = [matched[profile] / sizes[profile] for profile in matched]
    return {"efficiency": efficient / len(found) if found else 0.0,
            "completeness": float(np.mean(completeness)) if completeness else 0.0,
            "matched": len(matched) / len(sizes) if sizes else 0.0,
            "n_groups": len(found), "n_profiles": len(sizes), "unassigned": float(np.mean(labels < 0))}

