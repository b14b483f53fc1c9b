"""Web pages. Views are thin: they call selectors and render."""
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from catalog import selectors
from portal.health import health_report


@require_GET
def home(request):
    return render(request, "catalog/home.html", {"summary": selectors.catalog_summary()})


@never_cache
@require_GET
def healthz(request):
    report, status = health_report()
    return JsonResponse(report, status=status)
