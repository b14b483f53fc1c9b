"""Do the chemical groups recover the true chemical profiles?

    python bench/groups.py [--work bench/out/injected] [--minutes 20] [--only analytic|payne]

On the grids of ``bench/peculiar.py`` (``bench/_injected.py``: 72 analytic or 116 Payne profiles,
each observed across the whole Teff–logg grid, S/N ∞ and 50), the catalog's clustering — HDBSCAN,
min_cluster_size 20 (``ml.groups``, ``catalog.services.peculiar.GROUP_MIN_SIZE``) — runs on the
twins preset's latent z, on PolyDis residuals and on the spectra X (their first 25 principal
components), beside the baseline of
Price-Jones & Bovy (2019): DBSCAN on PolyDis residuals. DBSCAN needs a radius: it is swept over the
10th–90th percentiles of the distance to each star's 20th neighbour, and the best by efficiency ×
completeness × matched *on the truth* is reported, which flatters the baseline.

The metrics are theirs (``ml.groups.group_recovery``): a group *matches* a profile when ≥ 70 % of
its members share it; efficiency = the fraction of groups found that match one; completeness = the
mean over matched profiles of the fraction of their stars in their largest matching group; matched
= the fraction of profiles some group matches. The product's HDBSCAN keeps the most persistent
clusters (``eom``); the ``leaf`` row shows the finest ones instead. Every star is clustered; the
injected peculiar stars (no profile) are left out of the scoring.
"""
from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import numpy as np
from _django import print_table
from _injected import GENERATORS, ROOT, add_arguments, prepare
from sklearn.cluster import DBSCAN, HDBSCAN
from sklearn.decomposition import PCA

from ml.groups import chemical_groups, group_recovery
from ml.peculiar import nearest_neighbours

MIN_SIZE = 20  # catalog.services.peculiar.GROUP_MIN_SIZE


def _merit(recovery: dict) -> float:
    return recovery["efficiency"] * recovery["completeness"] * recovery["matched"]


def best_dbscan(features: np.ndarray, truth: np.ndarray, scored: np.ndarray) -> tuple[dict, float]:
    """DBSCAN (min_samples = MIN_SIZE) at the radius, among nine percentiles of the 20th-neighbour
    distance, whose groups score best on the truth (efficiency × completeness × matched):
    (recovery, radius)."""
    distances, _ = nearest_neighbours(features, MIN_SIZE)
    best, best_eps = None, math.nan
    for eps in np.percentile(distances[:, -1], np.arange(10, 100, 10)):
        labels = DBSCAN(eps=float(eps), min_samples=MIN_SIZE).fit(features).labels_
        recovery = group_recovery(labels[scored], truth[scored])
        if best is None or recovery["efficiency"] * recovery["completeness"] > best["efficiency"] * best["completeness"]:
            best, best_eps = recovery, float(eps)
    return best, best_eps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_arguments(parser)
    parser.add_argument("--table", type=Path, default=ROOT / "bench" / "results" / "groups.txt")
    args = parser.parse_args()
    started = time.perf_counter()
    rows = []
    for case in prepare(args.work, spectra=args.spectra, minutes=args.minutes, seed=args.seed,
                        generators=[args.only] if args.only else GENERATORS):
        truth, scored = case.grid["group"], ~case.peculiar
        snr = "∞" if math.isinf(case.snr) else f"{case.snr:g}"
        # X is clustered through its first 25 principal components, like PolyDis (HDBSCAN's trees
        # are no help in 7,214 dimensions: there it runs for hours)
        representations = {**case.representations,
                           "X": PCA(25, random_state=args.seed).fit_transform(case.representations["X"])}
        runs = [(f"{'X (PCA 25)' if name == 'X' else name} + HDBSCAN",
                 lambda f=features: group_recovery(chemical_groups(f, MIN_SIZE).labels[scored], truth[scored]))
                for name, features in representations.items()]
        runs.append(("z + HDBSCAN (leaf)", lambda: group_recovery(
            HDBSCAN(min_cluster_size=MIN_SIZE, cluster_selection_method="leaf").fit(
                case.representations["z"].astype(np.float64)).labels_[scored], truth[scored])))
        runs.append(("PolyDis + DBSCAN (best radius on the truth)",
                     lambda: best_dbscan(case.representations["PolyDis"], truth, scored)[0]))
        for name, method in runs:
            clock = time.perf_counter()
            recovery = method()
            rows.append([case.generator, snr, name, int(len(np.unique(truth[scored]))), recovery["n_groups"],
                         f"{recovery['efficiency']:.2f}", f"{recovery['completeness']:.2f}", f"{recovery['matched']:.2f}",
                         f"{recovery['unassigned']:.2f}", f"{time.perf_counter() - clock:.0f}"])
            print(" | ".join(map(str, rows[-1])), flush=True)
    title = (f"bench/groups.py — chemical groups against the true profiles, about {args.spectra:,} spectra per grid "
             f"({time.perf_counter() - started:.0f} s)")
    text = print_table(title, ["generator", "S/N", "method", "profiles", "groups", "efficiency", "completeness",
                               "matched", "unassigned", "seconds"], rows)
    args.table.write_text(text + "\n")


if __name__ == "__main__":
    main()
