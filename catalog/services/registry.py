"""The model registry: a version's life from queued to active, and every rule about it.

States (ModelVersion.State)::

    queued ─claim→ training ─finish→ filling ─complete→ ready ─activate→ active ─(replaced)→ archived
       └──────────────┴────────────────┴── fail → failed      cancel → cancelled

* Every transition is a *conditional* UPDATE (``WHERE state IN …``): a duplicate delivery of a
  task finds nothing to claim and does nothing.
* A training run holds a PostgreSQL session advisory lock on its version for as long as it
  runs. A duplicate delivery while the first is alive cannot take it; a redelivery after the
  worker died (SIGKILL, lost node) can, because PostgreSQL drops the lock with the dead
  connection. That redelivery resumes from the last checkpoint and counts an interruption.
* :func:`activate` is the only way to become active: it checks completeness, then archives the
  active version and activates the new one in one transaction. Search reads the active version
  only, so it switches atomically.
* :func:`rollback` re-activates the most recently archived version of the kind.
"""
from __future__ import annotations

import datetime as dt
import json
import math
import os
import socket
from dataclasses import dataclass
from pathlib import Path

from django.db import connection, transaction
from django.db.models import F, TextField, Value
from django.db.models.functions import Concat
from django.utils import timezone

from catalog import model_config
from catalog.model_config import ConfigError
from catalog.models import ModelVersion, TrainingRun
from catalog.services.artifacts import artifact_store

State = ModelVersion.State
RunState = TrainingRun.State
_LOCK_NAMESPACE = 7_214  # advisory-lock key space of training runs: (7214, version id)


class RegistryError(Exception):
    """An operation the version's state does not allow; the message says why."""


def training_config_check(*, kind: str, config: dict | None) -> dict:
    """The normalised config, or ConfigError for one that cannot be trained: unknown settings, bad
    values, or a selection that matches nothing in the catalog (checked before anything is queued)."""
    from catalog import selectors

    normalised = model_config.normalise(kind, config)
    if kind == ModelVersion.Kind.DISENTANGLER:
        if selectors.embeddable_count(normalised, training=True) == 0:
            raise ConfigError(f"the selection matches no {normalised['survey']} spectrum with {normalised['label_source']!r} "
                              f"labels for {', '.join(normalised['conditional'])}")
    elif selectors.bhb_dataset_size(normalised) == 0:
        raise ConfigError(f"no star has an SDSS spectrum, an image and a {normalised['catalogue']!r} BHB label")
    return normalised


def model_version_create(*, kind: str, config: dict | None, created_by=None, parent: ModelVersion | None = None) -> ModelVersion:
    """A queued version with a validated config and a pending run (ConfigError: see
    :func:`training_config_check`)."""
    normalised = training_config_check(kind=kind, config=config)
    with transaction.atomic():
        version = ModelVersion.objects.create(kind=kind, config=normalised, created_by=created_by, parent=parent)
        TrainingRun.objects.create(model_version=version)
    return version


def run_attach_task(*, version: ModelVersion, task_id: str) -> None:
    TrainingRun.objects.filter(pk=version.latest_run.pk).update(celery_task_id=task_id)


# ----------------------------------------------------------------------------- training claims


@dataclass
class Claim:
    version: ModelVersion
    run: TrainingRun
    resumed: bool


def _try_lock(version_id: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [_LOCK_NAMESPACE, version_id])
        return bool(cursor.fetchone()[0])


def training_release(*, version_id: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [_LOCK_NAMESPACE, version_id])


def training_claim(*, version_id: int, task_id: str = "") -> Claim | None:
    """Take the training of a version, or return None when there is nothing to take (it is done,
    failed, cancelled, or another live worker is on it). Keeps the advisory lock on success."""
    if not _try_lock(version_id):
        return None
    worker = f"{socket.gethostname()}:{os.getpid()}"
    now = timezone.now()
    with transaction.atomic():
        claimed = ModelVersion.objects.filter(pk=version_id, state__in=[State.QUEUED, State.TRAINING])
        version = claimed.select_for_update().first()
        if version is None:
            training_release(version_id=version_id)
            return None
        resumed = version.state == State.TRAINING  # the lock was free: whoever held it is gone
        run = version.latest_run or TrainingRun.objects.create(model_version=version)
        note = (f"{now:%Y-%m-%d %H:%M:%S} resumed on {worker} after an interruption (epoch {run.epoch})\n" if resumed
                else f"{now:%Y-%m-%d %H:%M:%S} started on {worker}\n")
        TrainingRun.objects.filter(pk=run.pk).update(
            state=RunState.RUNNING, worker=worker, celery_task_id=task_id or run.celery_task_id,
            started_at=run.started_at or now, interruptions=F("interruptions") + (1 if resumed else 0),
            logs=_append(note), phase="dataset")
        ModelVersion.objects.filter(pk=version.pk).update(state=State.TRAINING)
    version.refresh_from_db()
    run.refresh_from_db()
    return Claim(version=version, run=run, resumed=resumed)


def _append(line: str):
    """SQL expression: the run's logs with ``line`` appended (no read-modify-write race)."""
    return Concat(F("logs"), Value(line), output_field=TextField())


def run_phase(*, run: TrainingRun, phase: str, log: str = "", progress: float | None = None) -> None:
    """Record the phase a run entered (dataset, training, evaluating, filling, …) and a log line;
    ``progress`` restarts the progress fraction for the phase."""
    line = f"{timezone.now():%Y-%m-%d %H:%M:%S} {log or phase}\n"
    changes = {"phase": phase, "logs": _append(line)}
    if progress is not None:
        changes["progress"] = progress
    TrainingRun.objects.filter(pk=run.pk).update(**changes)


def run_record_epoch(*, run: TrainingRun, record: dict, progress: float, eta_s: float | None) -> None:
    """Append one epoch's losses to the run's history; progress in [0, 1]; ETA in seconds."""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE catalog_trainingrun SET loss_history = loss_history || %s::jsonb, epoch = %s, progress = %s, "
            "timings = timings || %s::jsonb WHERE id = %s",
            [_json([record]), int(record.get("epoch", 0)), min(max(progress, 0.0), 1.0),
             _json({"eta_s": eta_s}), run.pk])


def run_fill_progress(*, version: ModelVersion, written: int, total: int) -> None:
    """Add ``written`` of ``total`` outputs (fill or scoring) to the run's progress: one relative
    UPDATE, so chunks running in parallel never overwrite each other (capped at 1)."""
    with connection.cursor() as cursor:
        cursor.execute("UPDATE catalog_trainingrun SET progress = LEAST(1.0, progress + %s) WHERE id = "
                       "(SELECT max(id) FROM catalog_trainingrun WHERE model_version_id = %s)",
                       [written / max(total, 1), version.pk])


def json_safe(value):
    """``value`` with every NaN or infinite float replaced by None (JSON, and so PostgreSQL's
    jsonb, has no such numbers); numpy scalars become Python numbers."""
    if isinstance(value, dict):
        return {key: json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(item) for item in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):  # numpy scalar
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _json(value) -> str:
    return json.dumps(json_safe(value), default=float)


def is_cancelled(*, version_id: int) -> bool:
    return ModelVersion.objects.filter(pk=version_id, state=State.CANCELLED).exists()


def training_finish(*, version: ModelVersion, artifact: str | Path, metrics: dict, timings: dict) -> bool:
    """training → filling with the metrics and the artifact file at ``artifact`` (stored in the
    database in the same transaction, so that every host can load it). False if the version left
    ``training`` meanwhile (cancelled): then nothing is written."""
    with transaction.atomic():
        version_row = ModelVersion.objects.select_for_update().filter(pk=version.pk, state=State.TRAINING).first()
        if version_row is None:
            return False
        digest = artifact_store(artifact)
        ModelVersion.objects.filter(pk=version.pk).update(state=State.FILLING, artifact=digest,
                                                         metrics=json_safe(metrics))
        run = version.latest_run
        TrainingRun.objects.filter(pk=run.pk).update(
            progress=1.0, phase="filling", timings={**run.timings, **timings},
            logs=_append(f"{timezone.now():%Y-%m-%d %H:%M:%S} trained; artifact sha256 {digest[:12]} "
                         f"({Path(artifact).stat().st_size / 1e6:.1f} MB)\n"))
    return True


def version_fail(*, version_id: int, error: str) -> bool:
    """Mark a version failed with a readable error, unless it is already active, archived, ready
    or finished otherwise. The active version of the kind is never touched."""
    with transaction.atomic():
        updated = ModelVersion.objects.filter(
            pk=version_id, state__in=[State.QUEUED, State.TRAINING, State.FILLING]).update(state=State.FAILED)
        run = TrainingRun.objects.filter(model_version_id=version_id).order_by("-id").first()
        if updated and run:
            TrainingRun.objects.filter(pk=run.pk).update(
                state=RunState.FAILED, error=error[:10_000], finished_at=timezone.now(),
                logs=_append(f"{timezone.now():%Y-%m-%d %H:%M:%S} failed: {error.splitlines()[0][:300] if error else ''}\n"))
    return bool(updated)


def version_cancel(*, version: ModelVersion) -> str:
    """Cancel a queued, training or filling version; returns the Celery task id to revoke."""
    with transaction.atomic():
        updated = ModelVersion.objects.filter(
            pk=version.pk, state__in=[State.QUEUED, State.TRAINING, State.FILLING]).update(state=State.CANCELLED)
        if not updated:
            version.refresh_from_db()
            raise RegistryError(f"{version} cannot be cancelled: it is {version.state}")
        run = version.latest_run
        if run:
            TrainingRun.objects.filter(pk=run.pk).update(
                state=RunState.CANCELLED, finished_at=timezone.now(),
                logs=_append(f"{timezone.now():%Y-%m-%d %H:%M:%S} cancelled\n"))
    return run.celery_task_id if run else ""


def version_complete_fill(*, version: ModelVersion) -> bool:
    """filling → ready when every eligible spectrum is embedded (or star scored) and the index
    exists; False (and no change) otherwise."""
    from catalog import selectors

    progress = selectors.version_progress(version)
    if not progress["complete"]:
        return False
    with transaction.atomic():
        updated = ModelVersion.objects.filter(pk=version.pk, state=State.FILLING).update(state=State.READY)
        run = version.latest_run
        if updated and run:
            TrainingRun.objects.filter(pk=run.pk).update(
                state=RunState.SUCCEEDED, phase="ready", finished_at=timezone.now(),
                logs=_append(f"{timezone.now():%Y-%m-%d %H:%M:%S} ready: {progress['done']} of {progress['total']}\n"))
    return bool(updated)


# ----------------------------------------------------------------------------- activation


def activate(*, version: ModelVersion, note: str | None = None) -> ModelVersion:
    """Make ``version`` the active one of its kind, in one transaction. It must be ready (or a
    previously active, archived version) and complete; the old active version is archived.
    ``note`` goes into its run's log in the same transaction (whoever sees it active sees why)."""
    from catalog import selectors

    with transaction.atomic():
        locked = list(ModelVersion.objects.select_for_update().filter(kind=version.kind).order_by("pk"))
        version = next(v for v in locked if v.pk == version.pk)
        if version.state == State.ACTIVE:
            return version
        if version.state not in (State.READY, State.ARCHIVED):
            raise RegistryError(f"{version} cannot be activated: it is {version.state}, not ready")
        progress = selectors.version_progress(version)
        if not progress["complete"]:
            raise RegistryError(f"{version} is incomplete: {progress['done']} of {progress['total']} "
                                f"{progress['unit']} done{'' if progress['indexed'] else ', index not built'}")
        ModelVersion.objects.filter(kind=version.kind, state=State.ACTIVE).update(state=State.ARCHIVED)
        ModelVersion.objects.filter(pk=version.pk).update(state=State.ACTIVE, activated_at=timezone.now())
        if note:
            run_note(version=version, message=note)
    version.refresh_from_db()
    return version


def rollback(*, kind: str) -> ModelVersion:
    """Re-activate the previously active version of ``kind``; the current one goes back to ready."""
    with transaction.atomic():
        locked = list(ModelVersion.objects.select_for_update().filter(kind=kind).order_by("pk"))
        current = next((v for v in locked if v.state == State.ACTIVE), None)
        previous = max((v for v in locked if v.state == State.ARCHIVED and v.activated_at),
                       key=lambda v: v.activated_at, default=None)
        if previous is None:
            raise RegistryError(f"no earlier {kind} version to roll back to")
        if current is not None:
            ModelVersion.objects.filter(pk=current.pk).update(state=State.READY)
        ModelVersion.objects.filter(pk=previous.pk).update(state=State.ACTIVE, activated_at=timezone.now())
    previous.refresh_from_db()
    return previous


def activation_decision(*, version: ModelVersion) -> tuple[bool, str]:
    """Whether the retrain chain should activate ``version`` (its config's activation gate)."""
    gate = version.config.get("activation", {"mode": "always"})
    if gate["mode"] == "never":
        return False, "activation.mode is 'never': left ready for an admin"
    if gate["mode"] == "always":
        return True, "activation.mode is 'always'"
    active = ModelVersion.objects.filter(kind=version.kind, state=State.ACTIVE).first()
    metric = gate["metric"]
    candidate = version.metrics.get(metric)
    current = active.metrics.get(metric) if active else None
    if model_config.is_better(version.kind, metric, candidate, current, gate["tolerance"]):
        return True, f"{metric} {candidate} passes against the active {current}"
    return False, f"{metric} {candidate} is worse than the active version's {current} (tolerance {gate['tolerance']})"


def run_note(*, version: ModelVersion, message: str) -> None:
    run = version.latest_run
    if run:
        TrainingRun.objects.filter(pk=run.pk).update(logs=_append(f"{timezone.now():%Y-%m-%d %H:%M:%S} {message}\n"))


def latent_map_store(*, version: ModelVersion, spectrum_ids, latent_xy, raw_xy, seconds: float) -> None:
    ModelVersion.objects.filter(pk=version.pk).update(latent_map={
        "spectrum_ids": [int(i) for i in spectrum_ids], "latent": [[round(float(a), 3), round(float(b), 3)] for a, b in latent_xy],
        "raw": [[round(float(a), 3), round(float(b), 3)] for a, b in raw_xy], "seconds": seconds,
        "built_at": dt.datetime.now(dt.timezone.utc).isoformat()})
