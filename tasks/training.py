"""Training tasks (queue ``gpu``; they run on CPU when there is no GPU).

Each claims its version (see :mod:`catalog.services.registry`); a redelivery after a lost worker
resumes from the checkpoint. The device is chosen inside the task, never in the worker's parent.

Redelivery (``docs/architecture.md``, "When a worker dies"): the broker's visibility timeout is
short (minutes), so a training that runs for hours is delivered again while its worker is still
alive. That copy finds the claim held and, instead of vanishing, re-queues itself every
``DOPPEL_TRAINING_WATCHDOG_S`` seconds: a *watchdog* message that exists as long as the training
runs. If the worker dies, the next watchdog takes the claim (the dead worker's advisory lock went
with its database session) and resumes; once the training is over, the watchdog ends without
running the chain a second time. A run past ``DOPPEL_TRAINING_TIMEOUT_S`` (counted from its first
start, resumes included) stops after its current epoch and fails with that reason; the limit is
enforced in the training loop, so it holds in every worker pool, ``solo`` included.
"""
from __future__ import annotations

import shutil
from pathlib import Path

from celery import shared_task
from celery.exceptions import Ignore
from django.conf import settings

from catalog import selectors, services
from catalog.models import ModelVersion
from tasks.runs import Reporter, readable_error

State = ModelVersion.State


def version_dir(version_id: int) -> Path:
    """Artifacts and checkpoints of one version: $DOPPEL_ARTIFACTS/v<id>/."""
    return Path(settings.ARTIFACT_ROOT) / f"v{version_id}"


def _claim_or_skip(task, version_id: int):
    """The claim, or: return None when training is already done (a plain redelivery: the chain goes
    on); retry later when a live worker has it (the watchdog); Ignore (the chain stops) when the
    version failed or was cancelled, or when a watchdog finds the training over (the worker that
    trained it continued the chain)."""
    claim = services.training_claim(version_id=version_id, task_id=task.request.id or "")
    if claim is not None:
        return claim
    version = selectors.model_version(version_id)
    watchdog = bool(task.request.retries)
    if version is not None and version.state in (State.FILLING, State.READY, State.ACTIVE, State.ARCHIVED):
        if watchdog:
            raise Ignore()
        return None
    if version is not None and version.state in (State.QUEUED, State.TRAINING) and not task.request.is_eager:
        # a live worker holds the claim (an in-process call has no broker to watch for)
        raise task.retry(countdown=settings.TRAINING_WATCHDOG_S)  # the tasks have max_retries=None
    raise Ignore()


def _run(task, version_id: int, train) -> dict:
    claim = _claim_or_skip(task, version_id)
    if claim is None:
        return {"version": version_id, "skipped": "already trained"}
    reporter = Reporter(task, claim)
    if not claim.resumed:  # a fresh start never resumes someone else's leftovers
        shutil.rmtree(version_dir(version_id), ignore_errors=True)
    try:
        metrics = train(claim, reporter)
        if reporter.timed_out:
            services.version_fail(version_id=version_id, error=reporter.timed_out)
            raise Ignore()
        if metrics is None or not services.training_finish(version=claim.version, artifact=reporter.artifact,
                                                           metrics=metrics, timings=reporter.timings()):
            raise Ignore()  # cancelled while training: nothing is kept
        return {"version": version_id, "metrics": {k: v for k, v in metrics.items() if isinstance(v, (int, float))}}
    except Ignore:
        raise
    except Exception as error:  # recorded on the run; the active version is untouched
        services.version_fail(version_id=version_id, error=readable_error(error))
        raise
    finally:
        services.training_release(version_id=version_id)


@shared_task(bind=True, max_retries=None, name="tasks.training.train_disentangler")
def train_disentangler(self, version_id: int) -> dict:
    """Build (or reuse) the dataset snapshot, train with checkpoints, evaluate, save the artifact."""
    from ml import workflows

    def train(claim, reporter: Reporter):
        config = claim.version.config
        reporter.phase("dataset", "reading the training set")
        dataset = services.disentangler_dataset(config=config, cache_root=settings.ARTIFACT_ROOT,
                                                 abundances=config["evaluation"]["abundances"])
        reporter.phase("training", f"training on {len(dataset)} spectra (snapshot {dataset.fingerprint})")
        directory = version_dir(claim.version.pk)
        reporter.artifact = str(directory / "disentangler.pt")
        reporter.total_epochs = int(config["training"].get("epochs", 200))
        return workflows.train_disentangler(
            flux=dataset.flux, parameters=dataset.parameters, groups=dataset.groups, labels=dataset.labels,
            conditional=dataset.conditional, training={**config["training"], "device": "auto"},
            evaluation=config["evaluation"], checkpoint=directory / "checkpoint.pt", artifact=Path(reporter.artifact),
            on_epoch=reporter.epoch, should_stop=reporter.should_stop, log=reporter.log)

    return _run(self, version_id, train)


@shared_task(bind=True, max_retries=None, name="tasks.training.train_bhb")
def train_bhb(self, version_id: int) -> dict:
    """Transfer-train BATMM on the labelled stars with both modalities; per-stage checkpoints."""
    from ml import workflows
    from ml.bhb_train import TrainingStopped

    def train(claim, reporter: Reporter):
        config = claim.version.config
        reporter.phase("dataset", "reading the labelled stars")
        dataset = services.bhb_dataset(config=config, cache_root=settings.ARTIFACT_ROOT)
        reporter.phase("training", f"training on {len(dataset)} stars ({int(dataset.labels.sum())} BHB)")
        directory = version_dir(claim.version.pk)
        reporter.artifact = str(directory / "batmm.pt")
        training = {**config["training"], "device": "auto"}
        defaults = workflows.bhb_configs(config["model"], config["training"])
        reporter.total_epochs = 2 * defaults.epochs_encoder + defaults.epochs_fusion
        try:
            return workflows.train_bhb(spectra=dataset.spectra, images=dataset.images, labels=dataset.labels,
                                       model=config["model"], training=training, checkpoint_dir=directory / "stages",
                                       artifact=Path(reporter.artifact), on_epoch=reporter.epoch,
                                       should_stop=reporter.should_stop, log=reporter.log)
        except TrainingStopped:
            return None

    return _run(self, version_id, train)

