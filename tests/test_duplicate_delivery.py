"""Every task claims its work: a second delivery of the same task changes nothing."""
import time

import pytest

from catalog import services
from catalog.models import Embedding, ModelVersion
from tasks.outputs import fill_embeddings_chunk, finish_outputs
from tasks.pipeline import start_retrain
from tasks.training import train_disentangler
from tests.conftest import filling_disentangler
from tests.factories import TOY_TRAINING, toy_grid
from tests.test_retrain_pipeline import wait_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_duplicate_training_delivery_while_running_does_nothing(celery_worker_process):
    toy_grid()
    training = {**TOY_TRAINING, "epochs": 40, "encoder_hidden": [256, 128], "decoder_hidden": [128, 256]}
    version = start_retrain(kind="disentangler", config={"training": training, "activation": {"mode": "never"}})
    deadline = time.monotonic() + 60
    while version.latest_run.epoch < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    duplicate = train_disentangler.apply(args=[version.pk])  # same task, delivered again, in this process
    assert duplicate.state == "IGNORED"  # the live worker holds the claim (through a broker: a watchdog)
    run = version.latest_run
    assert run.interruptions == 0 and run.logs.count("started on") == 1

    version = wait_for(version, {ModelVersion.State.READY, ModelVersion.State.FAILED}, celery_worker_process)
    assert version.state == ModelVersion.State.READY
    metrics = dict(version.metrics)
    late = train_disentangler.apply(args=[version.pk])  # after the fact: nothing to claim
    assert late.result["skipped"] == "already trained"
    version.refresh_from_db()
    assert version.metrics == metrics and version.state == ModelVersion.State.READY


def test_fill_chunk_delivered_twice_writes_each_latent_once():
    version, lo, hi, n = filling_disentangler(n_groups=2, per_group=10)
    services.run_phase(run=version.latest_run, phase="filling", progress=0.0)
    first = fill_embeddings_chunk.apply(args=[version.pk, lo, hi]).result
    assert first["written"] == n
    assert version.latest_run.progress == pytest.approx(1.0)  # the fill reports the fraction embedded
    again = fill_embeddings_chunk.apply(args=[version.pk, lo, hi]).result
    assert again["written"] == 0  # complete range: skipped
    Embedding.objects.filter(model_version=version, spectrum_id=hi).delete()  # a chunk half-lost
    assert fill_embeddings_chunk.apply(args=[version.pk, lo, hi]).result["written"] == n
    assert Embedding.objects.filter(model_version=version).count() == n
    finish_outputs.apply(args=[version.pk])
    finish_outputs.apply(args=[version.pk])
    version.refresh_from_db()
    assert version.state == ModelVersion.State.READY
