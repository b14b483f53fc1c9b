"""Anonymous pages do their expensive work once: the home page's counts and the thumbnails come
from the shared cache on repeat hits."""
import numpy as np
import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.arrays import array_to_bytes
from catalog.selectors import catalog_summary
from tests.factories import SpectrumFactory, StarFactory, SurveyFactory

pytestmark = pytest.mark.django_db


def test_home_page_counts_are_cached(client):
    StarFactory()
    client.get("/")  # fills the cache
    with CaptureQueriesContext(connection) as queries:
        client.get("/")
    assert not [q for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]
    StarFactory()
    assert catalog_summary()["n_stars"] == 1  # still the cached count
    cache.clear()
    assert catalog_summary()["n_stars"] == 2


def test_a_thumbnail_is_drawn_once(client, monkeypatch):
    from portal.web import views

    sdss = SurveyFactory(code="sdss", name="SDSS", n_pixels=3522)
    star = StarFactory()
    SpectrumFactory(star=star, survey=sdss, flux=array_to_bytes(np.ones(3522)))
    drawn = []
    real = views.spectrum_png
    monkeypatch.setattr(views, "spectrum_png", lambda *a, **k: drawn.append(1) or real(*a, **k))
    first = client.get(f"/stars/{star.pk}/spectrum.png")
    second = client.get(f"/stars/{star.pk}/spectrum.png")
    assert first.status_code == second.status_code == 200 and first.content == second.content
    assert len(drawn) == 1
