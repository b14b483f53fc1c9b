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


def test_synchronous_workers_two_per_core_by_default(monkeypatch):
    monkeypatch.delenv("DOPPEL_WEB_WORKERS", raising=False)
    settings = load(monkeypatch)
    assert settings.worker_class == "sync"
    assert settings.workers == 2 * len(os.sched_getaffinity(0))


def test_the_worker_count_is_read_from_the_environment(monkeypatch):
    assert load(monkeypatch, DOPPEL_WEB_WORKERS="3").workers == 3


@pytest.mark.parametrize("value", ["0", "-2", "many"])
def test_a_worker_count_that_cannot_serve_is_refused_by_name(monkeypatch, value):
    with pytest.raises(ImproperlyConfigured, match="DOPPEL_WEB_WORKERS"):
        load(monkeypatch, DOPPEL_WEB_WORKERS=value)
    monkeypatch.delenv("DOPPEL_WEB_WORKERS")
    load(monkeypatch)  # leave the module as the default environment makes it


def test_gunicorn_reads_them():
    """gunicorn itself, given the module, ends up with its values (its own option names)."""
    code = ("from gunicorn.app.wsgiapp import WSGIApplication; import sys; "
            "sys.argv = ['gunicorn', '-c', 'python:portal.gunicorn', 'portal.wsgi']; "
            "app = WSGIApplication(); print(app.cfg.workers, app.cfg.worker_class_str)")
    env = {**os.environ, "DOPPEL_WEB_WORKERS": "5"}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert out.stdout.split() == ["5", "sync"], out.stderr


@pytest.mark.parametrize("path", ["docker/compose.yaml", "docker/Dockerfile", "Makefile", "bench/twins.py"])
def test_every_start_of_the_web_server_uses_them(path):
    text = (ROOT / path).read_text()
    assert "python:portal.gunicorn" in text
    if path != "bench/twins.py":  # the bench also starts a threaded server, for comparison
        assert not re.search(r"gunicorn[^\n]*(-w|--workers|--threads|-k)\s", text)
