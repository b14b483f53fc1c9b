"""ADQL geometry as queryparser translates it, on the sphere: CONTAINS and INTERSECTS of points and
circles, DISTANCE in SELECT and in WHERE; the right stars across RA 0 and over a pole; and every
form answerable from the index on radians(dec), whichever side the catalog is on (without the band
of declination, only a pass over every star could answer them)."""
import pytest
from django.db import connection

from catalog.selectors.tap import adql_to_sql, run_adql
from tests.factories import StarFactory

pytestmark = pytest.mark.django_db

STARS = (("W", 359.99, 0.0), ("E", 0.01, 0.0), ("OUT", 0.1, 0.0), ("POLE", 180.0, 89.99), ("FAR", 150.0, 2.0))


def names(where: str) -> list[str]:
    adql = f"SELECT designation FROM doppel.stars WHERE {where} ORDER BY designation"
    return [row["designation"] for row in run_adql(adql, maxrec=10, timeout_s=10).rows]


@pytest.fixture
def sky():
    for name, ra, dec in STARS:
        StarFactory(designation=name, ra=ra, dec=dec)


@pytest.mark.parametrize("where, expected", [
    ("1 = CONTAINS(POINT('ICRS', ra, dec), CIRCLE('ICRS', 0.0, 0.0, 0.05))", ["E", "W"]),  # across RA 0
    ("1 = CONTAINS(POINT('ICRS', ra, dec), CIRCLE('ICRS', 0.0, 89.99, 0.03))", ["POLE"]),  # 0.02° over the pole
    ("DISTANCE(POINT('ICRS', ra, dec), POINT('ICRS', 0.0, 0.0)) < 0.05", ["E", "W"]),
    ("DISTANCE(POINT('ICRS', 0.0, 0.0), POINT('ICRS', ra, dec)) < 0.05", ["E", "W"]),
    ("DISTANCE(POINT('ICRS', ra, dec), POINT('ICRS', 0.0, 0.0)) > 1", ["FAR", "POLE"]),
    ("1 = INTERSECTS(POINT('ICRS', ra, dec), CIRCLE('ICRS', 0.0, 0.0, 0.05))", ["E", "W"]),
    ("1 = INTERSECTS(CIRCLE('ICRS', ra, dec, 0.05), CIRCLE('ICRS', 0.0, 0.0, 0.06))", ["E", "OUT", "W"]),
    ("1 = CONTAINS(CIRCLE('ICRS', ra, dec, 0.01), CIRCLE('ICRS', 0.0, 0.0, 0.05))", ["E", "W"]),
    ("1 = CONTAINS(CIRCLE('ICRS', ra, dec, 0.1), CIRCLE('ICRS', 0.0, 0.0, 0.05))", []),  # larger than the circle
])
def test_the_geometry_finds_the_right_stars(sky, where, expected):
    assert names(where) == expected


def test_distance_is_in_degrees(sky):
    rows = run_adql("SELECT designation, DISTANCE(POINT('ICRS', ra, dec), POINT('ICRS', 0.0, 0.0)) AS d "
                    "FROM doppel.stars WHERE designation IN ('E', 'W') ORDER BY designation", maxrec=10, timeout_s=10).rows
    assert [row["d"] for row in rows] == [pytest.approx(0.01), pytest.approx(0.01)]


@pytest.mark.parametrize("adql", [
    "SELECT star_id FROM doppel.stars WHERE 1 = CONTAINS(POINT('ICRS', ra, dec), CIRCLE('ICRS', 10.0, 5.0, 0.1))",
    "SELECT star_id FROM doppel.stars WHERE DISTANCE(POINT('ICRS', ra, dec), POINT('ICRS', 10.0, 5.0)) < 0.1",
    "SELECT star_id FROM doppel.stars WHERE DISTANCE(POINT('ICRS', 10.0, 5.0), POINT('ICRS', ra, dec)) < 0.1",
    "SELECT star_id FROM doppel.stars WHERE 1 = INTERSECTS(CIRCLE('ICRS', 10.0, 5.0, 0.1), CIRCLE('ICRS', ra, dec, 0.01))",
    "SELECT s.star_id FROM TAP_UPLOAD.mine AS u JOIN doppel.stars AS s "
    "ON 1 = CONTAINS(POINT('ICRS', s.ra, s.dec), CIRCLE('ICRS', u.ra, u.dec, 0.0003))",
    "SELECT s.star_id FROM TAP_UPLOAD.mine AS u JOIN doppel.stars AS s "
    "ON 1 = CONTAINS(POINT('ICRS', u.ra, u.dec), CIRCLE('ICRS', s.ra, s.dec, 0.0003))",
    "SELECT s.star_id FROM TAP_UPLOAD.mine AS u JOIN doppel.stars AS s "
    "ON DISTANCE(POINT('ICRS', u.ra, u.dec), POINT('ICRS', s.ra, s.dec)) < 0.0003",
])
def test_every_form_can_read_a_band_of_the_index(adql):
    StarFactory(ra=10.0, dec=5.0)
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMPORARY TABLE mine (ra double precision, dec double precision)")
        cursor.execute("SET LOCAL enable_seqscan = off")  # an index wherever one can answer
        cursor.execute("SET LOCAL search_path = doppel, tap_schema, public")
        cursor.execute("EXPLAIN " + adql_to_sql(adql)[0])
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "star_dec_radians" in plan, plan
