"""The web server's settings (portal.gunicorn) come from the environment, refuse nonsense by name,
and are what the container, `make web` and the API benches start."""
import importlib
import os
import re
import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured

from tests.conftest import ROOT


def load(monkeypatch, **env):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    import portal.gunicorn

    return importlib.reload(portal.gunicorn)


NAMES = ("DOPPEL_WEB_WORKERS", "DOPPEL_WEB_THREADS", "DOPPEL_WEB_TIMEOUT_S")


def test_two_synchronous_processes_per_core_by_default(monkeypatch):
    for name in NAMES:
        monkeypatch.delenv(name, raising=False)
    settings = load(monkeypatch)
    assert settings.worker_class == "sync" and settings.threads == 1
    assert settings.workers == 2 * len(os.sched_getaffinity(0))


def test_a_long_answer_is_not_cut_by_gunicorn_s_worker_timeout(monkeypatch, settings):
    """A synchronous worker busy past ``timeout`` is killed mid-answer: gunicorn's own 30 s would
    cut a synchronous TAP query at its statement timeout, or a million-row export (about 20 s)."""
    for name in NAMES:
        monkeypatch.delenv(name, raising=False)
    timeout = load(monkeypatch).timeout
    assert timeout >= 5 * settings.TAP_SYNC_TIMEOUT_S and timeout >= 120


def test_processes_threads_and_timeout_are_read_from_the_environment(monkeypatch):
    server = load(monkeypatch, DOPPEL_WEB_WORKERS="3", DOPPEL_WEB_THREADS="2", DOPPEL_WEB_TIMEOUT_S="90")
    assert (server.workers, server.threads, server.timeout, server.worker_class) == (3, 2, 90, "gthread")


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("value", ["0", "-2", "many"])
def test_a_value_that_cannot_serve_is_refused_by_name(monkeypatch, name, value):
    with pytest.raises(ImproperlyConfigured, match=name):
        load(monkeypatch, **{name: value})
    monkeypatch.delenv(name)
    load(monkeypatch)  # leave the module as the default environment makes it


def test_gunicorn_reads_them():
    """gunicorn itself, given the module, ends up with its values (its own option names)."""
    code = ("from gunicorn.app.wsgiapp import WSGIApplication; import sys; "
            "sys.argv = ['gunicorn', '-c', 'python:portal.gunicorn', 'portal.wsgi']; "
            "app = WSGIApplication(); print(app.cfg.workers, app.cfg.threads, app.cfg.timeout, app.cfg.worker_class_str)")
    env = {**os.environ, "DOPPEL_WEB_WORKERS": "5", "DOPPEL_WEB_THREADS": "1", "DOPPEL_WEB_TIMEOUT_S": "240"}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert out.stdout.split() == ["5", "1", "240", "sync"], out.stderr


@pytest.mark.parametrize("path", ["docker/compose.yaml", "docker/Dockerfile", "Makefile", "bench/twins.py"])
def test_every_start_of_the_web_server_uses_them(path):
    text = (ROOT / path).read_text()
    assert "python:portal.gunicorn" in text
    if path != "bench/twins.py":  # the bench also starts a threaded server, for comparison
        assert not re.search(r"gunicorn[^\n]*(-w|--workers|--threads|-k)\s", text)
