"""Twin queries: the version's HNSW index answers them (EXPLAIN), selective filters still return
k rows (iterative scans, or an exact scan of a small filtered set), and results match brute force."""
import numpy as np
import pytest
from django.db import connection, transaction
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from catalog import selectors, services
from catalog.models import ModelVersion
from tests.factories import ModelVersionFactory, SurveyFactory

pytestmark = pytest.mark.django_db

N = 20_000  # large enough that PostgreSQL prefers the index to a sort, as it will in production


@pytest.fixture
def population():
    """N stars with one spectrum, grid labels (Teff uniform 3500–6500 K) and a random latent each."""
    survey = SurveyFactory()
    version = ModelVersionFactory(state=ModelVersion.State.ACTIVE,
                                  config={"survey": "apogee", "label_source": "grid", "conditional": ["teff", "logg"]})
    rng = np.random.default_rng(1)
    latents = rng.normal(size=(N, 25)).astype(np.float32)
    teff = np.linspace(3500, 6500, N)
    rng.shuffle(teff)
    with connection.cursor() as cursor:
        cursor.execute("""INSERT INTO catalog_star (designation, ra, dec, apogee_id)
                          SELECT 'T' || g, (g * 0.01) %% 360, 0, '' FROM generate_series(1, %s) g""", [N])
        cursor.execute("""INSERT INTO catalog_spectrum (star_id, survey_id, flux, source_key, source_file, source_sha256, created_at)
                          SELECT id, %s, '\\x'::bytea, '0', '', '', now() FROM catalog_star WHERE designation LIKE 'T%%'""",
                       [survey.pk])
        cursor.execute("SELECT s.id, s.star_id FROM catalog_spectrum s JOIN catalog_star st ON st.id = s.star_id "
                       "WHERE st.designation LIKE 'T%%' ORDER BY s.id")
        rows = cursor.fetchall()
        spectrum_ids = np.array([r[0] for r in rows])
        star_ids = np.array([r[1] for r in rows])
        cursor.execute("INSERT INTO catalog_labels (star_id, source, teff, logg, abundances, abundance_errors) "
                       "SELECT unnest(%s::bigint[]), 'grid', unnest(%s::float8[]), 2.0, '{}', '{}'",
                       [star_ids.tolist(), teff.tolist()])
    services.embeddings_write(version=version, lo=int(spectrum_ids.min()), hi=int(spectrum_ids.max()),
                              spectrum_ids=spectrum_ids, latents=latents, teff=teff, logg=np.full(N, 2.0))
    services.embedding_index_build(version=version)
    return version, spectrum_ids, latents, teff


def _brute_force(latents, query, mask, k):
    distance = np.linalg.norm(latents - query, axis=1)
    distance[~mask] = np.inf
    return np.argsort(distance)[:k]


def _search_statement(queries) -> str:
    """The SELECT of the twin query (sent in one round trip after its SET LOCALs), unprepared."""
    sql = next(q["sql"] for q in queries.captured_queries if "ORDER BY e.vector" in q["sql"])
    return sql.rsplit(";", 1)[-1]


@pytest.mark.parametrize("prepared", [True, False])
@pytest.mark.django_db(transaction=True)  # autocommit, as in a web request
def test_one_round_trip_per_twin_query(population, prepared):
    version, _, latents, _ = population
    with override_settings(TWIN_PREPARED=prepared):
        for query in (3, 4):  # the first prepares (in the same round trip), the second only executes
            with CaptureQueriesContext(connection) as queries:
                result = selectors.twins_for_latent(latent=latents[query], k=10, version=version)
            assert len(result.rows) == 10 and result.rows[0].designation  # joined to the stars in the same statement
            assert len(queries.captured_queries) == 1, [q["sql"][:80] for q in queries.captured_queries]
            assert ("EXECUTE doppel_twins_" in queries.captured_queries[0]["sql"]) == prepared


@pytest.mark.django_db(transaction=True)
def test_a_new_database_session_is_prepared_in_its_first_round_trip(population):
    version, _, latents, _ = population
    with override_settings(TWIN_PREPARED=True):
        selectors.twins_for_latent(latent=latents[1], k=10, version=version)
        connection.close()  # CONN_MAX_AGE passed: the thread's next request opens another session
        with CaptureQueriesContext(connection) as queries:
            result = selectors.twins_for_latent(latent=latents[1], k=10, version=version)
    assert len(result.rows) == 10
    assert len(queries.captured_queries) == 1, [q["sql"][:80] for q in queries.captured_queries]
    assert "PREPARE doppel_twins_" in queries.captured_queries[0]["sql"]


@pytest.mark.django_db(transaction=True)
def test_a_changed_ef_search_reaches_the_session_in_the_same_round_trip(population):
    version, _, latents, _ = population
    told = []
    for ef in (40, 123, 123):
        with override_settings(TWIN_PREPARED=True, TWIN_EF_SEARCH=ef), CaptureQueriesContext(connection) as queries:
            selectors.twins_for_latent(latent=latents[5], k=10, version=version)
        assert len(queries.captured_queries) == 1
        told.append(f"SET hnsw.ef_search = {ef}" in queries.captured_queries[0]["sql"])
        with connection.cursor() as cursor:
            cursor.execute("SHOW hnsw.ef_search")
            assert cursor.fetchone()[0] == str(ef)
    assert told == [True, True, False]  # once per session and value


@pytest.mark.django_db(transaction=True)
def test_the_prepared_statement_answers_as_the_plain_one_and_survives_a_lost_session_state(population):
    version, _, latents, _ = population
    ef = 77  # not pgvector's default (40), so that a session that lost its settings shows it
    with override_settings(TWIN_PREPARED=False, TWIN_EF_SEARCH=ef):
        plain = [[row.spectrum_id for row in selectors.twins_for_latent(latent=latents[i], k=10, version=version).rows]
                 for i in range(5)]
    with override_settings(TWIN_PREPARED=True, TWIN_EF_SEARCH=ef):
        prepared = [[row.spectrum_id for row in selectors.twins_for_latent(latent=latents[i], k=10, version=version).rows]
                    for i in range(5)]
        assert prepared == plain
        with connection.cursor() as cursor:
            cursor.execute("DISCARD ALL")  # what a pooler handing over another server session does
            cursor.execute("SELECT count(*) FROM pg_prepared_statements")
            assert cursor.fetchone()[0] == 0
            cursor.execute("SHOW hnsw.ef_search")
            assert cursor.fetchone()[0] != str(ef)
        again = selectors.twins_for_latent(latent=latents[0], k=10, version=version)  # prepares it again
        assert [row.spectrum_id for row in again.rows] == plain[0]
        with connection.cursor() as cursor:  # and the walk's settings are the product's again
            cursor.execute("SHOW hnsw.ef_search")
            assert cursor.fetchone()[0] == str(ef)
        with connection.cursor() as cursor:
            cursor.execute("SELECT name, generic_plans FROM pg_prepared_statements")
            (name, generic), = cursor.fetchall()
        assert name.startswith("doppel_twins_") and generic == 1  # planned once, generically

        # the generic plan still walks the version's HNSW index (its partition, pruned at run time)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL plan_cache_mode = force_generic_plan")
            cursor.execute(f"EXPLAIN EXECUTE {name}(%s, %s, %s)",
                           ["[" + ",".join(map(str, latents[0])) + "]", "[" + ",".join(map(str, latents[0])) + "]", "grid"])
            plan = "\n".join(row[0] for row in cursor.fetchall())
        assert f"Index Scan using {version.index_name}" in plan, plan


@override_settings(TWIN_PREPARED=False)
def test_unfiltered_query_uses_the_hnsw_index(population):
    version, spectrum_ids, latents, _ = population
    with CaptureQueriesContext(connection) as queries:
        result = selectors.twins_for_latent(latent=latents[0], k=10, version=version)
    search = _search_statement(queries)
    with connection.cursor() as cursor, connection.constraint_checks_disabled():
        cursor.execute("SET LOCAL hnsw.iterative_scan = strict_order")
        cursor.execute("EXPLAIN " + search)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert f"Index Scan using {version.index_name}" in plan, plan
    assert result.plan == "hnsw" and len(result.rows) == 10
    expected = spectrum_ids[_brute_force(latents, latents[0], np.ones(N, bool), 10)]
    assert len(set(expected) & {row.spectrum_id for row in result.rows}) >= 9  # recall@10 ≥ 0.9 on random data


def test_selective_filter_uses_an_exact_scan(population):
    version, spectrum_ids, latents, teff = population
    result = selectors.twins_for_latent(latent=latents[1], k=10, version=version,
                                        filters=selectors.TwinFilters(teff=(5000.0, 5060.0)))
    mask = (teff >= 5000) & (teff <= 5060)  # 2 % of the rows: 400
    assert result.plan == "exact"
    assert [row.spectrum_id for row in result.rows] == spectrum_ids[_brute_force(latents, latents[1], mask, 10)].tolist()


@override_settings(TWIN_EXACT_LIMIT=10, TWIN_PREPARED=False)
def test_filtered_graph_walk_returns_k_rows_with_iterative_scans(population):
    version, spectrum_ids, latents, teff = population
    twin_filter = selectors.TwinFilters(teff=(5000.0, 5120.0))  # 4 % of the rows
    with CaptureQueriesContext(connection) as queries:
        result = selectors.twins_for_latent(latent=latents[2], k=10, version=version, filters=twin_filter)
    assert result.plan == "hnsw-iterative" and len(result.rows) == 10
    assert all(5000 <= row.teff <= 5120 for row in result.rows)
    search = _search_statement(queries)
    assert any("SET LOCAL hnsw.iterative_scan = strict_order" in q["sql"] for q in queries.captured_queries)

    def rows_through_the_index(iterative: str) -> tuple[int, str]:
        """The selector's query, forced through the index (at this size the planner may sort instead)."""
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_sort = off")
            cursor.execute("SET LOCAL hnsw.ef_search = 40")
            cursor.execute(f"SET LOCAL hnsw.iterative_scan = {iterative}")
            cursor.execute("EXPLAIN " + search)
            plan = "\n".join(row[0] for row in cursor.fetchall())
            cursor.execute(search)
            return len(cursor.fetchall()), plan

    found, plan = rows_through_the_index("strict_order")
    assert found == 10 and version.index_name in plan, plan
    assert rows_through_the_index("off")[0] < 10  # without iterative scans the filter eats the results


def test_k_is_bounded():
    version = ModelVersionFactory(state=ModelVersion.State.ACTIVE)
    for k in (0, 101):
        with pytest.raises(selectors.TwinSearchError, match="between 1 and 100"):
            selectors.twins_for_latent(latent=np.zeros(25), k=k, version=version)
