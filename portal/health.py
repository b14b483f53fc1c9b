"""``/healthz``: is each part of the stack up? JSON, with 200 when serving is possible, else 503.

Checks: the database answers; the ``vector`` extension is installed; the broker accepts a
connection; how many Celery workers answer a ping within ``timeout`` seconds. No workers makes the
status "degraded" (searches still work, training and embedding fills wait) but keeps 200, so a
load balancer does not take the web tier out of service because the workers are restarting.

Anyone gets ``{"status": …}``; the checks (versions, broker address, worker host names) go to
staff and to a request with ``Authorization: Bearer $DOPPEL_HEALTH_TOKEN``. The report is computed
at most once every ``HEALTH_CACHE_S`` seconds (shared cache), so probes and anonymous hits never
ping the workers each.
"""
from __future__ import annotations

import hmac
import time

from django.conf import settings
from django.core.cache import cache
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


HEALTH_CACHE_S = 5


def _may_see_details(request) -> bool:
    if request.user.is_authenticated and request.user.is_staff:
        return True
    token, given = settings.HEALTH_TOKEN, request.headers.get("Authorization", "")
    return bool(token) and hmac.compare_digest(given.encode(), f"Bearer {token}".encode())


@never_cache
@require_GET
def healthz(request):
    """The view: 200 or 503 with the status (and, for staff or the health token, the checks)."""
    report, status = cache.get_or_set("healthz-report", health_report, HEALTH_CACHE_S)
    return JsonResponse(report if _may_see_details(request) else {"status": report["status"]}, status=status)
