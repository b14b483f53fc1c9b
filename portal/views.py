"""Operational views (the web pages are in portal.web, the API in portal.api)."""
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from portal.health import health_report


@never_cache
@require_GET
def healthz(request):
    report, status = health_report()
    return JsonResponse(report, status=status)
