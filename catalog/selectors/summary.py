"""Reads. Views, the API and tasks query the catalog through these functions only."""
from __future__ import annotations

from django.db.models import Count

from catalog.models import ModelVersion, Spectrum, Star, Survey


def catalog_summary() -> dict:
    """Counts for the home page: stars, spectra per survey, and the active model of each kind."""
    per_survey = dict(
        Spectrum.objects.values_list("survey__code").annotate(n=Count("id")).values_list("survey__code", "n")
    )
    return {
        "n_stars": Star.objects.count(),
        "surveys": [
            {"code": survey.code, "name": survey.name, "n_spectra": per_survey.get(survey.code, 0)}
            for survey in Survey.objects.all()
        ],
        "active_models": list(ModelVersion.objects.filter(state=ModelVersion.State.ACTIVE).order_by("kind")),
    }
