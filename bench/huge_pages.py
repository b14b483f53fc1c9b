"""The twin query with PostgreSQL's shared buffers in 4 kB pages against 2 MB huge pages.

    sudo sysctl vm.nr_hugepages=700     # 1.4 GB: the embedded server's 1 GB of shared buffers, and its other shared memory
    python bench/huge_pages.py [--n 1000000] [--queries 200] [--rounds 3]

An HNSW walk reads 700–900 index pages scattered over shared buffers, and most of its time is the
first touch of each (the buffer table's lookup, the buffer header, the page itself: cache and TLB
misses; see docs/scale.md). Huge pages map shared buffers with about 500 times fewer TLB entries.

Loads n clustered latents (as ``bench/twins.py``), then restarts the embedded PostgreSQL with
``huge_pages = off`` and ``on`` in turn, ``--rounds`` times, and after each restart times the
selector (``twins_for_latent``, k 11, the default ef_search) and the same statement from a plain
cursor, after one untimed pass. The restarts stop every other session of the embedded server: do
not run it beside the tests. The server is left with ``huge_pages`` at its default (``try``: used
when reserved). The embedded server only (``DATABASE_URL`` unset); Linux only.
"""
from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from _django import OUT, ROOT, bench_database, print_table
from twins import TWIN_STATEMENT, clustered_latents, exact_neighbours, load, sql_search, time_prepared, vector_texts

DATABASE = "doppel_bench_huge_pages"


def huge_pages_reserved() -> tuple[int, int]:
    """(huge pages reserved by the kernel, bytes each), from /proc/meminfo."""
    text = Path("/proc/meminfo").read_text()
    total = int(re.search(r"HugePages_Total:\s+(\d+)", text).group(1))
    size_kb = int(re.search(r"Hugepagesize:\s+(\d+) kB", text).group(1))
    return total, size_kb * 1024


def restart(huge_pages: str) -> str:
    """Restart the embedded server with ``huge_pages`` (off, on, or None: the default); its
    ``huge_pages_status`` after the restart."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ALTER SYSTEM RESET huge_pages" if huge_pages is None else f"ALTER SYSTEM SET huge_pages = '{huge_pages}'")
    connection.close()
    for command in ("stop", "start"):  # in their own processes, as a developer would (this one caches the server)
        subprocess.run([sys.executable, "-m", "portal.embedded", command], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    with connection.cursor() as cursor:
        cursor.execute("SHOW huge_pages_status")
        return cursor.fetchone()[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if os.environ.get("DATABASE_URL"):
        raise SystemExit("bench/huge_pages.py restarts the embedded PostgreSQL: unset DATABASE_URL")
    reserved, page_bytes = huge_pages_reserved()
    needed = int(1.3 * 2**30) // page_bytes
    if reserved < needed:
        raise SystemExit(f"the kernel holds {reserved} huge pages; the embedded server's shared memory needs about "
                         f"{needed}: reserve them first (sudo sysctl vm.nr_hugepages={(needed // 100 + 1) * 100})")
    OUT.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(7)
    latents = clustered_latents(args.n)
    teff = rng.uniform(3500.0, 6500.0, size=args.n)
    queries_idx = rng.choice(args.n, size=args.queries, replace=False)
    truth = exact_neighbours(latents, latents[queries_idx], 10)
    truth = np.array([[q, *[i for i in row if i != q][:10]] for q, row in zip(queries_idx, truth)])
    with bench_database(DATABASE):
        from django.conf import settings
        from django.db import connection

        ef = settings.TWIN_EF_SEARCH
        version, spectrum_ids, _, _ = load(args.n, latents, teff)
        sql_truth = [spectrum_ids[row] for row in truth]
        texts = vector_texts(latents, queries_idx)
        measured: dict[str, list[tuple[float, float, float]]] = {"off": [], "on": []}
        rows = []
        try:
            for round_ in range(1, args.rounds + 1):
                for mode in ("off", "on"):
                    status = restart(mode)
                    if status != mode:
                        raise SystemExit(f"asked for huge_pages = {mode}, the server reports {status}")
                    _, recall, selector_p50, _, _ = sql_search(version, latents, queries_idx, sql_truth, (ef,))[0]
                    with connection.cursor() as cursor:
                        cursor.execute(TWIN_STATEMENT.format(name="bench_huge", version=version.pk,
                                                             order="e.vector <-> $1::vector"))
                        cursor.execute("SET plan_cache_mode = force_generic_plan")
                        _, plain_p50 = time_prepared(cursor, "bench_huge", texts, sql_truth, ef)
                        cursor.execute("DEALLOCATE bench_huge; RESET plan_cache_mode; RESET hnsw.ef_search")
                    measured[mode].append((recall, selector_p50, plain_p50))
                    rows.append([round_, mode, f"{recall:.4f}", f"{selector_p50:.2f}", f"{plain_p50:.2f}"])
                    print(rows[-1], flush=True)
        finally:
            restart(None)
        for mode in ("off", "on"):
            rows.append(["median", mode, "", f"{statistics.median(m[1] for m in measured[mode]):.2f}",
                         f"{statistics.median(m[2] for m in measured[mode]):.2f}"])
    table = print_table(f"bench/huge_pages.py — {args.n:,} clustered 25-d latents, {args.queries} queries, ef_search {ef}, "
                        f"the embedded server restarted before each row ({time.strftime('%Y-%m-%d')})",
                        ["round", "huge pages", "recall@10", "selector p50 ms", "plain cursor p50 ms"], rows)
    (OUT / "huge_pages.txt").write_text(table + "\n")


if __name__ == "__main__":
    main()
