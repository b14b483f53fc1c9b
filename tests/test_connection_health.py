"""A kept database connection is checked at the start of each request without a round trip
(portal.database): a healthy idle session is left alone and sent nothing, a session the server
ended is replaced, and a session with a harmless message waiting is kept."""
import time

import psycopg2
import pytest
from django.db import connection, connections

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def other():
    """A second session on the same database, to watch and to signal the first."""
    session = psycopg2.connect(**connection.get_connection_params())
    session.autocommit = True
    yield session.cursor()
    session.close()


def backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def check_as_a_request_starts() -> None:
    """What Django does before the first query of a request that reuses the connection."""
    connection.health_check_done = False
    connection.close_if_health_check_failed()


def test_the_backend_is_the_project_s():
    assert connection.settings_dict["CONN_HEALTH_CHECKS"]
    assert type(connections["default"]).__module__ == "portal.database.base"


def test_a_healthy_idle_session_is_kept_and_sent_nothing(other):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 'the last statement'")
    pid = connection.connection.info.backend_pid
    check_as_a_request_starts()
    assert connection.connection is not None
    other.execute("SELECT query FROM pg_stat_activity WHERE pid = %s", [pid])
    assert other.fetchone()[0] == "SELECT 'the last statement'"  # Django's own check would show SELECT 1
    assert backend_pid() == pid


def test_a_session_the_server_ended_is_replaced(other):
    pid = backend_pid()
    other.execute("SELECT pg_terminate_backend(%s)", [pid])
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        other.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [pid])
        if other.fetchone()[0] == 0:
            break
        time.sleep(0.05)
    check_as_a_request_starts()
    assert connection.connection is None  # closed by the check, not by a failed query
    assert backend_pid() != pid


def test_a_session_with_a_harmless_message_waiting_is_kept(other):
    with connection.cursor() as cursor:
        cursor.execute("LISTEN doppel_health_test")
    pid = connection.connection.info.backend_pid
    other.execute("NOTIFY doppel_health_test")
    time.sleep(0.2)  # the notification reaches the idle session's socket
    check_as_a_request_starts()
    assert connection.connection is not None and backend_pid() == pid
    with connection.cursor() as cursor:
        cursor.execute("UNLISTEN *")
