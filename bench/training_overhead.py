"""Training-task overhead with a real worker: the time from ``delay()`` until the first epoch
starts, and from the last epoch until the version is ready (evaluation, artifact, fill, index).

    python bench/training_overhead.py [--spectra 42000] [--epochs 3]

Two runs on the same catalog: the first reads the training set from PostgreSQL (cold), the
second finds its memmap snapshot on disk (warm). One worker, 2 torch threads, CPU.
"""
from __future__ import annotations

import argparse
import os
import time

from _django import bench_database, print_table
from _workers import Workers, bench_env

DATABASE = "doppel_bench_overhead"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--spectra", type=int, default=42_000)
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args()
    os.environ.update(bench_env(DATABASE))
    rows = []
    with bench_database(DATABASE):
        import shutil

        from django.conf import settings

        from fill_embeddings import load_catalog
        from portal.celery import app

        shutil.rmtree(settings.ARTIFACT_ROOT / "datasets", ignore_errors=True)
        app.control.purge()
        n = load_catalog(args.spectra)
        from catalog.models import ModelVersion
        from tasks.pipeline import start_retrain

        workers = Workers(DATABASE, count=1, concurrency=1, threads=2)
        try:
            workers.wait_ready()
            for label in ("cold (dataset read from PostgreSQL)", "warm (memmap snapshot)"):
                sent = time.time()
                version = start_retrain(kind="disentangler", config={
                    "training": {"epochs": args.epochs, "batch_size": 256, "patience": 0},
                    "evaluation": {"map_sample": 1000}, "activation": {"mode": "never"}})
                while True:
                    version.refresh_from_db()
                    if version.state in (ModelVersion.State.READY, ModelVersion.State.FAILED):
                        break
                    time.sleep(0.1)
                ready = time.time()
                timings = version.latest_run.timings
                if version.state == ModelVersion.State.FAILED:
                    raise RuntimeError(version.latest_run.error)
                start_gap = timings["first_epoch_started_at"] - sent
                dataset = timings["training_started_at"] - timings["dataset_started_at"]
                end_gap = ready - timings["last_epoch_ended_at"]
                evaluation = timings["finished_at"] - timings["last_epoch_ended_at"]
                rows.append([label, f"{start_gap:.1f} s", f"{dataset:.1f} s", f"{end_gap:.1f} s", f"{evaluation:.1f} s",
                             f"{timings['training_s']:.1f} s"])
                print(rows[-1])
        finally:
            workers.stop()
    print_table(f"bench/training_overhead.py — disentangler on {n:,} APOGEE spectra, {args.epochs} epochs, 1 CPU worker",
                ["run", "delay() → first epoch", "of which dataset", "last epoch → ready",
                 "of which evaluation + artifact", "training"], rows)


if __name__ == "__main__":
    main()
