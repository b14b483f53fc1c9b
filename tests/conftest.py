"""Shared fixtures. Every test runs on the real embedded PostgreSQL and the real Redis."""
from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"


def _worker_env(extra: dict | None = None) -> dict:
    env = dict(os.environ)
    env.update({
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DOPPEL_USE_TEST_DATABASE": "1",
        "PYTHONUNBUFFERED": "1",
    })
    env.update(extra or {})
    return env


class WorkerProcess:
    """A real ``celery worker`` subprocess on the test broker (Redis db 15) and the test database."""

    def __init__(self, log_path: Path, queues: str = "default,gpu", extra_env: dict | None = None,
                 extra_args: tuple[str, ...] = ()):
        self.name = f"test-{uuid.uuid4().hex[:8]}@%h"
        self.log_path = log_path
        self._log = open(log_path, "w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "portal", "worker", "-Q", queues, "--pool", "solo",
             "--include", "tests.worker_hooks",
             "-n", self.name, "-l", "info", "--without-mingle", "--without-gossip", *extra_args],
            cwd=ROOT, env=_worker_env(extra_env), stdout=self._log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, timeout: float = 60.0) -> None:
        from portal.celery import app

        deadline = time.monotonic() + timeout
        hostname = self.name.replace("%h", "")
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"worker exited early:\n{self.log_path.read_text()[-3000:]}")
            replies = app.control.ping(timeout=0.5) or []
            if any(name.startswith(hostname) for reply in replies for name in reply):
                return
        raise RuntimeError(f"worker not ready after {timeout}s:\n{self.log_path.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


@pytest.fixture
def celery_worker_process(tmp_path):
    """Start a real worker for one test; the test's data must be committed (transactional_db)."""
    from portal.celery import app

    app.control.purge()  # drop messages a crashed earlier run left on the test broker
    worker = WorkerProcess(tmp_path / "worker.log")
    try:
        worker.wait_ready()
        yield worker
    finally:
        worker.stop()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.exists():
        pytest.skip(f"reference data not found at {SHARED_DATA}")
    return SHARED_DATA


def filling_disentangler(**grid):
    """A toy disentangler trained in-process (3 epochs) and left filling, its fill not started;
    returns (version, the ids of its grid's first and last spectra, how many spectra)."""
    from catalog import services
    from catalog.models import ModelVersion
    from tasks.training import train_disentangler
    from tests.factories import TOY_TRAINING, toy_grid

    spectra = toy_grid(**grid)
    version = services.model_version_create(kind="disentangler", config={"training": TOY_TRAINING})
    train_disentangler.apply(args=[version.pk])
    version.refresh_from_db()
    assert version.state == ModelVersion.State.FILLING
    return version, min(s.pk for s in spectra), max(s.pk for s in spectra), len(spectra)


def build_active_disentangler(**grid):
    """Train (in-process, 3 epochs), fill, index, map and activate a toy disentangler; returns
    (version, spectra). Works inside a test transaction (no worker, no read-ahead thread)."""
    from catalog import selectors, services
    from tasks.outputs import build_latent_map, finish_outputs, score_peculiarity
    from tasks.training import train_disentangler
    from tests.factories import TOY_TRAINING, toy_grid

    spectra = toy_grid(**grid)
    version = services.model_version_create(kind="disentangler", config={
        "training": TOY_TRAINING, "evaluation": {"map_sample": 60}, "activation": {"mode": "always"}})
    train_disentangler.apply(args=[version.pk]).get()
    version.refresh_from_db()
    ranges = selectors.embeddable_ranges(version.config, 10_000)
    for lo, hi in ranges:
        services.embeddings_fill_range(version=version, lo=lo, hi=hi, total=ranges.total)
    finish_outputs.apply(args=[version.pk]).get()
    version.refresh_from_db()
    build_latent_map.apply(args=[version.pk]).get()
    score_peculiarity.apply(args=[version.pk]).get()
    services.activate(version=version)
    version.refresh_from_db()
    return version, spectra


@pytest.fixture
def active_disentangler(db):
    return build_active_disentangler()


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty shared cache (throttle counters, cached counts, health)."""
    from django.core.cache import cache

    cache.clear()
    yield
