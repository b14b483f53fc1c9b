"""A long result is counted exactly up to a limit and estimated beyond it, on the pages and in the
API (which says so), so that a page of millions of stars never counts them all."""
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog import selectors
from catalog.models import Star

pytestmark = pytest.mark.django_db


@pytest.fixture
def stars():
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO catalog_star (designation, ra, dec, apogee_id) "
                       "SELECT 'EST-' || g, g % 360, 0, '' FROM generate_series(1, 1200) g")
        cursor.execute("ANALYZE catalog_star")


def test_small_results_are_exact_and_large_ones_estimated(stars):
    assert selectors.result_count(Star.objects.filter(designation__startswith="EST-1"), exact_up_to=5000) == \
        selectors.ResultCount(Star.objects.filter(designation__startswith="EST-1").count(), estimated=False)
    assert selectors.result_count(Star.objects.none()) == selectors.ResultCount(0, estimated=False)
    counted = selectors.result_count(Star.objects.all(), exact_up_to=100)
    assert counted.estimated and 101 <= counted.n and abs(counted.n - 1200) < 300  # the planner's figure


def test_the_api_says_whether_its_count_is_estimated(client, stars, monkeypatch):
    answer = client.get("/api/stars/?limit=5").json()
    assert answer["count"] == 1200 and answer["count_estimated"] is False
    monkeypatch.setattr(selectors.result_count, "__defaults__", (100,))  # exact up to 100 results
    with CaptureQueriesContext(connection) as queries:
        answer = client.get("/api/stars/?limit=5").json()
    assert answer["count_estimated"] is True and len(answer["results"]) == 5
    assert any(q["sql"].startswith("EXPLAIN") for q in queries.captured_queries)
    assert not [q for q in queries.captured_queries if q["sql"].upper().startswith("SELECT COUNT(*) AS")]


def test_the_search_page_says_about_when_estimated(client, stars, monkeypatch):
    assert re.search(r"<p>1,200 stars", client.get("/?text=EST").content.decode())
    monkeypatch.setattr(selectors.result_count, "__defaults__", (100,))
    assert re.search(r"<p>about [\d,]+ stars", client.get("/?text=EST").content.decode())
