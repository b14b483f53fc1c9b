"""A training worker killed with SIGKILL mid-run: the broker redelivers the task to another
worker, which resumes from the last checkpoint; the run shows the interruption, and the active
version stays active until the new one is complete."""
import os
import signal
import time

import pytest

from catalog.models import ModelVersion
from tasks.pipeline import start_retrain
from tests.conftest import WorkerProcess
from tests.factories import TOY_TRAINING, ModelVersionFactory, toy_grid
from tests.test_retrain_pipeline import wait_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

# A lost worker's message comes back after 4 s instead of a day.
FAST_REDELIVERY = {"DOPPEL_BROKER_VISIBILITY_S": "4", "DOPPEL_BROKER_RESTORE_INTERVAL_S": "1"}


def test_sigkill_mid_training_resumes_from_checkpoint(tmp_path):
    from portal.celery import app

    app.control.purge()
    toy_grid()
    old = ModelVersionFactory(state=ModelVersion.State.ACTIVE)
    training = {**TOY_TRAINING, "epochs": 60, "encoder_hidden": [256, 128], "decoder_hidden": [128, 256]}
    first = WorkerProcess(tmp_path / "first.log", extra_env=FAST_REDELIVERY)
    second = None
    try:
        first.wait_ready()
        version = start_retrain(kind="disentangler", config={"training": training, "evaluation": {"map_sample": 50},
                                                              "activation": {"mode": "always"}})
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            run = version.latest_run
            if run.epoch >= 3:
                break
            time.sleep(0.05)
        os.killpg(first.process.pid, signal.SIGKILL)  # no goodbye: the task stays unacknowledged
        first.process.wait()
        killed_at = version.latest_run.epoch
        assert 3 <= killed_at < 60
        version.refresh_from_db()
        old.refresh_from_db()
        assert version.state == ModelVersion.State.TRAINING and old.state == ModelVersion.State.ACTIVE

        second = WorkerProcess(tmp_path / "second.log", extra_env=FAST_REDELIVERY)
        second.wait_ready()
        version = wait_for(version, {ModelVersion.State.ACTIVE, ModelVersion.State.FAILED}, second, timeout=120)
        run = version.latest_run
        assert version.state == ModelVersion.State.ACTIVE, run.error
        assert run.interruptions == 1 and "resumed" in run.logs
        assert version.metrics["resumed_from_epoch"] >= killed_at - 1  # the checkpoint, not epoch 0
        assert run.epoch == 60
        epochs = [record["epoch"] for record in run.loss_history]
        assert epochs == sorted(set(epochs)) and epochs[-1] == 60  # no epoch counted twice
        old.refresh_from_db()
        assert old.state == ModelVersion.State.ARCHIVED
    finally:
        for worker in (first, second):
            if worker is not None:
                worker.stop()
