"""API edges: an unknown survey, a bad limit or offset is a 400 naming it; an unknown path under
/api/ is a JSON 404 in the API's error shape."""
import pytest

from tests.factories import StarFactory

pytestmark = pytest.mark.django_db


def _error(response, status):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    return response.json()["error"]


@pytest.mark.parametrize("path", ["/api/stars/?survey=hubble", "/api/stars/{pk}/twins/?survey=hubble"])
def test_an_unknown_survey_is_refused_by_name(client, path):
    star = StarFactory()
    error = _error(client.get(path.format(pk=star.pk)), 400)
    assert "unknown survey 'hubble'; known: apogee, gaia_rvs, sdss" in error["detail"]["survey"]


@pytest.mark.parametrize("query, field, reason", [
    ("limit=-5", "limit", "must be between 1 and 1000"), ("limit=0", "limit", "must be between 1 and 1000"),
    ("limit=5000", "limit", "must be between 1 and 1000"), ("limit=ten", "limit", "not a whole number: 'ten'"),
    ("offset=abc", "offset", "not a whole number: 'abc'"), ("offset=-1", "offset", "must be 0 or more"),
])
def test_bad_paging_is_a_400(client, query, field, reason):
    StarFactory()
    assert _error(client.get(f"/api/stars/?{query}"), 400)["detail"][field] == reason


def test_good_paging_still_pages(client):
    for _ in range(3):
        StarFactory()
    body = client.get("/api/stars/?limit=2&offset=1").json()
    assert body["count"] == 3 and len(body["results"]) == 2


@pytest.mark.parametrize("path", ["/api/nothing-here", "/api/stars/1/nothing/", "/api/v2/stars/"])
def test_unknown_api_paths_answer_json_404(client, path):
    error = _error(client.get(path, HTTP_ACCEPT="text/html"), 404)
    assert error["status"] == 404 and "no API endpoint at" in error["detail"]
