"""Bulk exports stream the whole result (CSV and VOTable of stars and BHB candidates) chunk by chunk
under a row cap, and pages name their neighbours in a Link header."""
import csv
import io
import warnings

import pytest
from astropy.io.votable import parse

from catalog.models import ModelVersion, Star
from portal.api import exports
from tests.factories import BHBScoreFactory, ModelVersionFactory, StarFactory

pytestmark = pytest.mark.django_db


def _votable(content: bytes):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # W50 on "dex"
        return parse(io.BytesIO(content))


@pytest.fixture
def many_stars():
    Star.objects.bulk_create([Star(designation=f"S{k:05d}", ra=k * 0.01, dec=0.0,
                                   gaia_source_id=4295806720123456789 + k if k % 2 else None) for k in range(2500)])


def test_a_large_export_streams_in_chunks_and_holds_every_row(client, many_stars):
    response = client.get("/api/stars/", {"format": "csv", "ordering": "designation"})
    assert response.streaming and response["Doppel-Overflow"] == "false"
    pieces = list(response.streaming_content)
    assert len(pieces) >= 3  # the header, then one piece per 2,000-row chunk
    rows = list(csv.DictReader(io.StringIO(b"".join(pieces).decode())))
    assert len(rows) == 2500 and rows[0]["designation"] == "S00000" and rows[-1]["designation"] == "S02499"
    assert rows[1]["gaia_source_id"] == "4295806720123456790" and rows[0]["gaia_source_id"] == ""


def test_a_streamed_votable_parses_with_exact_ids_and_masked_nulls(client, many_stars):
    response = client.get("/api/stars/", {"format": "votable", "ordering": "designation", "offset": 2490})
    assert response["Content-Type"] == "application/x-votable+xml"
    votable = _votable(response.getvalue())
    table = votable.get_first_table().to_table()
    assert len(table) == 10 and list(table["designation"][:2]) == ["S02490", "S02491"]
    assert table["gaia_source_id"][1] == 4295806720123456789 + 2491 and bool(table["gaia_source_id"].mask[0])
    assert bool(table["teff"].mask.all())  # no labels: nulls, not placeholders
    infos = {info.name: info.value for info in votable.resources[0].infos}
    assert infos["QUERY_STATUS"] == "OK" and "offset=2490" in infos["request"]


def test_the_row_cap_is_an_overflow(client, many_stars, settings):
    settings.EXPORT_MAX_ROWS = 100
    response = client.get("/api/stars/", {"format": "votable"})
    assert response["Doppel-Overflow"] == "true"
    votable = _votable(response.getvalue())
    assert len(votable.get_first_table().array) == 100
    assert {info.name: info.value for info in votable.resources[0].infos}["QUERY_STATUS"] == "OVERFLOW"
    exact = client.get("/api/stars/", {"format": "csv", "offset": 2400})
    assert exact["Doppel-Overflow"] == "false" and len(exact.getvalue().decode().splitlines()) == 1 + 100


def test_an_empty_export_keeps_its_columns(client):
    votable = _votable(client.get("/api/stars/", {"format": "votable", "q": "nothing"}).getvalue())
    names = [field.name for field in votable.get_first_table().fields]
    assert names[:4] == ["id", "designation", "ra", "dec"] and "bhb_score" in names
    header = client.get("/api/stars/", {"format": "csv", "q": "nothing"}).getvalue().decode().strip()
    assert header.split(",")[:2] == ["id", "designation"]


def test_a_cone_export_has_the_distance_column(client, many_stars):
    text = client.get("/api/stars/", {"format": "csv", "ra": 0.05, "dec": 0, "radius": 0.02}).getvalue().decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows and all(float(row["distance"]) <= 0.02 for row in rows)


def test_bhb_candidates_export_streams(client, monkeypatch):
    monkeypatch.setattr(exports, "CHUNK", 3)
    version = ModelVersionFactory(kind=ModelVersion.Kind.BHB, state=ModelVersion.State.ACTIVE)
    for k in range(8):
        BHBScoreFactory(model_version=version, star=StarFactory(designation=f"B{k}"), score=0.9 - k * 0.01)
    response = client.get("/api/bhb-candidates/", {"format": "votable", "threshold": 0.5})
    pieces = list(response.streaming_content)
    assert len(pieces) == 1 + 3 + 1  # schema, three chunks of ≤ 3 rows, the closing tags
    table = _votable(b"".join(pieces)).get_first_table().to_table()
    assert list(table["designation"]) == [f"B{k}" for k in range(8)] and table["model_version"][0] == version.pk
    assert bool(table["xue_bhb"].mask.all())  # no Balmer lines measured
    bad = client.get("/api/bhb-candidates/", {"format": "csv", "threshold": 2})
    assert bad.status_code == 400


def test_pages_carry_link_headers(client):
    for k in range(5):
        StarFactory(designation=f"L{k}")
    first = client.get("/api/stars/", {"limit": 2})
    assert first["Link"] == f'<{first.json()["next"]}>; rel="next"'
    middle = client.get("/api/stars/", {"limit": 2, "offset": 2})
    links = dict(reversed(part.split("; ")) for part in middle["Link"].split(", "))
    assert set(links) == {'rel="next"', 'rel="prev"', 'rel="first"'}
    assert "offset=4" in links['rel="next"'] and "offset" not in links['rel="first"']
    last = client.get("/api/stars/", {"limit": 2, "offset": 4})
    assert 'rel="next"' not in last["Link"] and 'rel="prev"' in last["Link"]
