"""The VO page at /tap/: the services' addresses and tables for a person who opens the TAP URL in a
browser, and an ADQL query run there, its rows shown with their units, bad queries as form errors,
and downloads that give the whole answer through /tap/sync."""
import html
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings

from catalog.tap_schema import EXAMPLES, TABLES
from tests.factories import LabelsFactory, StarFactory

CONE = ("SELECT designation, ra, dec, teff FROM doppel.stars "
        "WHERE 1 = CONTAINS(POINT('ICRS', ra, dec), CIRCLE('ICRS', 150.0, 2.0, 0.5)) ORDER BY designation")


@pytest.fixture
def sky(db):
    """Three stars in a 0.5° circle at (150, 2), the last without labels; one far away."""
    stars = [StarFactory(designation=f"IN{k}", ra=150.0 + 0.1 * k, dec=2.0) for k in range(3)]
    for star, teff in zip(stars[:2], (4500.0, 5012.345678912)):
        LabelsFactory(star=star, source="grid", teff=teff, logg=2.5, fe_h=0.0)
    StarFactory(designation="FAR", ra=10.0, dec=-30.0)
    return stars


def _cells(content: bytes) -> list[list[str]]:
    body = content.decode().split('id="adql-result"', 1)[1].split("</table>", 1)[0]
    return [[html.unescape(c) for c in re.findall(r"<td>(.*?)</td>", row)]
            for row in re.findall(r"<tr>(.*?)</tr>", body.split("<tbody>", 1)[1], re.S)]


def _summary(content: bytes) -> str:
    return re.search(r'<p id="adql-summary">(.*?)</p>', content.decode(), re.S).group(1)


def _errors(content: bytes) -> list[str]:
    return [html.unescape(e) for e in re.findall(r'class="errorlist">([^<]*)<', content.decode())]


def test_the_page_names_the_services_and_every_table(client, db):
    response = client.get("/tap/")
    assert response.status_code == 200
    text = response.content.decode()
    assert '<code id="tap-url">http://testserver/tap</code>' in text
    assert '<code id="scs-url">http://testserver/vo/scs</code>' in text
    assert all(f"<code>{table.name}</code>" in text for table in TABLES)
    assert html.escape(EXAMPLES[0][1]) in text  # the form starts from the first example
    assert 'id="adql-result"' not in text and not _errors(response.content)


def test_the_page_tells_how_to_upload_a_table_and_its_limit(client, db, settings):
    settings.TAP_UPLOAD_MAX_ROWS = 12345
    text = client.get("/tap/").content.decode()
    assert "TAP_UPLOAD.&lt;name&gt;" in text and "at most 12,345 rows" in text


def test_the_tap_url_without_its_slash_opens_the_page_and_the_endpoints_still_answer(client, db):
    response = client.get("/tap")
    assert response.status_code == 301 and response["Location"] == "/tap/"
    assert client.get("/tap/capabilities").status_code == 200
    assert client.get("/tap/sync", {"QUERY": "SELECT TOP 1 designation FROM doppel.stars"}).status_code == 200


def _downloads(content: bytes) -> dict[str, dict[str, str]]:
    """The download forms (posting to /tap/sync): format → their fields."""
    forms = re.findall(r'<form method="post" action="/tap/sync">(.*?)</form>', content.decode(), re.S)
    fields = [{name: html.unescape(value) for name, value in re.findall(r'name="([^"]+)" value="([^"]*)"', form)}
              for form in forms]
    return {f["RESPONSEFORMAT"]: f for f in fields}


def test_a_query_shows_its_first_rows_with_units_and_downloads_the_whole_answer(client, sky):
    response = client.post("/tap/", {"query": CONE, "maxrec": 2})
    assert response.status_code == 200 and not _errors(response.content)
    text = response.content.decode()
    assert "<th>ra (deg)</th>" in text and "<th>teff (K)</th>" in text and "<th>designation</th>" in text
    assert _cells(response.content) == [["IN0", "150", "2", "4500"], ["IN1", "150.1", "2", "5012.3457"]]
    assert _summary(response.content).startswith("2 rows shown; the query has more") and "OVERFLOW" in _summary(response.content)
    downloads = _downloads(response.content)
    assert set(downloads) == {"votable", "csv"}
    assert downloads["csv"] == {"REQUEST": "doQuery", "LANG": "ADQL", "MAXREC": str(settings.TAP_MAX_ROWS),
                                "QUERY": CONE, "RESPONSEFORMAT": "csv"}
    rows = client.post("/tap/sync", downloads["csv"]).content.decode().strip().splitlines()
    assert rows[0] == "designation,ra,dec,teff" and [r.split(",")[0] for r in rows[1:]] == ["IN0", "IN1", "IN2"]
    assert rows[3].endswith(",")  # the unlabelled star: an empty teff
    votable = client.post("/tap/sync", downloads["votable"])
    assert votable["Content-Type"] == "application/x-votable+xml" and votable.content.count(b"<TR>") == 3
    samp = re.search(r'data-votable="([^"]+)"', text).group(1)  # what TOPCAT is told to load
    parts = urlsplit(html.unescape(samp))
    assert parts.path == "/tap/sync" and parse_qs(parts.query)["QUERY"] == [CONE]


def test_a_query_too_long_for_a_url_still_runs_and_downloads_but_is_not_sent_by_url(client, sky):
    long_query = CONE.replace("SELECT designation", "SELECT " + "ra, " * 1200 + "designation")
    response = client.post("/tap/", {"query": long_query, "maxrec": 5})
    assert not _errors(response.content) and len(_cells(response.content)) == 3
    assert "data-votable" not in response.content.decode() and "too long a query" in response.content.decode()
    assert client.post("/tap/sync", _downloads(response.content)["csv"]).content.decode().count("\n") == 4


def test_an_unlabelled_value_is_an_empty_cell_and_no_match_says_so(client, sky):
    response = client.get("/tap/", {"query": CONE, "maxrec": 10})
    assert _cells(response.content)[2] == ["IN2", "150.2", "2", ""] and "OVERFLOW" not in _summary(response.content)
    response = client.get("/tap/", {"query": "SELECT designation FROM doppel.stars WHERE dec > 89.9"})
    assert "No row matches." in response.content.decode()


@pytest.mark.parametrize("params, message", [
    ({"query": "SELECT FROM doppel.stars"}, "ADQL syntax error at line 1, column 8 near 'FROM'"),
    ({"query": "SELECT ra FROM doppel.stars\nWHERE (ra > 1"}, "ADQL syntax error at line 2, column 14 (the end of the query: is something missing?)"),
    ({"query": "SELECT * FROM public.catalog_star"}, "unknown table public.catalog_star"),
    ({"query": "SELECT mass FROM doppel.stars"}, 'column "mass" does not exist'),
    ({"query": ""}, "This field is required."),
    ({"query": " ; "}, "QUERY is empty: give an ADQL SELECT"),
    ({"query": "SELECT TOP 1 ra FROM doppel.stars", "maxrec": 5000}, "Ensure this value is less than or equal to 1000."),
    ({"query": "SELECT TOP 1 ra FROM doppel.stars", "maxrec": "many"}, "Enter a whole number."),
])
def test_a_bad_query_is_a_form_error(client, sky, params, message):
    response = client.get("/tap/", params)
    assert response.status_code == 200
    assert any(message in error for error in _errors(response.content)), _errors(response.content)
    assert 'id="adql-result"' not in response.content.decode()


@pytest.mark.parametrize("title, adql", EXAMPLES, ids=[title for title, _ in EXAMPLES])
def test_every_example_runs(client, sky, title, adql):
    page = client.get("/tap/").content.decode()
    link = re.search(rf'<a href="\?([^"]+)">{re.escape(html.escape(title))}</a>', page).group(1)
    response = client.get("/tap/?" + html.unescape(link))
    assert response.status_code == 200 and not _errors(response.content), _errors(response.content)
    assert 'id="adql-result"' in response.content.decode()
