"""The retrain chain and the admin's one-step operations.

    retrain(kind, config) = train → fill (or score) → latent map → peculiarity → activate-if-the-gate-passes

``start_retrain`` validates the config *before* anything is queued (so a form or the API can
show the error), creates the version, and sends the chain once the transaction commits.
"""
from __future__ import annotations

from celery import chain, shared_task
from django.conf import settings
from django.db import transaction

from catalog import selectors, services
from catalog.models import ModelVersion
from tasks.outputs import build_latent_map, fill_embeddings, score_bhb, score_peculiarity
from tasks.training import train_bhb, train_disentangler

Kind = ModelVersion.Kind


def retrain_chain(version: ModelVersion):
    if version.kind == Kind.DISENTANGLER:
        steps = [train_disentangler.si(version.pk), fill_embeddings.si(version.pk), build_latent_map.si(version.pk),
                 score_peculiarity.si(version.pk)]
    else:
        steps = [train_bhb.si(version.pk), score_bhb.si(version.pk)]
    return chain(*steps, activate_if_better.si(version.pk))


def start_retrain(*, kind: str, config: dict | None, created_by=None, parent: ModelVersion | None = None) -> ModelVersion:
    """Create a version (ConfigError on a bad config) and queue its chain after commit."""
    version = services.model_version_create(kind=kind, config=config, created_by=created_by, parent=parent)

    def send():
        result = retrain_chain(version).apply_async()
        # the chain's first task is the training: its id is what an admin revokes
        first = result
        while first.parent is not None:
            first = first.parent
        services.run_attach_task(version=version, task_id=first.id)

    transaction.on_commit(send)
    return version


@shared_task(name="tasks.pipeline.retrain")
def retrain(kind: str, config: dict | None = None, parent_id: int | None = None) -> dict:
    """Start a retrain from a task (e.g. a periodic schedule); same as :func:`start_retrain`."""
    parent = selectors.model_version(parent_id) if parent_id else None
    version = start_retrain(kind=kind, config=config, parent=parent)
    return {"version": version.pk}


@shared_task(name="tasks.pipeline.activate_if_better")
def activate_if_better(version_id: int) -> dict:
    """The chain's last step: activate when the config's gate passes, else leave it ready."""
    version = selectors.model_version(version_id)
    if version is None:
        return {"version": version_id, "activated": False, "reason": "no such version"}
    if version.state == ModelVersion.State.ACTIVE:
        return {"version": version_id, "activated": True, "reason": "already active"}
    if version.state != ModelVersion.State.READY:
        return {"version": version_id, "activated": False, "reason": f"version is {version.state}"}
    go, reason = services.activation_decision(version=version)
    if go:  # the note is written with the switch: a client that sees the version active sees why
        services.activate(version=version, note=f"activated: {reason}")
        prune_versions.delay()  # an older version may now be past retention
    else:
        services.run_note(version=version, message=f"not activated: {reason}")
    return {"version": version_id, "activated": go, "reason": reason}


@shared_task(name="tasks.pipeline.prune_versions")
def prune_versions() -> dict:
    """Drop the outputs of versions past retention (``DOPPEL_KEEP_ARCHIVED``)."""
    report = services.versions_prune(keep_archived=settings.KEEP_ARCHIVED, artifact_root=settings.ARTIFACT_ROOT)
    return {"pruned": report.pruned, "rows_deleted": report.rows_deleted}


@shared_task(name="tasks.pipeline.activate")
def activate(version_id: int) -> dict:
    """Activate a ready version (the admin action runs the same service synchronously)."""
    version = selectors.model_version(version_id)
    if version is None:
        return {"version": version_id, "state": None}
    version = services.activate(version=version)
    return {"version": version.pk, "state": version.state}
