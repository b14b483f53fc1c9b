"""VOTables as astropy and TOPCAT read them: typed masked columns (an int64 Gaia source_id stays
exact beside a star without one), units astropy reads back, UCDs, what was asked as INFO; the cone
search's empty answer keeps its schema, and MAXREC caps with QUERY_STATUS = OVERFLOW."""
import io
import warnings

import astropy.units as u
import pytest
from astropy.io.votable import parse

from tests.factories import LabelsFactory, StarFactory

pytestmark = pytest.mark.django_db
SOURCE_ID = 4295806720123456789


def _table(content: bytes):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # W50 on "dex" (see below)
        votable = parse(io.BytesIO(content))
    return votable, votable.get_first_table()


def test_api_votable_keeps_ids_exact_and_units_readable(client):
    with_id = StarFactory(designation="A", gaia_source_id=SOURCE_ID, ra=10.0, dec=1.0)
    StarFactory(designation="B", gaia_source_id=None, ra=11.0, dec=1.0)
    LabelsFactory(star=with_id, teff=4500.0, logg=2.1, fe_h=-0.3)
    votable, table = _table(client.get("/api/stars/", {"format": "votable", "ordering": "designation"}).getvalue())
    data = table.to_table()
    assert data["gaia_source_id"].dtype.kind == "i" and int(data["gaia_source_id"][0]) == SOURCE_ID
    assert bool(data["gaia_source_id"].mask[1])  # missing: masked, not a placeholder
    # "dex", not "0.1 ex"; VOUnit has no dex, so astropy's reader warns (W50) and keeps the string,
    # which astropy's own unit parser reads back exactly
    assert data["teff"].unit == u.K and str(data["fe_h"].unit) == "dex"
    assert u.Unit(str(data["fe_h"].unit)) == u.dex and u.Unit(str(data["logg"].unit)) == u.dex(u.cm / u.s**2)
    fields = {field.name: field for field in table.fields}
    assert fields["teff"].ucd == "phys.temperature.effective" and fields["fe_h"].ucd == "phys.abund.Fe"
    assert fields["ra"].ucd == "pos.eq.ra;meta.main"
    infos = {info.name: info.value for info in votable.resources[0].infos}
    assert infos["QUERY_STATUS"] == "OK" and "format=votable" in infos["request"]


def test_writing_our_own_units_warns_of_nothing():
    """Each warning would be a line in the server's log on every VOTable answer."""
    from portal.api.renderers import votable_bytes

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        content = votable_bytes([{"designation": "A", "teff": 4500.0, "logg": 2.1, "fe_h": -0.3, "alpha_fe": 0.1,
                                  "delta_logg": 0.2}])
    assert b'unit="dex"' in content


def test_an_empty_cone_search_keeps_its_schema(client):
    votable, table = _table(client.get("/vo/scs", {"RA": 100, "DEC": 10, "SR": 0.01, "VERB": 3}).content)
    assert [field.name for field in table.fields] == ["designation", "ra", "dec", "separation", "teff", "logg", "fe_h",
                                                      "alpha_fe", "bhb_score", "apogee_id", "sdss_id"]
    assert table.to_table()["separation"].unit == u.deg


def test_maxrec_caps_the_cone_with_an_overflow_status(client):
    for k in range(3):
        StarFactory(designation=f"S{k}", ra=50.0 + 0.001 * k, dec=0.0)
    votable, table = _table(client.get("/vo/scs", {"RA": 50, "DEC": 0, "SR": 0.1, "MAXREC": 2}).content)
    assert len(table.array) == 2
    assert {info.name: info.value for info in votable.resources[0].infos}["QUERY_STATUS"] == "OVERFLOW"
    full = _table(client.get("/vo/scs", {"RA": 50, "DEC": 0, "SR": 0.1}).content)
    assert len(full[1].array) == 3 and {i.name: i.value for i in full[0].resources[0].infos}["QUERY_STATUS"] == "OK"
    error = client.get("/vo/scs", {"RA": 50, "DEC": 0, "SR": 0.1, "MAXREC": -1}).content.decode()
    assert "MAXREC=-1 must be between 0 and 10000" in error


def test_exports_are_the_whole_result_not_a_page(client, settings):
    for k in range(7):
        StarFactory(designation=f"E{k}", ra=20.0 + k, dec=0.0)
    csv = client.get("/api/stars/", {"format": "csv", "limit": 2}).getvalue().decode().strip().splitlines()
    assert len(csv) == 1 + 7  # header + every star, whatever the page size
    settings.EXPORT_MAX_ROWS = 5
    votable, table = _table(client.get("/api/stars/", {"format": "votable"}).getvalue())
    assert len(table.array) == 5
    assert {info.name: info.value for info in votable.resources[0].infos}["QUERY_STATUS"] == "OVERFLOW"
    page = client.get("/api/stars/", {"limit": 2}).json()
    assert page["count"] == 7 and len(page["results"]) == 2 and page["next"]


def test_ints_mixed_with_floats_stay_floats():
    from portal.api.renderers import votable_bytes

    _, table = _table(votable_bytes([{"x": 3}, {"x": 3.5}, {"x": None}]))
    data = table.to_table()
    assert data["x"].dtype.kind == "f" and list(data["x"][:2]) == [3.0, 3.5] and bool(data["x"].mask[2])
