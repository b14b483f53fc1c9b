"""Real Celery worker processes for a benchmark database (own Redis db, own artifacts folder)."""
from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid

from _django import OUT, ROOT

BENCH_REDIS_DB = "14"  # neither a developer's worker (0) nor the tests' (15)


def bench_env(database: str) -> dict:
    """Environment for this process *and* its workers: same database, broker db, artifacts."""
    return {"DOPPEL_REDIS_DB": BENCH_REDIS_DB, "DOPPEL_TEST_DATABASE": database,
            "DOPPEL_ARTIFACTS": str(OUT / "artifacts"), "DOPPEL_HTTPS": "0"}


class Workers:
    """``count`` worker processes, each prefork with ``concurrency`` children and ``threads`` torch threads."""

    def __init__(self, database: str, count: int = 1, concurrency: int = 1, threads: int = 1, queues: str = "default,gpu"):
        env = {**os.environ, **bench_env(database), "DJANGO_SETTINGS_MODULE": "tests.settings",
               "DOPPEL_USE_TEST_DATABASE": "1", "DOPPEL_TORCH_THREADS": str(threads), "PYTHONUNBUFFERED": "1"}
        OUT.mkdir(parents=True, exist_ok=True)
        self.names, self.processes = [], []
        for k in range(count):
            name = f"bench-{uuid.uuid4().hex[:6]}"
            self.names.append(name)
            log = open(OUT / f"worker-{k}.log", "w")
            self.processes.append(subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "portal", "worker", "-Q", queues, "-c", str(concurrency),
                 "-n", f"{name}@%h", "-l", "warning", "--without-mingle", "--without-gossip"],
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True))

    def wait_ready(self, timeout: float = 90.0) -> None:
        from portal.celery import app

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            replies = app.control.ping(timeout=0.5) or []
            answered = {name.split("@")[0] for reply in replies for name in reply}
            if set(self.names) <= answered:
                return
        raise RuntimeError("bench workers did not start; see bench/out/worker-*.log")

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
