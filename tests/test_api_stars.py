"""/api/stars: search by identifier, cone and parameter ranges; 400s with reasons; renderers."""
import pytest

from tests.factories import LabelsFactory, SpectrumFactory, StarFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def stars():
    near = StarFactory(designation="2M10000000+0000000", ra=150.0, dec=2.0)
    also = StarFactory(designation="2M10000100+0000000", ra=150.01, dec=2.0)
    far = StarFactory(designation="2M20000000+0000000", ra=300.0, dec=-40.0, gaia_source_id=123456789)
    LabelsFactory(star=near, teff=4000, logg=1.5, fe_h=-0.5)
    LabelsFactory(star=also, teff=5000, logg=3.0, fe_h=0.1)
    LabelsFactory(star=far, teff=6000, logg=4.2, fe_h=0.2)
    SpectrumFactory(star=near)
    return near, also, far


def test_cone_search_in_degrees_and_sexagesimal(client, stars):
    near, also, far = stars
    body = client.get("/api/stars/", {"ra": "150", "dec": "2", "radius": "0.1"}).json()
    assert [row["designation"] for row in body["results"]] == [near.designation, also.designation]
    assert body["results"][1]["distance"] == pytest.approx(0.01 * 0.99939, rel=1e-3)  # cos(dec) shrinks RA
    body = client.get("/api/stars/", {"ra": "10:00:00", "dec": "+02:00:00", "radius": "1m"}).json()
    assert [row["designation"] for row in body["results"]] == [near.designation, also.designation]


def test_identifier_and_parameter_filters(client, stars):
    near, also, far = stars
    assert client.get("/api/stars/", {"q": "123456789"}).json()["results"][0]["designation"] == far.designation
    rows = client.get("/api/stars/", {"teff_min": 4500, "logg_max": 3.5}).json()["results"]
    assert [r["designation"] for r in rows] == [also.designation]
    rows = client.get("/api/stars/", {"ordering": "-teff"}).json()["results"]
    assert [r["teff"] for r in rows] == [6000, 5000, 4000]
    assert client.get("/api/stars/", {"survey": "apogee"}).json()["count"] == 1


@pytest.mark.parametrize("params, reason", [
    ({"ra": "400", "dec": "0", "radius": "1"}, "RA must be in [0, 360)"),
    ({"ra": "10", "dec": "0", "radius": "-1"}, "radius must be positive"),
    ({"ra": "10", "dec": "95", "radius": "1"}, "Dec must be in [-90, 90]"),
    ({"ra": "10", "dec": "0"}, "give a radius"),
    ({"colour": "red"}, "colour"),
    ({"teff_min": "hot"}, "not a number"),
    ({"teff_min": 6000, "teff_max": 5000}, "minimum 6000.0 is above the maximum 5000.0"),
    ({"ordering": "mass"}, "cannot sort by 'mass'"),
])
def test_bad_parameters_get_400_with_a_reason(client, stars, params, reason):
    response = client.get("/api/stars/", params)
    assert response.status_code == 400
    body = response.json()["error"]
    assert body["status"] == 400 and reason in str(body["detail"])


def test_page_size_is_capped(client, stars):
    response = client.get("/api/stars/", {"limit": 100000})
    assert response.status_code == 400 and response.json()["error"]["detail"]["limit"] == "must be between 1 and 1000"
    assert client.get("/api/stars/", {"limit": 1000}).json()["count"] == 3


def test_star_detail_spectrum_units_and_404(client, stars):
    near = stars[0]
    detail = client.get(f"/api/stars/{near.pk}/").json()
    assert detail["labels"][0]["teff"] == 4000 and detail["spectra"][0]["survey"] == "apogee"
    spectrum = client.get(f"/api/stars/{near.pk}/spectrum/").json()
    assert spectrum["units"]["wavelength"] == "Angstrom" and len(spectrum["flux"]) == len(spectrum["wavelength"]) == 64
    assert client.get("/api/stars/999999/").status_code == 404
    assert client.get(f"/api/stars/{stars[2].pk}/spectrum/").status_code == 400


def test_csv_and_votable_renderers(client, stars):
    csv = client.get("/api/stars/", {"format": "csv", "ra": "150", "dec": "2", "radius": "0.1"}).getvalue().decode()
    assert csv.splitlines()[0].startswith("id,designation,ra,dec") and len(csv.splitlines()) == 3
    votable = client.get("/api/stars/", {"format": "votable"}).getvalue().decode()
    assert 'ucd="pos.eq.ra;meta.main"' in votable and "2M20000000+0000000" in votable


def test_anonymous_clients_are_throttled(client, stars, monkeypatch):
    from django.core.cache import cache
    from rest_framework.throttling import SimpleRateThrottle

    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"anon": "2/minute", "user": "5/minute"})
    cache.clear()
    codes = [client.get("/api/models/").status_code for _ in range(4)]
    assert codes[:2] == [200, 200] and codes[-1] == 429
    assert "throttled" in str(client.get("/api/models/").json()["error"]["code"])
    cache.clear()
