"""Workers killed with SIGKILL mid-task (training, a fill chunk, a scoring chunk): the broker
redelivers the work to a live worker, which resumes (training: from the last checkpoint) or redoes
the chunk; nothing is lost or written twice, and the active version stays active until the new one
is complete. The test workers redeliver after 4 s instead of the production 5 minutes."""
import os
import signal
import time

import pytest

from catalog.models import BHBScore, Embedding, ModelVersion
from tasks.pipeline import start_retrain
from tests.conftest import WorkerProcess
from tests.factories import TOY_TRAINING, ModelVersionFactory, toy_grid
from tests.test_retrain_pipeline import wait_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

# A lost worker's message comes back after 4 s instead of 5 minutes.
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


def _kill(worker) -> float:
    os.killpg(worker.process.pid, signal.SIGKILL)
    worker.process.wait()
    return time.monotonic()


def _wait_until(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"never: {what}")


@pytest.mark.parametrize("kind", ["disentangler", "bhb"])
def test_sigkill_during_a_fill_or_scoring_chunk(tmp_path, kind):
    """The worker dies inside a chunk (each chunk sleeps 3 s first): the chunk runs again on a live
    worker, every output row is written once, and the old version stays active until the new one
    is complete."""
    from portal.celery import app
    from tests.test_bhb_pipeline import TINY, _stars

    app.control.purge()
    if kind == "disentangler":
        spectra = toy_grid(n_groups=4, per_group=16)
        expected = len(spectra)
        config = {"training": {**TOY_TRAINING, "epochs": 2}, "evaluation": {"map_sample": 50}, "activation": {"mode": "always"}}
        chunk, outputs = "tasks.outputs.fill_embeddings_chunk", Embedding.objects
    else:
        expected = len(_stars())
        config = TINY
        chunk, outputs = "tasks.outputs.score_bhb_chunk", BHBScore.objects
    old = ModelVersionFactory(kind=kind, state=ModelVersion.State.ACTIVE)
    env = {**FAST_REDELIVERY, "DOPPEL_FILL_CHUNK": "16", "DOPPEL_TEST_SLOW_TASKS": f"{chunk}=3"}
    first = WorkerProcess(tmp_path / "first.log", extra_env=env)
    second = None
    try:
        first.wait_ready()
        version = start_retrain(kind=kind, config=config)
        _wait_until(lambda: ModelVersion.objects.get(pk=version.pk).state == ModelVersion.State.FILLING, 240, "filling")
        time.sleep(1.5)  # inside the first chunk's 3 s
        killed = _kill(first)
        assert ModelVersion.objects.get(pk=old.pk).state == ModelVersion.State.ACTIVE
        second = WorkerProcess(tmp_path / "second.log", extra_env={**FAST_REDELIVERY, "DOPPEL_FILL_CHUNK": "16"})
        second.wait_ready()
        version = wait_for(version, {ModelVersion.State.ACTIVE, ModelVersion.State.FAILED}, second, timeout=240)
        print(f"{kind}: active {time.monotonic() - killed:.1f} s after the kill")
        assert version.state == ModelVersion.State.ACTIVE, version.latest_run.error
        rows = outputs.filter(model_version=version)
        assert rows.count() == expected  # every row once (a unique key per version and spectrum/star)
        assert ModelVersion.objects.get(pk=old.pk).state == ModelVersion.State.ARCHIVED
    finally:
        for worker in (first, second):
            if worker is not None:
                worker.stop()


def test_a_watchdog_takes_over_a_long_training_whose_worker_dies(tmp_path):
    """Two live workers and a visibility timeout far shorter than the training: the training's
    message comes back while it runs, the second worker keeps it as a watchdog (not a second run);
    when the first worker is killed the watchdog resumes the run, and the chain runs once."""
    from portal.celery import app

    app.control.purge()
    toy_grid()
    training = {**TOY_TRAINING, "epochs": 60, "encoder_hidden": [256, 128], "decoder_hidden": [128, 256]}
    env = {**FAST_REDELIVERY, "DOPPEL_TRAINING_WATCHDOG_S": "2"}
    # the first worker's epochs take ≥ 0.5 s, so its training outlives the 4-s visibility timeout
    first = WorkerProcess(tmp_path / "first.log", extra_env={**env, "DOPPEL_TEST_EPOCH_DELAY_S": "0.5"})
    second = None
    try:
        first.wait_ready()
        version = start_retrain(kind="disentangler", config={"training": training, "evaluation": {"map_sample": 50},
                                                              "activation": {"mode": "always"}})
        _wait_until(lambda: (version.latest_run.epoch or 0) >= 1, 90, "the first epoch")
        second = WorkerProcess(tmp_path / "second.log", extra_env=env)  # only now: the first worker has the training
        second.wait_ready()
        _wait_until(lambda: "Retry in 2s" in second.log_path.read_text(), 60, "the second worker keeping a watchdog")
        assert version.latest_run.interruptions == 0 and version.latest_run.logs.count("started on") == 1
        killed_at_epoch = version.latest_run.epoch
        _kill(first)
        version = wait_for(version, {ModelVersion.State.ACTIVE, ModelVersion.State.FAILED}, second, timeout=180)
        run = version.latest_run
        assert version.state == ModelVersion.State.ACTIVE, run.error
        assert run.interruptions == 1 and version.metrics["resumed_from_epoch"] >= killed_at_epoch - 1
        assert run.logs.count("activated: ") == 1  # the chain ran once
    finally:
        first.stop()
        if second is not None:
            second.stop()
