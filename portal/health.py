"""``/healthz``: is each part of the stack up? JSON, with 200 when serving is possible, else 503.

Checks: the database answers; the ``vector`` extension is installed; the broker accepts a
connection; how many Celery workers answer a ping within ``timeout`` seconds. No workers makes the
status "degraded" (searches still work, training and embedding fills wait) but keeps 200, so a
load balancer does not take the web tier out of service because the workers are restarting.
"""
from __future__ import annotations

import time

from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from portal.celery import app as celery_app


def _check(fn) -> dict:
    started = time.perf_counter()
    try:
        detail = fn()
        ok = True
    except Exception as error:  # a health check reports every failure instead of raising
        detail, ok = f"{type(error).__name__}: {error}", False
    return {"ok": ok, "detail": detail, "ms": round(1000 * (time.perf_counter() - started), 1)}


def _database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        return cursor.fetchone()[0].split(" on ")[0]


def _pgvector() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
        row = cursor.fetchone()
    if row is None:
        raise RuntimeError("the vector extension is not installed (run migrate)")
    return f"pgvector {row[0]}"


def _broker() -> str:
    with celery_app.connection_for_write() as broker:
        broker.ensure_connection(max_retries=1, timeout=2)
        return broker.as_uri()


def _workers(timeout: float) -> list[str]:
    replies = celery_app.control.ping(timeout=timeout) or []
    return sorted(name for reply in replies for name in reply)


def health_report(worker_timeout: float = 1.0) -> tuple[dict, int]:
    """Return (report, HTTP status)."""
    checks = {"database": _check(_database), "pgvector": _check(_pgvector), "broker": _check(_broker)}
    workers = _check(lambda: _workers(worker_timeout)) if checks["broker"]["ok"] else {"ok": False, "detail": []}
    names = workers["detail"] if workers["ok"] else []
    checks["workers"] = {"ok": bool(names), "count": len(names), "detail": names}
    critical_ok = all(checks[name]["ok"] for name in ("database", "pgvector", "broker"))
    status = "ok" if critical_ok and names else ("degraded" if critical_ok else "down")
    return {"status": status, "checks": checks}, 200 if critical_ok else 503


@never_cache
@require_GET
def healthz(request):
    """The view: the report as JSON, 200 or 503."""
    report, status = health_report()
    return JsonResponse(report, status=status)
