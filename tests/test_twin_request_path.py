"""A twin request's path: the star, the active version and the star's latent are read in one
statement, the twins in a second, both prepared once per session, and what that first statement
builds matches the ORM's objects."""
import numpy as np
import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from catalog import selectors
from catalog.models import ModelVersion, Spectrum, Star
from tests.factories import StarFactory

pytestmark = pytest.mark.django_db


def test_an_api_twin_request_is_two_statements(client, active_disentangler):
    star = active_disentangler[1][0].star
    client.get(f"/api/stars/{star.pk}/twins/", {"k": 5})  # the first prepares the twin statement
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"/api/stars/{star.pk}/twins/", {"k": 5})
    assert response.status_code == 200 and response.json()["query"]["star"] == star.designation
    assert len(queries.captured_queries) == 2, [q["sql"][:100] for q in queries.captured_queries]


def test_by_id_answers_as_by_star(active_disentangler):
    version, spectra = active_disentangler
    star = spectra[3].star
    by_star = selectors.twins_for_star(star=star, k=5)
    by_id = selectors.twins_for_star_id(star_id=star.pk, k=5)
    assert by_id.query_star == star and by_id.query_star.designation == star.designation
    assert by_id.version == version and by_id.version.config == version.config and by_id.version.metrics == version.metrics
    assert by_id.query_spectrum_id == by_star.query_spectrum_id
    np.testing.assert_array_equal(by_id.query_latent, by_star.query_latent)
    assert [t.spectrum_id for t in by_id.rows] == [t.spectrum_id for t in by_star.rows]
    surveys = dict(Spectrum.objects.filter(pk__in=[t.spectrum_id for t in by_id.rows]).values_list("pk", "survey__code"))
    assert [t.survey for t in by_id.rows] == [surveys[t.spectrum_id] for t in by_id.rows]  # the version's survey
    assert by_id.outside_training_range == by_star.outside_training_range is False  # the version's metrics were read


def test_by_id_refuses_what_it_cannot_answer(client, active_disentangler):
    with pytest.raises(Star.DoesNotExist):
        selectors.twins_for_star_id(star_id=10**12)
    lonely = StarFactory()
    with pytest.raises(selectors.TwinSearchError, match="has no latent under"):
        selectors.twins_for_star_id(star_id=lonely.pk)
    for bad in ("99999999999999999999", "12abc", "-3"):
        assert client.get(f"/api/stars/{bad}/twins/").status_code == 404
    ModelVersion.objects.filter(pk=active_disentangler[0].pk).update(state=ModelVersion.State.ARCHIVED)
    with pytest.raises(selectors.TwinSearchError, match="no disentangler is active"):
        selectors.twins_for_star_id(star_id=active_disentangler[1][0].star.pk)


@pytest.mark.django_db(transaction=True)  # autocommit, as in a web request: the statements are prepared
def test_both_statements_are_prepared_and_a_lost_session_is_told_the_walk_again(active_disentangler):
    star = active_disentangler[1][0].star
    ef = 77  # not pgvector's default, so that a session that lost its settings shows it
    with override_settings(TWIN_PREPARED=True, TWIN_EF_SEARCH=ef):
        first = selectors.twins_for_star_id(star_id=star.pk, k=5)  # prepares both
        with CaptureQueriesContext(connection) as queries:
            selectors.twins_for_star_id(star_id=star.pk, k=5)
        assert [q["sql"][:len("EXECUTE doppel_twins_")] for q in queries.captured_queries] == ["EXECUTE doppel_twins_"] * 2
        with connection.cursor() as cursor:
            cursor.execute("DISCARD ALL")  # a pooler handing over another server session
            cursor.execute("SHOW hnsw.ef_search")
            assert cursor.fetchone()[0] != str(ef)
        # the lookup finds its statement gone first: the session is told everything again, the walk's settings too
        again = selectors.twins_for_star_id(star_id=star.pk, k=5)
        assert [t.spectrum_id for t in again.rows] == [t.spectrum_id for t in first.rows]
        with connection.cursor() as cursor:
            cursor.execute("SHOW hnsw.ef_search")
            assert cursor.fetchone()[0] == str(ef)
            cursor.execute("SELECT count(*) FROM pg_prepared_statements")
            assert cursor.fetchone()[0] == 2
