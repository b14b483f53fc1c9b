"""/api/stars pages by key: following ``next`` cursors walks a search in exactly the order (ties,
stars without a value last) and with exactly the stars that offsets give; deep offsets hand out a
cursor; a bad or foreign cursor is a 400 with the reason."""
import pytest

from catalog.selectors import StarQuery, stars_search
from portal.api.pagination import StarPagination
from tests.factories import LabelsFactory, StarFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def stars():
    """45 stars: Teff from 9 values (ties of five), and 8 stars without labels."""
    made = []
    for n in range(45):
        star = StarFactory(designation=f"2M{(n * 37) % 45:08d}+0000000")
        LabelsFactory(star=star, teff=4000 + 250 * (n % 9), logg=1.0 + 0.1 * (n % 4), fe_h=-0.1 * (n % 5))
        made.append(star)
    made += [StarFactory() for _ in range(8)]
    return made


def _walk(client, params: dict, limit: int) -> list[int]:
    """Every star of the search, following ``next`` cursors from an ``after`` start."""
    body = client.get("/api/stars/", {**params, "limit": limit}).json()
    seen = [row["id"] for row in body["results"]]
    url = body["next"]
    pages = 0
    while url:
        assert "offset=" not in url
        body = client.get(url).json()
        seen += [row["id"] for row in body["results"]]
        url = body["next"]
        pages += 1
        assert pages < 100
    return seen


@pytest.mark.parametrize("ordering", ["teff", "-teff", "designation", "-designation", "logg", "-fe_h"])
def test_cursor_pages_walk_the_same_stars_in_the_same_order_as_offsets(client, stars, ordering, monkeypatch):
    everything = list(stars_search(StarQuery(order=ordering)).values_list("pk", flat=True))  # the database's sort
    assert len(everything) == 53
    assert [row["id"] for row in client.get("/api/stars/", {"ordering": ordering, "limit": 1000}).json()["results"]] == everything
    monkeypatch.setattr(StarPagination, "deep", 0)  # every next is a cursor
    assert _walk(client, {"ordering": ordering}, limit=7) == everything
    # the same with a filter, and pages that end inside a tie
    filtered = list(stars_search(StarQuery(order=ordering, teff=(4500.0, None))).values_list("pk", flat=True))
    assert _walk(client, {"ordering": ordering, "teff_min": 4500}, limit=4) == filtered


def test_offsets_switch_to_cursors_once_deep(client, stars, monkeypatch):
    monkeypatch.setattr(StarPagination, "deep", 20)
    shallow = client.get("/api/stars/", {"ordering": "teff", "limit": 10}).json()
    assert "offset=10" in shallow["next"]
    deep = client.get("/api/stars/", {"ordering": "teff", "limit": 10, "offset": 10}).json()
    assert "after=" in deep["next"] and "offset" not in deep["next"]
    following = client.get(deep["next"])
    assert following.status_code == 200 and following.json()["previous"] is None
    assert 'rel="first"' in following["Link"]
    offset_page = client.get("/api/stars/", {"ordering": "teff", "limit": 10, "offset": 20}).json()
    assert [r["id"] for r in following.json()["results"]] == [r["id"] for r in offset_page["results"]]


@pytest.mark.parametrize("params, reason", [
    ({"after": "not-a-cursor"}, "not a cursor this API handed out"),
    ({"after": "WyJ0ZWZmIiwgNDAwMC4wLCAxXQ", "ordering": "logg"}, "sorted by 'teff', not 'logg'"),
    ({"after": "WyJ0ZWZmIiwgNDAwMC4wLCAxXQ", "ordering": "teff", "offset": 5}, "give after or offset, not both"),
])
def test_bad_cursors_get_400_with_a_reason(client, stars, params, reason):
    response = client.get("/api/stars/", params)
    assert response.status_code == 400 and reason in str(response.json())
