"""Does the peculiarity score find stars with one element out of line with their chemistry?

    python bench/peculiar.py [--work bench/out/injected] [--minutes 20] [--only analytic|payne]

On each generator's grid with 1 % injected peculiar stars (``bench/_injected.py``: one element
enhanced by +0.3 to +1.0 dex; analytic: Mn, V, Co or Ce; Payne: Mg), at S/N ∞ and 50, the product's
score (``ml.peculiar``, k = 20 neighbours, the catalog's setting) is computed on four
representations of the same stars: the decoder residual (what the catalog scores: flux −
D(E(x, cp), cp) on a residual basis fitted to up to 20,000 of the stars (all of these grids), each pixel over its robust spread,
25 PCs; ``bench/_injected.py``), the twins preset's latent z (what the catalog scored before),
PolyDis residuals (Price-Jones & Bovy 2019: cubic in Teff and logg per pixel, 25 PCs) and the raw
spectra X. It reports
precision@50, precision@N (N = the number injected; this is also their recall at N) and the ROC AUC
of the score separating injected stars from the rest, and writes the table to ``--table``.
The first run builds the grids and trains one model per generator (about 25 min each on 2 cores).
"""
from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

from _django import print_table
from _injected import GENERATORS, ROOT, add_arguments, prepare
from sklearn.metrics import roc_auc_score

from ml.peculiar import peculiarity_scores, precision_at

NEIGHBOURS = 20  # catalog.services.peculiar.NEIGHBOURS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_arguments(parser)
    parser.add_argument("--table", type=Path, default=ROOT / "bench" / "results" / "peculiar.txt")
    parser.add_argument("--representation", help="score only this one and keep the table's other rows (from the "
                                                 "same cached grids and models)")
    args = parser.parse_args()
    started = time.perf_counter()
    rows = []
    for case in prepare(args.work, spectra=args.spectra, minutes=args.minutes, seed=args.seed,
                        generators=[args.only] if args.only else GENERATORS, residual=True):
        truth = case.peculiar
        for name, features in case.representations.items():
            if args.representation and name != args.representation:
                continue
            scores = peculiarity_scores(features, k=NEIGHBOURS)
            rows.append([case.generator, "∞" if math.isinf(case.snr) else f"{case.snr:g}", name, int(truth.sum()),
                         f"{precision_at(scores, truth, 50):.2f}", f"{precision_at(scores, truth, int(truth.sum())):.2f}",
                         f"{roc_auc_score(truth, scores):.3f}"])
            print(" | ".join(map(str, rows[-1])), flush=True)
    title = (f"bench/peculiar.py — injected peculiar stars (1 %, one element +0.3 to +1.0 dex) among about "
             f"{args.spectra:,} spectra per grid; score k = {NEIGHBOURS} ({time.perf_counter() - started:.0f} s)")
    if args.representation:
        rows = _merged(args.table, rows, args.representation)
        title += f"; the {args.representation} rows rerun, the others from the table's previous run"
    text = print_table(title, ["generator", "S/N", "representation", "injected", "precision@50", "precision@N",
                               "ROC AUC"], rows)
    args.table.write_text(text + "\n")


def _merged(table: Path, new: list[list], representation: str) -> list[list]:
    """The table's earlier rows with those of ``representation`` replaced by ``new`` (same order)."""
    old = [[cell.strip() for cell in line.strip().strip("|").split("|")] for line in table.read_text().splitlines()[3:]
           if line.startswith("|")]
    fresh = {(row[0], row[1]): row for row in new}
    return [list(map(str, fresh.get((row[0], row[1]), row))) if row[2] == representation else row for row in old]


if __name__ == "__main__":
    main()
