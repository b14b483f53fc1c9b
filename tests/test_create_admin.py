"""`manage.py create_admin` creates the superuser once and tells its password."""
from io import StringIO

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_password_from_environment(monkeypatch):
    monkeypatch.setenv("DOPPEL_ADMIN_PASSWORD", "correct horse battery")
    out = StringIO()
    call_command("create_admin", stdout=out)
    assert "Created admin user 'admin'" in out.getvalue()
    assert "correct horse battery" not in out.getvalue()
    user = authenticate(username="admin", password="correct horse battery")
    assert user is not None and user.is_superuser and user.is_staff


def test_generated_password_is_printed_and_works(monkeypatch, settings, tmp_path):
    monkeypatch.delenv("DOPPEL_ADMIN_PASSWORD", raising=False)
    settings.VAR_DIR = tmp_path
    out = StringIO()
    call_command("create_admin", stdout=out)
    password = out.getvalue().strip().rsplit("Password: ", 1)[1]
    assert authenticate(username="admin", password=password) is not None
    again = StringIO()
    call_command("create_admin", stdout=again)
    assert "exists" in again.getvalue() and password in again.getvalue()
    assert get_user_model().objects.filter(username="admin").count() == 1
