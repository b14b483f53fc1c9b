"""A user's list crossmatched with the catalog through TAP (``TAP_UPLOAD`` joined on ``CONTAINS``),
and ADQL cones, with ``CONTAINS`` as the product translates it (the band of radians(dec) that an
index answers, then the distance: migration 0017) and as it was (the distance to every star:
migration 0008). ``DISTANCE(…) < r`` in a join (which did not run before 0017) is timed too.

    python bench/tap_crossmatch.py [--stars 1000000] [--rounds 3]

On a throw-away database of ``--stars`` synthetic stars (random sky), each query runs through
``catalog.selectors.tap.run_adql`` (the upload written, analysed and joined as the sync endpoint
does; inside a transaction that is rolled back, so that the old definition never stays), the two
definitions alternating, ``--rounds`` times (medians). The two must return the same
rows, or the script stops. A list is half catalog positions moved by 0.3″ and half random
positions; the match radius is 1″. The old definition is run only up to ``--old-up-to`` targets
(each is a pass over every star). Writes ``bench/out/tap_crossmatch.txt``.
"""
from __future__ import annotations

import argparse
import importlib
import statistics
import sys
import time

import numpy as np

from _django import OUT, ROOT, bench_database, print_table

sys.path.insert(0, str(ROOT))

# the geometry before the band (and before DISTANCE in WHERE): what reversing migration 0017 restores
OLD = importlib.import_module("catalog.migrations.0017_tap_uploads_indexed_circles").GEOMETRY_BEFORE
MATCH = ("SELECT u.target, s.star_id FROM TAP_UPLOAD.mine AS u JOIN doppel.stars AS s "
         "ON 1 = CONTAINS(POINT('ICRS', s.ra, s.dec), CIRCLE('ICRS', u.ra, u.dec, {radius})) ORDER BY u.target, s.star_id")
MATCH_BY_DISTANCE = ("SELECT u.target, s.star_id FROM TAP_UPLOAD.mine AS u JOIN doppel.stars AS s "
                     "ON DISTANCE(POINT('ICRS', u.ra, u.dec), POINT('ICRS', s.ra, s.dec)) < {radius} "
                     "ORDER BY u.target, s.star_id")
CONE = ("SELECT star_id FROM doppel.stars WHERE 1 = CONTAINS(POINT('ICRS', ra, dec), CIRCLE('ICRS', {ra}, {dec}, {radius})) "
        "ORDER BY star_id")


def add_stars(n: int) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("""INSERT INTO catalog_star (designation, ra, dec, apogee_id)
                          SELECT 'Z' || lpad(g::text, 9, '0'), 360 * random(), degrees(asin(2 * random() - 1)), ''
                          FROM generate_series(1, %s) g""", [n])
        cursor.execute("VACUUM ANALYZE catalog_star")


def target_list(n: int, rng) -> "object":
    """n targets: half at catalog stars' positions moved by 0.3″, half anywhere on the sky."""
    from astropy.table import Table
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT ra, dec FROM catalog_star ORDER BY random() LIMIT %s", [n - n // 2])
        near = np.array(cursor.fetchall(), float).reshape(-1, 2)
    near[:, 1] = np.clip(near[:, 1] + 0.3 / 3600, -90, 90)
    anywhere = np.column_stack([rng.uniform(0, 360, n // 2), np.degrees(np.arcsin(rng.uniform(-1, 1, n // 2)))])
    positions = np.vstack([near, anywhere])
    return Table({"target": [f"t{k:06d}" for k in range(len(positions))], "ra": positions[:, 0], "dec": positions[:, 1]})


def run(adql: str, uploads) -> tuple[float, list]:
    from catalog.selectors.tap import run_adql

    started = time.perf_counter()
    result = run_adql(adql, maxrec=1_000_000, timeout_s=600, uploads=uploads)
    return time.perf_counter() - started, result.rows


def compare(title: str, adql: str, uploads, rounds: int, with_old: bool) -> list:
    """[title, rows, new ms, old ms, faster] from alternating runs; stops where the rows differ."""
    from django.db import connection, transaction

    new_times, old_times, rows = [], [], None
    with transaction.atomic():  # once unrecorded: the first use of a plan, a function, the pages
        run(adql, uploads)
        transaction.set_rollback(True)
    for round_ in range(rounds):
        order = ["new", "old"] if round_ % 2 == 0 else ["old", "new"]
        for which in order if with_old else ["new"]:
            with transaction.atomic():  # rolled back: the product's definition stays
                if which == "old":
                    with connection.cursor() as cursor:
                        cursor.execute(OLD)
                seconds, found = run(adql, uploads)
                transaction.set_rollback(True)
            (new_times if which == "new" else old_times).append(seconds)
            if rows is not None and found != rows:
                raise SystemExit(f"{title}: the two definitions return different rows")
            rows = found
    new = statistics.median(new_times) * 1000
    old = statistics.median(old_times) * 1000 if old_times else None
    return [title, f"{len(rows):,}", f"{new:,.1f}", f"{old:,.0f}" if old else "not run",
            f"{old / new:,.0f}×" if old else ""]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stars", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--old-up-to", type=int, default=100, help="targets up to which the old definition runs")
    args = parser.parse_args()
    import logging

    logging.disable(logging.INFO)  # queryparser logs every parse step at INFO
    with bench_database("doppel_bench_tap_crossmatch"):
        from catalog.tap_upload import UploadTable

        started = time.perf_counter()
        add_stars(args.stars)
        print(f"{args.stars:,} synthetic stars in {time.perf_counter() - started:.0f} s", flush=True)
        rng = np.random.default_rng(5)
        rows = []
        for radius in (0.1, 1.0):
            ra, dec = 150.0, 2.0
            rows.append(compare(f"cone, radius {radius}°", CONE.format(ra=ra, dec=dec, radius=radius), [], args.rounds,
                                with_old=True))
            print(rows[-1], flush=True)
        for n in (10, 100, 1_000, 10_000):
            table = target_list(n, rng)
            upload = UploadTable(name="mine", columns=[("target", "text"), ("ra", "double precision"),
                                                       ("dec", "double precision")],
                                 rows=[[str(t), float(r), float(d)] for t, r, d in table.iterrows()])
            rows.append(compare(f"crossmatch of {n:,} uploaded targets, 1″", MATCH.format(radius=1 / 3600), [upload],
                                args.rounds, with_old=n <= args.old_up_to))
            print(rows[-1], flush=True)
            if n == 1_000:
                rows.append(compare("  the same by DISTANCE(…) < 1″", MATCH_BY_DISTANCE.format(radius=1 / 3600), [upload],
                                    args.rounds, with_old=False))
                print(rows[-1], flush=True)
    text = print_table(f"TAP CONTAINS at {args.stars:,} stars, median of {args.rounds} (ms, run_adql end to end)",
                       ["query", "rows", "band of radians(dec), indexed (product)", "distance to every star (before)",
                        "faster"], rows)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "tap_crossmatch.txt").write_text(text + "\n")


if __name__ == "__main__":
    main()
