"""Cancelling a training run (the admin action's service) stops the worker at the next epoch and
keeps nothing."""
import time

import pytest

from catalog import services
from catalog.models import ModelVersion, TrainingRun
from tasks.pipeline import start_retrain
from tests.factories import TOY_TRAINING, toy_grid

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_cancel_stops_training(celery_worker_process):
    toy_grid()
    training = {**TOY_TRAINING, "epochs": 2000, "encoder_hidden": [256, 128], "decoder_hidden": [128, 256]}
    version = start_retrain(kind="disentangler", config={"training": training})
    deadline = time.monotonic() + 60
    while version.latest_run.epoch < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    task_id = services.version_cancel(version=version)
    assert task_id  # what the admin action revokes
    time.sleep(4)  # the loop checks every 2 s
    epoch = version.latest_run.epoch
    time.sleep(1.5)
    run = version.latest_run
    assert run.epoch == epoch < 2000  # stopped
    version.refresh_from_db()
    assert version.state == ModelVersion.State.CANCELLED and run.state == TrainingRun.State.CANCELLED
    assert version.artifact == "" and not version.metrics
    with pytest.raises(services.RegistryError, match="cannot be cancelled"):
        services.version_cancel(version=version)
