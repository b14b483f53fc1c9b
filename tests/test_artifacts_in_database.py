"""Model artifacts live in the database: a worker and a web process that share nothing but the
database and the broker (different DOPPEL_VAR, different artifact folders) train, fill, activate,
find twins, draw a star and roll back; each host loads a version's bytes once into its own cache,
checked against their hash; existing versions' files move into the database, and their latents
into per-version partitions, when migrating."""
import hashlib
import shutil
import urllib.parse

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from catalog import inference, loaded_models, partitions, selectors, services
from catalog.models import Artifact, BHBScore, ModelVersion
from tasks.pipeline import start_retrain
from tests.conftest import WorkerProcess
from tests.factories import ModelVersionFactory, SpectrumFactory, toy_grid
from tests.test_retrain_pipeline import config, wait_for

State = ModelVersion.State


def _database_url() -> str:
    db = connection.settings_dict
    host = urllib.parse.quote(db["HOST"], safe="")
    return f"postgres://{db['USER']}@{host}:{db['PORT']}/{db['NAME']}"


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_web_and_worker_share_only_the_database_and_the_broker(tmp_path, settings):
    from portal.celery import app

    web, worker_var = tmp_path / "web-artifacts", tmp_path / "worker-var"
    settings.ARTIFACT_ROOT = web
    spectra = toy_grid()
    app.control.purge()
    worker = WorkerProcess(tmp_path / "worker.log", extra_env={
        "DOPPEL_VAR": str(worker_var), "DOPPEL_ARTIFACTS": str(worker_var / "artifacts"),
        "DATABASE_URL": _database_url(), "CELERY_BROKER_URL": django_settings.CELERY_BROKER_URL,
        "CELERY_RESULT_BACKEND": django_settings.CELERY_RESULT_BACKEND})
    try:
        worker.wait_ready()
        first = wait_for(start_retrain(kind="disentangler", config=config()), {State.ACTIVE, State.FAILED}, worker)
        assert first.state == State.ACTIVE, first.latest_run.error
        stored = Artifact.objects.get(sha256=first.artifact)
        assert hashlib.sha256(bytes(stored.data)).hexdigest() == first.artifact and stored.size == len(stored.data)
        assert (worker_var / "artifacts" / "blobs" / f"{first.artifact}.pt").exists()  # the worker's own copy (fill)
        assert not web.exists()  # the web side has loaded nothing yet

        shutil.rmtree(worker_var / "artifacts")  # the worker's disk is another host's: out of the web's reach
        star = spectra[0].star
        assert selectors.twins_for_star(star=star, k=5).version == first
        drawn = inference.generate_at(star, {"teff": 4500.0, "logg": 2.0})  # loads the decoder from the database
        assert drawn.flux.ndim == 1 and len(drawn.flux) == len(drawn.wavelength) > 0
        assert (web / "blobs" / f"{first.artifact}.pt").exists() and not list(web.glob("v*"))

        second = wait_for(start_retrain(kind="disentangler", config=config()), {State.ACTIVE, State.FAILED}, worker)
        assert second.state == State.ACTIVE and second.artifact != first.artifact
        assert services.rollback(kind="disentangler") == first
        assert selectors.twins_for_star(star=star, k=5).version == first
    finally:
        worker.stop()


@pytest.mark.django_db
def test_a_damaged_or_missing_artifact_is_refused(tmp_path, settings):
    settings.ARTIFACT_ROOT = tmp_path
    (tmp_path / "model.pt").write_bytes(b"weights")
    digest = services.artifact_store(tmp_path / "model.pt")
    Artifact.objects.filter(sha256=digest).update(data=b"tampered")
    with pytest.raises(loaded_models.ArtifactMissing, match="damaged"):
        loaded_models.artifact_path(digest)
    assert not (tmp_path / "blobs" / f"{digest}.pt").exists()  # nothing half-trusted is cached
    with pytest.raises(loaded_models.ArtifactMissing, match="not stored"):
        loaded_models.artifact_path("0" * 64)

    ModelVersionFactory(kind="disentangler", state=State.ACTIVE, artifact="0" * 64)
    with pytest.raises(inference.NoActiveModel, match="cannot be loaded"):
        inference.active_disentangler()


@pytest.mark.django_db(transaction=True)
def test_migrating_moves_artifact_files_into_the_database_and_latents_into_partitions(tmp_path):
    """Back to before the migrations (0010), with versions that name files and have latents, an
    index and scores, then forward again."""
    spectra = [SpectrumFactory() for _ in range(3)]  # made with today's tables, kept through the way back
    executor = MigrationExecutor(connection)
    executor.migrate([("catalog", "0010_chemical_groups")])
    try:
        old_apps = executor.loader.project_state([("catalog", "0010_chemical_groups")]).apps
        Version = old_apps.get_model("catalog", "ModelVersion")
        (tmp_path / "disentangler.pt").write_bytes(b"saved weights")
        kept = Version.objects.create(kind="disentangler", state="active", artifact=str(tmp_path / "disentangler.pt"))
        gone = Version.objects.create(kind="disentangler", state="archived", artifact=str(tmp_path / "gone.pt"))
        with connection.cursor() as cursor:
            for version, count in ((kept, 3), (gone, 2)):
                for spectrum in spectra[:count]:
                    cursor.execute("INSERT INTO catalog_embedding (model_version_id, spectrum_id, vector) "
                                   "VALUES (%s, %s, %s::vector)", [version.pk, spectrum.pk, str([0.5] * 25)])
            cursor.execute(f"CREATE INDEX embedding_hnsw_v{kept.pk} ON catalog_embedding USING hnsw "
                           f"(vector vector_l2_ops) WHERE model_version_id = {kept.pk}")
            cursor.execute("INSERT INTO catalog_peculiarity (model_version_id, spectrum_id, star_id, score, spread) "
                           "VALUES (%s, %s, %s, 3.5, 0.2)", [kept.pk, spectra[0].pk, spectra[0].star_id])
        bhb = Version.objects.create(kind="bhb", state="active")
        old_apps.get_model("catalog", "BHBScore").objects.create(model_version_id=bhb.pk, star_id=spectra[0].star_id,
                                                                  score=0.9)
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
    kept, gone = ModelVersion.objects.get(pk=kept.pk), ModelVersion.objects.get(pk=gone.pk)
    assert kept.artifact == hashlib.sha256(b"saved weights").hexdigest()
    assert bytes(Artifact.objects.get(sha256=kept.artifact).data) == b"saved weights"
    assert gone.artifact == ""  # its file was already gone
    with connection.cursor() as cursor:
        for version, count in ((kept, 3), (gone, 2)):
            cursor.execute(f"SELECT count(*) FROM {partitions.partition_name(partitions.EMBEDDINGS, version.pk)}")
            assert cursor.fetchone()[0] == count
        cursor.execute("SELECT tablename FROM pg_indexes WHERE indexname = %s", [kept.index_name])
        assert cursor.fetchone() == (partitions.partition_name(partitions.EMBEDDINGS, kept.pk),)
        cursor.execute("SELECT count(*) FROM doppel.latents")  # the TAP view, remade on the new table
        assert cursor.fetchone()[0] == 3
        for table, version, view in (("catalog_peculiarity", kept, "doppel.peculiarity"),
                                     ("catalog_bhbscore", bhb, "doppel.bhb_scores")):
            cursor.execute(f"SELECT count(*) FROM {partitions.partition_name(table, version.pk)}")
            assert cursor.fetchone()[0] == 1
            cursor.execute(f"SELECT count(*) FROM {view}")  # remade, readable
            assert cursor.fetchone()[0] == 1
    assert BHBScore.objects.get().score == 0.9
