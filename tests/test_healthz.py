"""/healthz reports the database, pgvector, the broker and the workers."""
import pytest

from portal.celery import app

pytestmark = pytest.mark.django_db


def test_healthz_without_workers_is_degraded_but_serving(client):
    response = client.get("/healthz")
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
    body = client.get("/healthz").json()
    assert body["status"] == "ok"
    assert body["checks"]["workers"]["count"] >= 1


def test_healthz_with_unreachable_broker_is_503(client, monkeypatch):
    monkeypatch.setattr(app.conf, "broker_url", "redis://127.0.0.1:9/0")  # a closed port, not a mock
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "down"
    assert body["checks"]["broker"]["ok"] is False
    assert body["checks"]["broker"]["detail"]
