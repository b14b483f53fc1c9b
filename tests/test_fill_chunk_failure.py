"""A fill chunk that fails must not leave its version filling for ever. Celery runs a chord's
callback only when every chunk succeeded, so a chunk that raised (two workers once fetched one
artifact at the same moment) left the run at "filling 250000 in 10 chunk(s)" with nothing running.
A chunk now notes its error and returns; finishing fills what it left, or fails the version."""
import pytest

from catalog import services
from catalog.models import Embedding, ModelVersion
from tasks.outputs import fill_embeddings_chunk, finish_outputs
from tasks.pipeline import start_retrain
from tests.conftest import filling_disentangler
from tests.factories import TOY_TRAINING, LabelsFactory, SpectrumFactory, StarFactory, toy_grid
from tests.test_retrain_pipeline import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_chunk_that_fails_once_is_filled_by_finishing(monkeypatch):
    version, lo, hi, n = filling_disentangler(n_groups=2, per_group=10)
    real = services.embeddings_fill_range

    def torn_artifact(**kwargs):
        raise RuntimeError("PytorchStreamReader failed reading zip archive")

    monkeypatch.setattr(services, "embeddings_fill_range", torn_artifact)
    chunk = fill_embeddings_chunk.apply(args=[version.pk, lo, hi, n])
    assert chunk.state == "SUCCESS"  # the chord's callback will run
    assert chunk.result["written"] == 0 and "PytorchStreamReader" in chunk.result["error"]
    assert f"chunk {lo}–{hi} failed (RuntimeError: PytorchStreamReader" in version.latest_run.logs
    monkeypatch.setattr(services, "embeddings_fill_range", real)
    finish_outputs.apply(args=[version.pk])
    version.refresh_from_db()
    assert version.state == ModelVersion.State.READY
    assert Embedding.objects.filter(model_version=version).count() == n


def test_a_chunk_that_always_fails_fails_its_version_on_a_worker(celery_worker_process):
    """Through a real worker and its chord: a spectrum whose flux cannot be read (below the
    training selection's S/N, so only the fill reads it) fails its chunk and then the finish, and
    the version ends FAILED with the reason instead of filling for ever."""
    spectra = toy_grid(n_groups=2, per_group=10)
    star = StarFactory()
    LabelsFactory(star=star, teff=4500.0, logg=2.0, fe_h=0.0, alpha_fe=0.0)
    SpectrumFactory(star=star, survey=spectra[0].survey, snr=1.0, flux=b"\x00\x01\x02")  # not float32
    config = {"training": TOY_TRAINING, "selection": {"snr_min": 5}, "activation": {"mode": "never"}}
    version = start_retrain(kind="disentangler", config=config)
    version = wait_for(version, {ModelVersion.State.READY, ModelVersion.State.FAILED}, celery_worker_process, timeout=120)
    assert version.state == ModelVersion.State.FAILED
    run = version.latest_run
    assert "failed (ValueError" in run.logs and "finishing fills it again" in run.logs
    assert "ValueError" in run.error
