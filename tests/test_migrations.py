"""The schema applies on the embedded PostgreSQL, with pgvector, and matches the models."""
import os
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection

pytestmark = pytest.mark.django_db


def test_vector_extension_is_installed():
    with connection.cursor() as cursor:
        cursor.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
        row = cursor.fetchone()
    assert row is not None, "migrations must create the vector extension"
    major, minor = (int(part) for part in row[0].split(".")[:2])
    assert (major, minor) >= (0, 8)


def test_embedded_server_is_postgresql_18():
    if os.environ.get("DATABASE_URL"):
        pytest.skip("DATABASE_URL points at an external server")
    assert connection.vendor == "postgresql"
    assert 180000 <= connection.pg_version < 190000


def test_every_catalog_table_exists():
    expected = {
        "catalog_survey", "catalog_star", "catalog_spectrum", "catalog_image", "catalog_labels",
        "catalog_bhblabel", "catalog_modelversion", "catalog_trainingrun", "catalog_embedding",
        "catalog_bhbscore",
    }
    assert expected <= set(connection.introspection.table_names())


def test_models_and_migrations_agree():
    out = StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out)
    assert "No changes detected" in out.getvalue()
