"""The IVOA Simple Cone Search, queried with the real pyvo client against a live test server."""
import pytest

from tests.factories import LabelsFactory, StarFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def sky(db):
    inside = [StarFactory(designation=f"2M1000{k:04d}+0200000", ra=150.0 + 0.01 * k, dec=2.0) for k in range(3)]
    StarFactory(designation="2M20000000-4000000", ra=300.0, dec=-40.0)
    LabelsFactory(star=inside[0], teff=4800.0)
    return inside


def test_pyvo_cone_search(live_server, sky):
    import pyvo

    service = pyvo.dal.SCSService(f"{live_server.url}/vo/scs")
    result = service.search(pos=(150.0, 2.0), radius=0.05)
    table = result.to_table()
    assert sorted(table["designation"]) == sorted(star.designation for star in sky)
    fields = {field.name: field for field in result.resultstable.fields}
    assert fields["designation"].ucd == "meta.id;meta.main"
    assert fields["ra"].ucd == "pos.eq.ra;meta.main" and fields["dec"].ucd == "pos.eq.dec;meta.main"
    assert len(service.search(pos=(10.0, -60.0), radius=0.1)) == 0


def test_pyvo_reports_the_error_votable(live_server, sky):
    import pyvo
    from pyvo.dal import DALQueryError

    with pytest.raises(DALQueryError, match="SR=20.0 must be between 0 and 10"):
        pyvo.dal.SCSService(f"{live_server.url}/vo/scs").search(pos=(150.0, 2.0), radius=20.0)


@pytest.mark.parametrize("query, message", [
    ("RA=400&DEC=0&SR=1", "RA=400.0 is out of range"),
    ("RA=10&DEC=0", "missing required parameter SR"),
    ("RA=ten&DEC=0&SR=1", "RA='ten' is not a number"),
    ("RA=10&DEC=-91&SR=1", "DEC=-91.0 is out of range"),
    ("RA=10&DEC=0&SR=-1", "SR=-1.0 must be between 0 and 10"),
])
def test_error_votables(client, query, message):
    body = client.get(f"/vo/scs?{query}").content.decode()
    assert 'name="QUERY_STATUS"' in body and 'value="ERROR"' in body and message in body
