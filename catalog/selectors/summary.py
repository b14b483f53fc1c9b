"""Reads. Views, the API and tasks query the catalog through these functions only."""
from __future__ import annotations

from django.core.cache import cache
from django.db.models import Count

from catalog.models import ModelVersion, Spectrum, Star, Survey

COUNTS_CACHE_S = 60  # the home page's counts may be this old; a full count(*) per anonymous hit is not


def _counts() -> dict:
    per_survey = dict(
        Spectrum.objects.values_list("survey__code").annotate(n=Count("id")).values_list("survey__code", "n")
    )
    return {"n_stars": Star.objects.count(),
            "surveys": [{"code": survey.code, "name": survey.name, "n_spectra": per_survey.get(survey.code, 0)}
                        for survey in Survey.objects.all()]}


def catalog_summary() -> dict:
    """Counts for the home page (stars, spectra per survey; shared-cached for ``COUNTS_CACHE_S``)
    and the active model of each kind (always current)."""
    return {**cache.get_or_set("catalog-summary-counts", _counts, COUNTS_CACHE_S),
            "active_models": list(ModelVersion.objects.filter(state=ModelVersion.State.ACTIVE).order_by("kind"))}
