"""Nearest-neighbour queries on Embedding are answered by the version's HNSW index, on the version's
own partition, not a scan; dropping a version's partition leaves the others' rows and indexes."""
import pytest
from django.db import connection
from pgvector.django import L2Distance

from catalog import partitions, services
from catalog.model_outputs import HNSW_EF_CONSTRUCTION, HNSW_M
from catalog.models import Embedding
from tests.factories import ModelVersionFactory, StarFactory, SurveyFactory

pytestmark = pytest.mark.django_db


def _fill(n: int = 5000, index: bool = True):
    """n spectra of one star, each with a random latent; inserted server-side to keep the test fast.

    Below a few thousand rows PostgreSQL rightly prefers a sequential scan, so the table must be
    realistically large for the plan to be meaningful.
    """
    version = ModelVersionFactory()
    star = StarFactory()
    survey = SurveyFactory()
    with connection.cursor() as cursor:
        cursor.execute(
            """INSERT INTO catalog_spectrum (star_id, survey_id, flux, source_key, source_file, source_sha256, created_at)
               SELECT %s, %s, '\\x'::bytea, g::text, '', '', now() FROM generate_series(1, %s) g""",
            [star.pk, survey.pk, n],
        )
        cursor.execute(
            """INSERT INTO catalog_embedding (model_version_id, spectrum_id, vector)
               SELECT %s, s.id, (SELECT array_agg(random()) FROM generate_series(1, 25) WHERE s.id > 0)::vector
               FROM catalog_spectrum s WHERE s.star_id = %s""",
            [version.pk, star.pk],
        )
    if index:
        services.embedding_index_build(version=version)
    return version


def test_knn_query_uses_the_versions_hnsw_index():
    version = _fill()
    other = ModelVersionFactory()  # another version's rows are in another partition
    target = Embedding.objects.order_by("id").first()
    query = Embedding.objects.filter(model_version=version).order_by(L2Distance("vector", target.vector))[:10]
    plan = query.explain()
    assert f"Index Scan using {version.index_name}" in plan, plan
    assert list(query)[0].pk == target.pk  # a vector is its own nearest neighbour
    assert version.index_name not in Embedding.objects.filter(model_version=other).order_by(
        L2Distance("vector", target.vector))[:10].explain()


def test_index_is_hnsw_with_l2_operator_class_on_the_versions_partition():
    version = _fill(50)
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename, indexdef FROM pg_indexes WHERE indexname = %s", [version.index_name])
        table, definition = cursor.fetchone()
    assert table == partitions.partition_name(partitions.EMBEDDINGS, version.pk) == f"catalog_embedding_v{version.pk}"
    assert "USING hnsw" in definition and "vector_l2_ops" in definition
    assert f"m='{HNSW_M}'" in definition and f"ef_construction='{HNSW_EF_CONSTRUCTION}'" in definition
    services.embedding_index_build(version=version)  # a second build is a no-op


def test_dropping_a_versions_partition_leaves_the_other_versions_whole():
    kept, dropped = _fill(40), _fill(30)
    with connection.cursor() as cursor:
        assert partitions.drop(cursor, partitions.EMBEDDINGS, dropped.pk) == 30
        assert partitions.drop(cursor, partitions.EMBEDDINGS, dropped.pk) == 0  # already gone
        cursor.execute("SELECT to_regclass(%s), to_regclass(%s)", [dropped.index_name, kept.index_name])
        assert cursor.fetchone() == (None, kept.index_name)
    assert Embedding.objects.filter(model_version=kept).count() == 40
    assert not Embedding.objects.filter(model_version=dropped).exists()
