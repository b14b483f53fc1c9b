"""Embedding fill, end to end, with real Celery workers: read the flux bytea (binary COPY) →
standardise → encode (the paper's 7214→512→256→25 encoder, torch CPU) → binary COPY into
Embedding; then the per-version HNSW index build, reported separately.

    python bench/fill_embeddings.py [--spectra 100000] [--chunk 25000]

The catalog is the 42k-spectrum APOGEE-like grid of bench/ingest.py, loaded repeatedly under new
designations up to --spectra (real synthetic spectra; the content does not change the cost). The
model is trained for one epoch only: its weights do not change the cost either. Rates are
spectra / wall-clock seconds from ``fill_embeddings.delay()`` to the last latent committed.
"""
from __future__ import annotations

import argparse
import os
import time

from _django import bench_database, print_table
from _workers import Workers, bench_env

DATABASE = "doppel_bench_fill"


def load_catalog(n_spectra: int) -> int:
    from ingest import batches, synthesised_grid

    from catalog import services

    flux, labels, _ = synthesised_grid(200)
    loaded, copy = 0, 0
    while loaded < n_spectra:
        take = min(len(flux), n_spectra - loaded)
        part = {k: v[:take] for k, v in labels.items()}
        loaded += services.grid_load(batches=batches(flux[:take], part, None, prefix=f"F{copy}"), survey_code="apogee")
        copy += 1
    return loaded


def model_version(n_train: int = 4000):
    """A filling version with a (one-epoch) artifact of the paper's architecture."""
    from django.conf import settings

    from catalog import services
    from catalog.models import ModelVersion
    from ml.workflows import train_disentangler

    version = services.model_version_create(kind="disentangler", config={
        "training": {"epochs": 1, "batch_size": 256}, "selection": {"max_spectra": n_train}})
    dataset = services.disentangler_dataset(config=version.config, cache_root=settings.ARTIFACT_ROOT)
    artifact = settings.ARTIFACT_ROOT / f"bench-v{version.pk}" / "disentangler.pt"
    train_disentangler(flux=dataset.flux, parameters=dataset.parameters, groups=dataset.groups, labels=dataset.labels,
                       conditional=dataset.conditional, training=version.config["training"],
                       evaluation={**version.config["evaluation"], "probe_train_size": 200, "probe_test_size": 100},
                       checkpoint=artifact.with_name("checkpoint.pt"), artifact=artifact)
    ModelVersion.objects.filter(pk=version.pk).update(state=ModelVersion.State.FILLING,
                                                      artifact=services.artifact_store(artifact))
    version.refresh_from_db()
    return version


def fill_once(version, n: int) -> tuple[float, float]:
    """(seconds until every latent is committed, seconds of the index build + completion)."""
    from catalog import services
    from catalog.models import Embedding, ModelVersion
    from tasks.outputs import fill_embeddings

    Embedding.objects.filter(model_version=version).delete()
    services.embedding_index_drop(version=version)
    ModelVersion.objects.filter(pk=version.pk).update(state=ModelVersion.State.FILLING)
    started = time.perf_counter()
    fill_embeddings.delay(version.pk)
    filled = None
    while True:
        count = Embedding.objects.filter(model_version=version).count()
        if filled is None and count >= n:
            filled = time.perf_counter() - started
        state = ModelVersion.objects.filter(pk=version.pk).values_list("state", flat=True).get()
        if state == ModelVersion.State.READY:
            return filled or time.perf_counter() - started, time.perf_counter() - started - (filled or 0)
        if state == ModelVersion.State.FAILED:
            raise RuntimeError(version.latest_run.error)
        time.sleep(0.1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--spectra", type=int, default=100_000)
    parser.add_argument("--chunk", type=int, default=25_000)
    args = parser.parse_args()
    os.environ.update({**bench_env(DATABASE), "DOPPEL_FILL_CHUNK": str(args.chunk)})
    rows = []
    with bench_database(DATABASE):
        from portal.celery import app

        app.control.purge()
        started = time.perf_counter()
        n = load_catalog(args.spectra)
        print(f"catalog: {n:,} spectra loaded in {time.perf_counter() - started:.0f} s")
        version = model_version()
        for label, count, concurrency, threads in (("1 worker × 2 torch threads", 1, 1, 2),
                                                   ("2 workers × 1 torch thread", 2, 1, 1)):
            workers = Workers(DATABASE, count=count, concurrency=concurrency, threads=threads)
            try:
                workers.wait_ready()
                fill_s, index_s = fill_once(version, n)
            finally:
                workers.stop()
            rows.append([label, f"{n:,}", f"{fill_s:.1f} s", f"{n / fill_s:,.0f} spectra/s", f"{index_s:.1f} s",
                         "≥ 10,000 spectra/s"])
            print(rows[-1])
    print_table(f"bench/fill_embeddings.py — {n:,} APOGEE spectra (7214 px), chunks of {args.chunk:,}, CPU",
                ["workers", "spectra", "fill (read → encode → COPY)", "rate", "index build + ready", "target"], rows)


if __name__ == "__main__":
    main()
