"""The whole pipeline at scale on this machine, stage by stage: time, rate, disk and memory.

    python bench/pipeline_1m.py [--spectra 250000] [--latents 1000000] [--stars 10000000] [--epochs 1]

1. **synthesis** of ``--spectra`` APOGEE-like spectra (the analytic model; cached in bench/out);
2. **ingest**: the grid COPY at S/N 50 (flux and error) over ``DOPPEL_INGEST_STREAMS`` streams;
3. **train** the default disentangler config (the ``twins`` preset) through the training task,
   for ``--epochs`` of its 200 (the time of the whole schedule is extrapolated, not run);
4. **fill** its latents with two real Celery workers (1 torch thread each), then the HNSW index;
5. **1M latents**: synthetic clustered latents (``bench/twins.py``) of ``--latents`` more stars
   under a second, active version; its HNSW build; twin queries (the selector's prepared statement
   at ``DOPPEL_TWIN_EF_SEARCH``) with recall against exact neighbours, and FAISS HNSW on the same
   vectors in the same run;
6. **10M stars**: synthetic star rows (random sky, Teff/logg/[Fe/H] in the star columns) up to
   ``--stars``; cone searches (0.1° and 1°), a sorted search's first page, and a page one million
   stars deep by offset and by cursor (``catalog.selectors.stars_after``).

Disk is the database's size after each stage; memory is this process's peak RSS and the server's
(the memory PostgreSQL's processes hold alone, summed; its shared buffers are apart) at the end of each stage. Runs on a throw-away database on
the embedded server; the table goes to ``--table``.
"""
from __future__ import annotations

import argparse
import os
import resource
import statistics
import time
from pathlib import Path

import numpy as np

from _django import ROOT, bench_database, print_table, server_memory
from _workers import Workers, bench_env

DATABASE = "doppel_bench_pipeline"


class Stages:
    """The table: one row per stage, with the database's size and the memory after it."""

    def __init__(self):
        self.rows: list[list] = []

    def add(self, stage: str, size: str, seconds: float | None, rate: str, note: str = "") -> None:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_database_size(current_database())")
            disk = cursor.fetchone()[0]
        self.rows.append([stage, size, "" if seconds is None else f"{seconds:,.1f} s", rate, f"{disk / 1e9:.1f} GB",
                          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6:.1f} GB", f"{_server_rss() / 1e9:.1f} GB", note])
        print(" | ".join(self.rows[-1]), flush=True)


def _server_rss() -> float:
    import psutil

    total = 0
    for process in psutil.process_iter(["name"]):
        if (process.info["name"] or "").startswith("postgres"):
            try:
                total += process.memory_full_info().uss  # what each process holds alone
            except psutil.Error:
                pass
    return float(total)


def _timed(function, *args, repeat: int = 1, **kwargs):
    started = time.perf_counter()
    for _ in range(repeat):
        result = function(*args, **kwargs)
    return result, (time.perf_counter() - started) / repeat


def ingest(stages: Stages, n: int, streams: int) -> None:
    from ingest import batches, noisy_grid, synthesised_grid

    from catalog import services

    profiles = -(-n // 210)
    started = time.perf_counter()
    flux, labels, synth_rate = synthesised_grid(profiles)
    stages.add("synthesis (analytic model)", f"{len(flux):,} spectra", time.perf_counter() - started if synth_rate else None,
               f"{synth_rate:,.0f} spectra/s" if synth_rate else "cached", "bench/out, not the catalog")
    flux = noisy_grid(flux, profiles, 50.0)[:n]
    labels = {key: values[:n] for key, values in labels.items()}
    loaded, seconds = _timed(services.grid_load, batches=batches(flux, labels, 50.0, prefix="P"), survey_code="apogee",
                             streams=streams)
    stages.add(f"ingest: grid COPY, S/N 50, {streams} streams", f"{loaded:,} spectra", seconds,
               f"{loaded / seconds:,.0f} spectra/s", "target ≥ 20,000 spectra/s")


def train(stages: Stages, epochs: int):
    from catalog import services
    from catalog.models import ModelVersion
    from tasks.training import train_disentangler

    version = services.model_version_create(kind="disentangler", config={"training": {"epochs": epochs},
                                                                         "activation": {"mode": "always"}})
    _, seconds = _timed(train_disentangler.apply, args=[version.pk])
    version.refresh_from_db()
    if version.state != ModelVersion.State.FILLING:
        raise RuntimeError(f"training ended {version.state}: {version.latest_run.error}")
    n_train = version.metrics.get("n_train", 0)
    per_epoch = (version.metrics.get("train_seconds") or seconds) / epochs
    stages.add(f"train: default config (twins), {epochs} of 200 epochs", f"{n_train:,} training spectra", seconds,
               f"{n_train * epochs / per_epoch:,.0f} spectra/s",
               f"200 epochs ≈ {200 * per_epoch / 3600:.1f} h on these 2 cores (patience may stop it sooner)")
    return version


def fill(stages: Stages, version, n: int) -> None:
    from catalog import services
    from catalog.models import Embedding, ModelVersion
    from tasks.outputs import fill_embeddings

    workers = Workers(DATABASE, count=2, concurrency=1, threads=1)
    try:
        workers.wait_ready()
        started = time.perf_counter()
        fill_embeddings.delay(version.pk)
        filled = None
        while True:
            if filled is None and Embedding.objects.filter(model_version=version).count() >= n:
                filled = time.perf_counter() - started
            state = ModelVersion.objects.filter(pk=version.pk).values_list("state", flat=True).get()
            if state == ModelVersion.State.READY:
                break
            if state == ModelVersion.State.FAILED:
                raise RuntimeError(version.latest_run.error)
            time.sleep(0.5)
        total = time.perf_counter() - started
    finally:
        workers.stop()
    filled = filled or total
    stages.add("fill: latents, 2 workers × 1 thread", f"{n:,} spectra", filled, f"{n / filled:,.0f} spectra/s",
               "target ≥ 10,000 spectra/s")
    stages.add("fill: HNSW index + ready", f"{n:,} latents", total - filled, "")
    services.activate(version=version)


def latents_1m(stages: Stages, n: int, queries: int):
    """n synthetic latents under an active version (stars, spectra, labels, latents, index), then
    twin queries through the selector, and FAISS on the same vectors."""
    import twins as twin_bench
    from django.conf import settings

    from catalog import selectors

    from catalog.model_outputs import HNSW_EF_CONSTRUCTION, HNSW_M
    from catalog.models import ModelVersion

    ModelVersion.objects.filter(kind="disentangler", state=ModelVersion.State.ACTIVE).update(state=ModelVersion.State.ARCHIVED)
    latents = twin_bench.clustered_latents(n)
    teff = np.random.default_rng(1).uniform(3500, 6500, n)
    version, spectrum_ids, star_ids, times = twin_bench.load(n, latents, teff)
    stages.add("1M latents: star, spectrum, label rows", f"{n:,} stars", times["rows"], f"{n / times['rows']:,.0f} rows/s")
    stages.add("1M latents: latents COPY", f"{n:,} latents", times["copy"], f"{n / times['copy']:,.0f} latents/s")
    stages.add(f"1M latents: HNSW build (m {HNSW_M}, ef_construction {HNSW_EF_CONSTRUCTION})", f"{n:,} latents", times["index"],
               f"{n / times['index']:,.0f} latents/s")
    rng = np.random.default_rng(2)
    chosen = rng.choice(n, queries, replace=False)
    truth = twin_bench.exact_neighbours(latents, latents[chosen], 10)
    for index in chosen:  # once untimed, as bench/twins.py: the pages this walk touches are in shared buffers
        selectors.twins_for_latent(latent=latents[index], k=10, version=version)
    recall, elapsed = [], []
    for index, row in zip(chosen, truth):
        started = time.perf_counter()
        result = selectors.twins_for_latent(latent=latents[index], k=10, version=version)
        elapsed.append(time.perf_counter() - started)
        expected = set(spectrum_ids[row[:10]])  # the query's own latent included, as the selector returns it
        recall.append(len(expected & {r.spectrum_id for r in result.rows}) / 10)
    sql_p50 = statistics.median(elapsed) * 1000
    stages.add(f"twin query, SQL (prepared, ef_search {settings.TWIN_EF_SEARCH})", f"{queries} queries, k 10",
               None, f"p50 {sql_p50:.2f} ms, p95 {np.percentile(elapsed, 95) * 1000:.2f} ms",
               f"recall@10 {np.mean(recall):.3f}; target p50 ≤ 1.0 ms")
    faiss_rows, faiss_build = twin_bench.faiss_search(latents, latents[chosen], truth, [settings.TWIN_EF_SEARCH])
    stages.add(f"twin query, FAISS HNSW (ef_search {settings.TWIN_EF_SEARCH})", f"{queries} queries, k 10", faiss_build,
               f"p50 {faiss_rows[0][2]:.3f} ms", f"recall@10 {faiss_rows[0][1]:.3f}; its build in the time column")
    return version


def stars_10m(stages: Stages, total: int, queries: int) -> None:
    from django.db import connection

    from catalog import selectors
    from catalog.models import Star

    have = Star.objects.count()
    more = max(0, total - have)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(max(id), 0) FROM catalog_star")
        base = cursor.fetchone()[0]
        cursor.execute(
            """INSERT INTO catalog_star (designation, ra, dec, apogee_id, teff, logg, fe_h)
               SELECT 'Z' || lpad(g::text, 9, '0'), 360 * random(), degrees(asin(2 * random() - 1)), '',
                      3500 + 3000 * random(), 5 * random(), -2.5 + 3 * random()
               FROM generate_series(%s, %s) g""", [base + 1, base + more])
        cursor.execute("VACUUM ANALYZE catalog_star")
    seconds = time.perf_counter() - started
    stages.add("10M stars: synthetic rows + their indexes", f"{more:,} stars (total {have + more:,})", seconds,
               f"{more / seconds:,.0f} stars/s")

    def search(**kwargs):
        query = selectors.StarQuery(**kwargs)
        return selectors.stars_search(query), query

    rng = np.random.default_rng(3)
    for radius in (0.1, 1.0):
        elapsed, found = [], []
        for _ in range(queries):
            ra, dec = float(rng.uniform(0, 360)), float(np.degrees(np.arcsin(rng.uniform(-0.9, 0.9))))
            started = time.perf_counter()
            stars, _ = search(ra=ra, dec=dec, radius=radius, order="distance")
            found.append(len(list(stars[:1000])))
            elapsed.append(time.perf_counter() - started)
        stages.add(f"cone search, radius {radius}°", f"{queries} cones, ≤ 1,000 rows", None,
                   f"p50 {statistics.median(elapsed) * 1000:.1f} ms", f"{statistics.median(found):.0f} stars per cone (median)")
    stars, query = search(order="-teff", teff=(4000.0, None))
    _, first = _timed(lambda: list(stars[:50]), repeat=3)
    stages.add("sorted search (Teff ≥ 4000, by −Teff), first page, one sort", "50 rows", None, f"{first * 1000:.1f} ms",
               "ORDER BY teff DESC NULLS LAST: no index order")
    _, first = _timed(selectors.stars_after, stars, query.order, None, 50, repeat=3)
    stages.add("  the same page as the API reads it (stars_after)", "50 rows", None, f"{first * 1000:.1f} ms",
               "through the Teff index")
    depth = min(1_000_000, (have + more) // 4)
    _, by_offset = _timed(lambda: list(stars[depth : depth + 50]), repeat=3)
    key = selectors.sort_key(list(stars[depth - 1 : depth])[0], query.order)
    page, by_key = _timed(selectors.stars_after, stars, query.order, key, 50, repeat=3)
    assert [s.pk for s in page] == [s.pk for s in stars[depth : depth + 50]]
    stages.add(f"  the page {depth:,} rows deep, by offset", "50 rows", None, f"{by_offset * 1000:.1f} ms")
    stages.add("  the same page by cursor (keyset)", "50 rows", None, f"{by_key * 1000:.1f} ms",
               f"{by_offset / by_key:,.0f}× faster")
    counted, seconds = _timed(selectors.result_count, stars)
    stages.add("result count of that search", f"{'about ' if counted.estimated else ''}{counted.n:,}", None,
               f"{seconds * 1000:.1f} ms", "estimated past 10,000")


def sizes(stages: Stages, version) -> None:
    """On-disk size per row of what grows with the catalog: spectra (with their TOAST), latents
    and their HNSW index (the 1M version's partition), stars with their indexes."""
    from django.db import connection

    from catalog import partitions

    embedding = partitions.partition_name("catalog_embedding", version.pk)
    with connection.cursor() as cursor:
        for label, relation, measure, counted in (
                ("spectra (flux + error, TOAST included)", "catalog_spectrum", "pg_total_relation_size",
                 "catalog_spectrum WHERE octet_length(flux) > 0"),  # the 1M latents' stars have empty spectra
                ("latents: the version's partition", embedding, "pg_table_size", embedding),
                ("latents: its HNSW index", version.index_name, "pg_relation_size", embedding),
                ("stars (with their indexes)", "catalog_star", "pg_total_relation_size", "catalog_star")):
            cursor.execute(f"SELECT {measure}(%s::regclass), (SELECT count(*) FROM {counted})", [relation])
            size, rows = cursor.fetchone()
            stages.add(f"size: {label}", f"{rows:,} rows", None, f"{size / 1e9:.2f} GB",
                       f"{size / max(rows, 1):,.0f} bytes per row")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--spectra", type=int, default=250_000)
    parser.add_argument("--latents", type=int, default=1_000_000)
    parser.add_argument("--stars", type=int, default=10_000_000)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--table", type=Path, default=ROOT / "bench" / "results" / "pipeline_1m.txt")
    args = parser.parse_args()
    os.environ.update(bench_env(DATABASE))
    started = time.perf_counter()
    with bench_database(DATABASE):
        from django.conf import settings

        from portal.celery import app

        app.control.purge()
        stages = Stages()
        ingest(stages, args.spectra, settings.INGEST_STREAMS)
        version = train(stages, args.epochs)
        fill(stages, version, args.spectra)
        big = latents_1m(stages, args.latents, args.queries)
        stars_10m(stages, args.stars, max(20, args.queries // 4))
        sizes(stages, big)
        memory = server_memory()
    title = (f"bench/pipeline_1m.py — {args.spectra:,} spectra, {args.latents:,} latents, {args.stars:,} stars on "
             f"{os.cpu_count()} cores, CPU, {memory} ({(time.perf_counter() - started) / 60:.0f} min in all)")
    text = print_table(title, ["stage", "size", "time", "rate / latency", "database", "bench RSS (peak)",
                               "server RSS", "note"], stages.rows)
    args.table.write_text(text + "\n")


if __name__ == "__main__":
    main()
