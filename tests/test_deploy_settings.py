"""Production settings pass `check --deploy` cleanly, and bad env values fail with their name."""
import os
import subprocess
import sys

from tests.conftest import ROOT

PRODUCTION_ENV = {
    "DATABASE_URL": "postgres://doppel:secret@db.internal:5432/doppel",
    "CELERY_BROKER_URL": "redis://redis.internal:6379/0",
    "DJANGO_SECRET_KEY": "x7!k2@p9#v4$m1^q8&w3*z6(r5)t0_y-u=i+o[e]a{s}d|f;g:h,j.k/l<m>n?b~c" * 2,
    "DJANGO_ALLOWED_HOSTS": "doppel.example.org",
}


def _manage(*args, env_update: dict, drop=("DJANGO_DEBUG", "DOPPEL_HTTPS", "DOPPEL_VAR")):
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update({"DJANGO_SETTINGS_MODULE": "portal.settings", **env_update})
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_check_deploy_is_clean_with_production_variables():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env_update=PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_warns_when_debug_is_on():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env_update={**PRODUCTION_ENV, "DJANGO_DEBUG": "1"})
    assert result.returncode != 0
    assert "DEBUG" in result.stdout + result.stderr


def test_unparseable_boolean_names_the_variable():
    result = _manage("check", env_update={**PRODUCTION_ENV, "DJANGO_DEBUG": "maybe"})
    assert result.returncode != 0
    assert "DJANGO_DEBUG='maybe' is not a boolean" in result.stderr


def test_bad_continuum_pixel_path_names_the_variable():
    result = _manage("check", env_update={**PRODUCTION_ENV, "DOPPEL_APOGEE_CONTINUUM_PIXELS": "/no/such/file.npz"})
    assert result.returncode != 0
    assert "DOPPEL_APOGEE_CONTINUUM_PIXELS='/no/such/file.npz'" in result.stderr
