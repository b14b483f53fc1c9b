"""TAP_UPLOAD: a user's VOTable joined to the catalog in one ADQL query, sync through pyvo against a
live server and async on a real Celery worker (the table travels in the database); the
capabilities that tell TOPCAT and pyvo so; every bad upload refused with its reason; nothing left
behind in the session."""
import io
import warnings

import numpy as np
import pytest
from astropy.table import MaskedColumn, Table
from django.db import connection, transaction

from catalog.adql import translate
from catalog.selectors.tap import TapError, run_adql
from catalog.tap_upload import UploadError, column_names, read_votable, upload_parts
from tests.factories import LabelsFactory, StarFactory

pyvo = pytest.importorskip("pyvo")
MATCH = ("SELECT u.target, s.designation, s.teff, u.note FROM TAP_UPLOAD.mine AS u JOIN doppel.stars AS s "
         "ON 1 = CONTAINS(POINT('ICRS', s.ra, s.dec), CIRCLE('ICRS', u.ra, u.dec, 0.01)) ORDER BY u.target")


@pytest.fixture
def sky(transactional_db):
    for k, teff in enumerate((4500.0, 5000.0)):
        LabelsFactory(star=StarFactory(designation=f"IN{k}", ra=150.0 + k, dec=2.0), source="grid", teff=teff,
                      logg=2.5, fe_h=0.0)
    StarFactory(designation="FAR", ra=10.0, dec=-30.0)


@pytest.fixture
def service(live_server):
    import requests

    session = requests.Session()
    yield pyvo.dal.TAPService(f"{live_server.url}/tap", session=session)
    session.close()


def targets() -> Table:
    """The user's list: two targets on catalog stars, one on nothing; upper-case column names as
    surveys write them, a masked note."""
    return Table({"TARGET": ["a", "b", "c"], "RA": [150.0, 151.0, 40.0], "DEC": [2.0, 2.0, 0.0],
                  "note": MaskedColumn(["first", "", "third"], mask=[False, True, False])})


def votable_bytes(table: Table) -> bytes:
    out = io.BytesIO()
    table.write(out, format="votable")
    return out.getvalue()


def _quiet(call):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return call()


def test_a_sync_crossmatch_of_an_uploaded_list_through_pyvo(service, sky):
    table = _quiet(lambda: service.run_sync(MATCH, uploads={"mine": targets()}).to_table())
    assert list(table["target"]) == ["a", "b"] and list(table["designation"]) == ["IN0", "IN1"]
    assert list(table["teff"]) == [4500.0, 5000.0]
    assert table["note"][0] == "first" and not table["note"][1]  # NULL: empty text, as VOTable writes it


def test_an_async_job_with_an_upload_runs_on_a_worker(service, sky, celery_worker_process):
    job = service.submit_job(MATCH, uploads={"mine": targets()})
    job.run()
    job.wait(phases={"COMPLETED", "ERROR", "ABORTED"}, timeout=60)
    job.raise_if_error()
    assert list(_quiet(lambda: job.fetch_result().to_table())["designation"]) == ["IN0", "IN1"]
    assert any(p.id_ == "upload" and p.content == "mine,param:mine" for p in job._job.parameters)
    job.delete()


def test_the_capabilities_declare_inline_uploads_and_their_limit(service, sky, settings):
    capability = next(c for c in service.capabilities if c.standardid == "ivo://ivoa.net/std/TAP")
    assert [method.ivo_id for method in capability.uploadmethods] == ["ivo://ivoa.net/std/TAPRegExt#upload-inline"]
    assert capability.uploadlimit.hard.content == settings.TAP_UPLOAD_MAX_ROWS


def _post(client, files: dict, upload: str, query: str = "SELECT * FROM TAP_UPLOAD.mine"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    data = {"QUERY": query, "LANG": "ADQL", "UPLOAD": upload,
            **{part: SimpleUploadedFile(f"{part}.xml", content) for part, content in files.items()}}
    response = client.post("/tap/sync", data)
    return response.status_code, response.content.decode()


@pytest.mark.parametrize("files, upload, query, reason", [
    ({"mine": b"not a votable"}, "mine,param:mine", None, "TAP_UPLOAD.mine is not a readable VOTable"),
    ({}, "mine,param:mine", None, "the request has no part 'mine'"),
    ({"mine": None}, "mine,http://example.org/t.xml", None, "only tables sent inline with the request"),
    ({"mine": None}, "1st,param:mine", None, "UPLOAD table name '1st'"),
    ({"mine": None}, "mine", None, "give name,param:part"),
    ({"mine": None}, "mine,param:mine", "SELECT * FROM TAP_UPLOAD.other", "TAP_UPLOAD.other was not uploaded"),
    ({"mine": None}, "mine,param:mine", "SELECT * FROM doppel.nothing", "or TAP_UPLOAD.{mine}"),
    ({"mine": None}, "mine,param:mine", "SELECT mass FROM TAP_UPLOAD.mine", 'column "mass" does not exist'),
    ({"mine": "arrays"}, "mine,param:mine", None, "TAP_UPLOAD.mine.flux holds arrays"),
    ({"mine": "rows"}, "mine,param:mine", None, "TAP_UPLOAD.mine has 3 rows; at most 2"),
])
def test_a_bad_upload_is_refused_with_its_reason(client, db, settings, files, upload, query, reason):
    settings.TAP_UPLOAD_MAX_ROWS = 2 if "rows" in files.values() else 100
    contents = {"arrays": votable_bytes(Table({"ra": [1.0], "flux": [[1.0, 2.0]]})), "rows": votable_bytes(targets()),
                None: votable_bytes(targets()[:2])}
    files = {part: contents.get(content, content) for part, content in files.items()}
    status, body = _post(client, files, upload, **({"query": query} if query else {}))
    assert status == 400 and "QUERY_STATUS" in body and reason in body, body


def test_uploads_last_one_query_and_the_session_stays_read_only(transactional_db):
    StarFactory(designation="IN0", ra=150.0, dec=2.0)
    mine = read_votable("mine", votable_bytes(targets()), max_rows=10)
    result = run_adql("SELECT u.target, u.note, s.designation FROM TAP_UPLOAD.mine AS u LEFT JOIN doppel.stars AS s "
                      "ON 1 = CONTAINS(POINT('ICRS', s.ra, s.dec), CIRCLE('ICRS', u.ra, u.dec, 0.01)) ORDER BY u.target",
                      maxrec=10, timeout_s=10, uploads=[mine])
    assert result.rows == [{"target": "a", "note": "first", "designation": "IN0"},
                           {"target": "b", "note": None, "designation": None},  # the masked note is NULL
                           {"target": "c", "note": "third", "designation": None}]
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('pg_temp.mine'), current_setting('transaction_read_only')")
        assert cursor.fetchone() == (None, "off")  # dropped with its transaction; the session writable again
    # the same name again, in the same session, and inside a caller's transaction (a savepoint)
    assert len(run_adql("SELECT * FROM TAP_UPLOAD.mine", maxrec=10, timeout_s=10, uploads=[mine]).rows) == 3
    with transaction.atomic():
        for _ in range(2):
            assert len(run_adql("SELECT * FROM TAP_UPLOAD.mine", maxrec=10, timeout_s=10, uploads=[mine]).rows) == 3
        with pytest.raises(TapError, match='column "nothing" does not exist'):
            run_adql("SELECT nothing FROM TAP_UPLOAD.mine", maxrec=10, timeout_s=10, uploads=[mine])
        assert len(run_adql("SELECT * FROM TAP_UPLOAD.mine", maxrec=10, timeout_s=10, uploads=[mine]).rows) == 3


def test_the_upload_schema_is_rewritten_only_where_it_names_a_schema():
    sql, tables = translate("SELECT u.ra FROM \"TAP_UPLOAD\".mine AS u WHERE u.note = 'TAP_UPLOAD.mine'")
    assert sql == "SELECT u.ra FROM pg_temp.mine AS u WHERE u.note = 'TAP_UPLOAD.mine'"
    assert tables == [("pg_temp", "mine")]


def test_upload_parameters_and_column_names():
    assert upload_parts("Mine,param:a; other , param:b") == [("mine", "a"), ("other", "b")]
    assert upload_parts("") == []
    with pytest.raises(UploadError, match="twice"):
        upload_parts("mine,param:a;MINE,param:b")
    with pytest.raises(UploadError, match="at most 8"):
        upload_parts(";".join(f"t{k},param:t{k}" for k in range(9)))
    assert column_names(["RA", "ra", "e_RA mag", "2MASS", "_x", ""]) == ["ra", "ra_2", "e_ra_mag", "c_2mass", "c__x", "c"]


def test_values_become_plain_cells():
    table = Table({"id": np.array([4295806720123456789, 7], dtype=np.int64), "flag": [True, False],
                   "teff": MaskedColumn([4500.0, np.nan], mask=[True, False])})
    upload = read_votable("t", votable_bytes(table), max_rows=10)
    assert upload.columns == [("id", "bigint"), ("flag", "boolean"), ("teff", "double precision")]
    assert upload.rows == [[4295806720123456789, True, None], [7, False, None]]  # masked and NaN → NULL
    ragged = Table({"flux": np.array([np.array([1.0, 2.0]), np.array([3.0])], dtype=object)})
    with pytest.raises(UploadError, match="TAP_UPLOAD.t.flux holds arrays"):
        read_votable("t", votable_bytes(ragged), max_rows=10)


def test_the_query_after_the_uploads_runs_read_only(transactional_db, monkeypatch):
    """The uploads are written first; the query after them must not get a writable transaction
    back (ADQL cannot call set_config: the translation is replaced here to try)."""
    import catalog.selectors.tap as tap

    monkeypatch.setattr(tap, "adql_to_sql", lambda adql: (
        "SELECT set_config('transaction_read_only', 'off', true) FROM pg_temp.mine", [("pg_temp", "mine")]))
    mine = read_votable("mine", votable_bytes(targets()), max_rows=10)
    with pytest.raises(TapError, match="read-write mode"):
        run_adql("(replaced)", maxrec=10, timeout_s=10, uploads=[mine])

