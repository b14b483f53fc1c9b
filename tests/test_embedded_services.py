"""The embedded PostgreSQL and Redis start on demand, are reused, and stop cleanly (twice)."""
import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow


def _embedded(var, *args):
    env = {**os.environ, "DOPPEL_VAR": str(var)}
    return subprocess.run([sys.executable, "-m", "portal.embedded", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_start_reuse_and_stop_in_a_fresh_var_directory(tmp_path):
    var = tmp_path / "var"
    first = _embedded(var, "start")
    assert first.returncode == 0, first.stderr
    assert "PostgreSQL  ready" in first.stdout and "Redis       ready" in first.stdout
    pid = (var / "pg" / "postmaster.pid").read_text().split()[0]
    try:
        again = _embedded(var, "start")  # a second process reuses the running servers
        assert again.returncode == 0, again.stderr
        assert (var / "pg" / "postmaster.pid").read_text().split()[0] == pid
        status = _embedded(var, "status")
        assert "PostgreSQL  running" in status.stdout and "Redis       running" in status.stdout
    finally:
        stopped = _embedded(var, "stop")
    assert stopped.returncode == 0, stopped.stderr
    assert "PostgreSQL  stopped" in stopped.stdout and "Redis       stopped" in stopped.stdout
    twice = _embedded(var, "stop")
    assert twice.returncode == 0
    assert "was not running" in twice.stdout
    assert not (var / "pg" / "postmaster.pid").exists()


def test_unknown_command_is_a_usage_error(tmp_path):
    result = _embedded(tmp_path, "explode")
    assert result.returncode == 2
    assert "usage:" in result.stderr


def test_settings_share_the_running_server():
    from django.conf import settings
    from django.db import connection

    from portal import embedded

    if os.environ.get("DATABASE_URL"):
        pytest.skip("DATABASE_URL points at an external server")
    assert settings.DATABASES["default"]["HOST"] == embedded.postgres_settings()["HOST"]
    assert connection.settings_dict["HOST"].startswith("/")  # unix socket, no TCP listener
