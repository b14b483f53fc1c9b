"""A twin request's path: the star, the active version and the star's latent are read in one
statement, the twins in a second, and what that first statement builds matches the ORM's objects."""
import numpy as np
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog import selectors
from catalog.models import ModelVersion, Star
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
