"""Two builds of one version's HNSW index take turns: a finish task delivered twice must not take
the first build's unfinished index for a leftover and drop it (in the demo that deadlocked and
failed the version)."""
import threading
import time

import pytest
from django.db import connection, connections

from catalog import services
from catalog.services.outputs import _INDEX_LOCK_NAMESPACE
from tests.test_embedding_index import _fill

pytestmark = pytest.mark.django_db(transaction=True)


def _valid(name: str) -> bool | None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT i.indisvalid FROM pg_class c JOIN pg_index i ON i.indexrelid = c.oid WHERE c.relname = %s",
                       [name])
        row = cursor.fetchone()
    return None if row is None else row[0]


def test_a_second_build_waits_for_the_first_and_finds_the_index():
    version = _fill(200, index=False)
    first = connections.create_connection("default")  # a build in progress holds the version's lock
    with first.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s, %s)", [_INDEX_LOCK_NAMESPACE, version.pk])
    errors = []

    def second_build():
        try:
            services.embedding_index_build(version=version)
        except Exception as error:  # reported by the assertion below
            errors.append(error)
        finally:
            connections.close_all()

    thread = threading.Thread(target=second_build)
    thread.start()
    try:
        time.sleep(1.0)
        assert thread.is_alive(), "the second build did not wait for the first"
        assert _valid(version.index_name) is None
    finally:
        with first.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [_INDEX_LOCK_NAMESPACE, version.pk])
        first.close()
        thread.join(timeout=60)
    assert errors == [] and _valid(version.index_name) is True


def test_concurrent_builds_leave_one_valid_index():
    version = _fill(2000, index=False)
    errors = []

    def build():
        try:
            services.embedding_index_build(version=version)
        except Exception as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=build) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == [] and _valid(version.index_name) is True
