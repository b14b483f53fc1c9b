"""TAP at /tap through pyvo's own client against a live server: a synchronous ADQL cone query,
TAP_SCHEMA, an ADQL syntax error as a clear error VOTable, MAXREC and OVERFLOW, an asynchronous job
run to completion by a real Celery worker, job phases and deletion, VOSI; and the read-only rules
(only the doppel and tap_schema tables; the read-only role cannot read the catalog's own tables)."""
import warnings

import pytest
from django.db import connection, transaction

from catalog.models import TapJob
from catalog.selectors.tap import TapError, run_adql
from tests.factories import LabelsFactory, StarFactory

pyvo = pytest.importorskip("pyvo")
CONE = ("SELECT TOP 10 designation, ra, dec, teff FROM doppel.stars "
        "WHERE 1 = CONTAINS(POINT('ICRS', ra, dec), CIRCLE('ICRS', 150.0, 2.0, 0.5)) ORDER BY designation")


@pytest.fixture
def sky(transactional_db):
    """Three stars inside a 0.5° circle at (150, 2), one just outside, one far away."""
    inside = [StarFactory(designation=f"IN{k}", ra=150.0 + 0.1 * k, dec=2.0 + 0.1 * k) for k in range(3)]
    for star, teff in zip(inside, (4500.0, 5000.0, 5500.0)):
        LabelsFactory(star=star, source="grid", teff=teff, logg=2.5, fe_h=0.0)
    StarFactory(designation="EDGE", ra=150.0, dec=2.51)  # 0.51° from the centre
    StarFactory(designation="FAR", ra=10.0, dec=-30.0, gaia_source_id=4295806720123456789)
    return inside


@pytest.fixture
def service(live_server):
    """pyvo's TAPService on the live server; its keep-alive session closed afterwards, so that the
    server's request threads end and release their database connections."""
    import requests

    session = requests.Session()
    yield pyvo.dal.TAPService(f"{live_server.url}/tap", session=session)
    session.close()


def _quiet(call):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # astropy's W50 on "dex"
        return call()


def test_a_sync_cone_query_through_pyvo(service, sky):
    table = _quiet(lambda: service.run_sync(CONE).to_table())
    assert list(table["designation"]) == ["IN0", "IN1", "IN2"] and list(table["teff"]) == [4500.0, 5000.0, 5500.0]
    assert str(table["ra"].unit) == "deg" and str(table["teff"].unit) == "K"
    fields = {f.name: f.ucd for f in _quiet(lambda: service.run_sync(CONE)).resultstable.fields}
    assert fields["ra"] == "pos.eq.ra;meta.main" and fields["teff"] == "phys.temperature.effective"


def test_distance_top_and_exact_ids(service, sky):
    table = _quiet(lambda: service.run_sync(
        "SELECT designation, DISTANCE(POINT('ICRS', ra, dec), POINT('ICRS', 150.0, 2.0)) AS sep, gaia_source_id "
        "FROM doppel.stars ORDER BY sep").to_table())
    assert list(table["designation"][:4]) == ["IN0", "IN1", "IN2", "EDGE"]
    assert table["sep"][3] == pytest.approx(0.51, abs=1e-6) and table["gaia_source_id"][-1] == 4295806720123456789


def test_tap_schema_describes_the_tables(service, sky):
    names = set(_quiet(lambda: service.run_sync("SELECT table_name FROM TAP_SCHEMA.tables").to_table())["table_name"])
    assert {"doppel.stars", "doppel.labels", "doppel.spectra", "doppel.bhb_scores", "doppel.balmer_lines",
            "doppel.latents", "tap_schema.columns"} <= names
    columns = _quiet(lambda: service.run_sync(
        "SELECT column_name, unit, ucd FROM TAP_SCHEMA.columns WHERE table_name = 'doppel.stars'").to_table())
    described = {row["column_name"]: (row["unit"], row["ucd"]) for row in columns}
    assert described["teff"] == ("K", "phys.temperature.effective") and described["ra"][0] == "deg"


def test_an_adql_syntax_error_is_a_clear_error(service, sky):
    with pytest.raises(pyvo.dal.DALQueryError, match="ADQL syntax error at line 1, column 8 near 'FROM'"):
        service.run_sync("SELECT FROM doppel.stars")
    with pytest.raises(pyvo.dal.DALQueryError, match="unknown table public.catalog_star"):
        service.run_sync("SELECT * FROM public.catalog_star")
    with pytest.raises(pyvo.dal.DALQueryError, match="name each table with its schema: doppel.stars"):
        service.run_sync("SELECT * FROM stars")
    with pytest.raises(pyvo.dal.DALQueryError, match='column "mass" does not exist'):
        service.run_sync("SELECT mass FROM doppel.stars")


def test_maxrec_caps_with_overflow(service, sky):
    result = _quiet(lambda: service.run_sync("SELECT designation FROM doppel.stars", maxrec=2))
    assert len(result) == 2 and result.query_status == "OVERFLOW"
    assert _quiet(lambda: service.run_sync("SELECT designation FROM doppel.stars")).query_status == "OK"


def test_an_async_job_runs_to_completion_on_a_worker(service, sky, celery_worker_process):
    job = service.submit_job(CONE)
    assert job.phase == "PENDING"
    job.run()
    job.wait(phases={"COMPLETED", "ERROR", "ABORTED"}, timeout=60)
    job.raise_if_error()
    assert job.phase == "COMPLETED"
    table = _quiet(lambda: job.fetch_result().to_table())
    assert list(table["designation"]) == ["IN0", "IN1", "IN2"]
    failing = service.submit_job("SELECT mass FROM doppel.stars")
    failing.run().wait(phases={"COMPLETED", "ERROR", "ABORTED"}, timeout=60)
    assert failing.phase == "ERROR"
    with pytest.raises(pyvo.dal.DALQueryError, match='column "mass" does not exist'):
        failing.raise_if_error()
    job.delete()
    assert not TapJob.objects.filter(pk=job.job_id).exists() and TapJob.objects.count() == 1


def test_a_pending_job_can_be_aborted_and_lists_with_its_phase(client, sky):
    created = client.post("/tap/async", {"QUERY": CONE, "LANG": "ADQL"})
    assert created.status_code == 303
    job_url = created["Location"]
    assert client.post(f"{job_url}/phase", {"PHASE": "ABORT"}).status_code == 303
    assert client.get(f"{job_url}/phase").content == b"ABORTED"
    assert client.post(f"{job_url}/phase", {"PHASE": "RUN"}).status_code == 303  # an aborted job stays aborted
    assert client.get(f"{job_url}/phase").content == b"ABORTED"
    listing = client.get("/tap/async").content.decode()
    assert job_url.rsplit("/", 1)[1] in listing and "<uws:phase>ABORTED</uws:phase>" in listing
    assert client.get(f"{job_url}/results/result").status_code == 404
    assert client.get("/tap/async/not-a-job").status_code == 404
    bad = client.post("/tap/async", {"QUERY": CONE, "MAXREC": "-1"})
    assert bad.status_code == 400 and b"MAXREC=-1 must be between 0 and" in bad.content


def test_vosi_endpoints(service, sky):
    assert service.available
    assert service.hardlimit == service.maxrec == 100_000
    assert "doppel.stars" in [table.name for table in service.tables]
    stars = service.tables["doppel.stars"]
    assert {column.name for column in stars.columns} >= {"star_id", "designation", "ra", "dec", "teff", "bhb_score"}


def test_the_examples_reach_pyvo_and_topcat(service, sky):
    """DALI examples: declared in the capabilities, well-formed XHTML, one query per example."""
    from catalog.tap_schema import EXAMPLES

    assert "ivo://ivoa.net/std/DALI#examples" in [c.standardid for c in service.capabilities]
    assert [example["QUERY"] for example in service.examples] == [query for _, query in EXAMPLES]
    assert len(_quiet(lambda: service.run_sync(service.examples[0]["QUERY"]).to_table())) >= 0  # runs as it stands


def test_a_base_url_copied_with_its_slash_works_too(live_server, sky):
    """The page at /tap/ shows that address: a client given it appends "/sync" and the rest."""
    import requests

    with requests.Session() as session:
        service = pyvo.dal.TAPService(f"{live_server.url}/tap/", session=session)
        table = _quiet(lambda: service.run_sync(CONE).to_table())
        assert list(table["designation"]) == ["IN0", "IN1", "IN2"]
        assert "doppel.stars" in [t.name for t in service.tables]
        access = service.capabilities[0].interfaces[0].accessurls[0].content
        assert access == f"{live_server.url}/tap"  # the canonical base


def test_every_described_column_is_in_its_view(db):
    from catalog.tap_schema import TABLES

    for table in TABLES:
        result = run_adql(f"SELECT * FROM {table.name}", maxrec=0, timeout_s=10)
        assert list(result.columns) == [column.name for column in table.columns], table.name


def test_the_read_only_role_reads_only_the_tap_schemas(db):
    StarFactory()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL ROLE doppel_tap")
        cursor.execute("SELECT count(*) FROM doppel.stars")
        assert cursor.fetchone()[0] == 1
        with pytest.raises(Exception, match="permission denied"):
            with transaction.atomic():
                cursor.execute("SELECT count(*) FROM catalog_star")


def test_queries_cannot_write(db):
    with pytest.raises(TapError):
        run_adql("DELETE FROM doppel.stars", maxrec=10, timeout_s=10)


def test_jobs_past_their_destruction_time_are_deleted(client, db):
    import datetime as dt

    from django.utils import timezone

    old = TapJob.objects.create(query="SELECT 1", maxrec=10, execution_duration=10,
                                destruction=timezone.now() - dt.timedelta(seconds=1))
    kept = TapJob.objects.create(query="SELECT 1", maxrec=10, execution_duration=10,
                                 destruction=timezone.now() + dt.timedelta(days=1))
    assert client.post("/tap/async", {"QUERY": CONE}).status_code == 303
    assert not TapJob.objects.filter(pk=old.pk).exists() and TapJob.objects.filter(pk=kept.pk).exists()
    destruction = client.get(f"/tap/async/{kept.pk}/destruction").content.decode()
    assert destruction == kept.destruction.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_a_query_inside_a_transaction_leaves_the_session_as_it_was(db):
    StarFactory()

    def session():
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_user, current_setting('search_path'), current_setting('statement_timeout'), "
                           "current_setting('transaction_read_only')")
            return cursor.fetchone()

    before = session()
    assert len(run_adql("SELECT star_id FROM doppel.stars", maxrec=10, timeout_s=5).rows) == 1
    assert session() == before
    StarFactory()  # still a writable session as the application's user
    with pytest.raises(TapError):
        run_adql("SELECT mass FROM doppel.stars", maxrec=10, timeout_s=5)
    assert session() == before
