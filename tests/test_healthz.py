"""/healthz reports the database, pgvector, the broker and the workers: the status to anyone, the
checks to staff or the health token; computed at most every few seconds."""
import pytest

from portal.celery import app

pytestmark = pytest.mark.django_db
TOKEN = "s3cret-health"


@pytest.fixture(autouse=True)
def health_token(settings):
    settings.HEALTH_TOKEN = TOKEN


def get(client, **headers):
    return client.get("/healthz", HTTP_AUTHORIZATION=f"Bearer {TOKEN}", **headers)


def test_anyone_gets_the_status_only(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "degraded"}
    wrong = client.get("/healthz", HTTP_AUTHORIZATION="Bearer guess")
    assert wrong.json() == {"status": "degraded"}


def test_staff_see_the_checks(admin_client):
    assert "pgvector" in admin_client.get("/healthz").json()["checks"]


def test_the_report_is_cached_so_hits_do_not_ping_the_workers(client, monkeypatch):
    from portal import health

    pings = []
    real = health._workers
    monkeypatch.setattr(health, "_workers", lambda timeout: pings.append(1) or real(timeout))
    for _ in range(5):
        client.get("/healthz")
    assert len(pings) == 1


def test_healthz_without_workers_is_degraded_but_serving(client):
    response = get(client)
    assert response.status_code == 200
    body = response.json()
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["pgvector"]["ok"] is True
    assert "pgvector" in body["checks"]["pgvector"]["detail"]
    assert body["checks"]["broker"]["ok"] is True
    assert body["checks"]["workers"]["count"] == 0
    assert body["status"] == "degraded"


@pytest.mark.slow
def test_healthz_with_a_worker_is_ok(client, celery_worker_process):
    body = get(client).json()
    assert body["status"] == "ok"
    assert body["checks"]["workers"]["count"] >= 1


def test_healthz_with_unreachable_broker_is_503(client, monkeypatch):
    monkeypatch.setattr(app.conf, "broker_url", "redis://127.0.0.1:9/0")  # a closed port, not a mock
    response = get(client)
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "down"
    assert body["checks"]["broker"]["ok"] is False
    assert body["checks"]["broker"]["detail"]
