"""Filling a version's outputs with Celery (the work itself is ``catalog.services.fill``).

``fill_embeddings`` / ``score_bhb`` split the work into id ranges of ``DOPPEL_FILL_CHUNK`` rows and
replace themselves with a chord: one chunk task per range (any number of workers share them), then
``finish_outputs``. Chunks are idempotent and skip ranges that are already complete. A chunk that
fails notes why on the run and returns instead of raising: a raised error would stop the chord, so
``finish_outputs`` would never run and the version would stay filling. ``finish_outputs`` fills
what such a chunk left, and fails the version where that fails again.
"""
from __future__ import annotations

import logging
import time

from celery import chord, group, shared_task
from celery.exceptions import Ignore
from django.conf import settings

from catalog import selectors, services
from catalog.models import ModelVersion

State = ModelVersion.State
_DONE = (State.READY, State.ACTIVE, State.ARCHIVED)
log = logging.getLogger(__name__)


def _filling(version_id: int) -> ModelVersion | None:
    """The version if it is filling; None if already done (the chain goes on); Ignore otherwise."""
    version = selectors.model_version(version_id)
    if version is None or version.state in (State.FAILED, State.CANCELLED, State.QUEUED, State.TRAINING):
        raise Ignore()
    return version if version.state == State.FILLING else None


def _dispatch(task, version: ModelVersion, ranges: selectors.IdRanges, chunk_task) -> dict:
    services.run_phase(run=version.latest_run, phase="filling",
                       log=f"filling {ranges.total} in {len(ranges)} chunk(s)", progress=0.0)
    if not ranges:
        return finish_outputs(version.pk)
    raise task.replace(chord(group(chunk_task.si(version.pk, lo, hi, ranges.total) for lo, hi in ranges),
                             finish_outputs.si(version.pk)))


@shared_task(bind=True, name="tasks.outputs.fill_embeddings")
def fill_embeddings(self, version_id: int) -> dict:
    """Encode every embeddable spectrum of the version's survey (a chord of chunk tasks)."""
    version = _filling(version_id)
    if version is None:
        return {"version": version_id, "skipped": "already filled"}
    return _dispatch(self, version, selectors.embeddable_ranges(version.config, settings.FILL_CHUNK), fill_embeddings_chunk)


@shared_task(bind=True, name="tasks.outputs.fill_embeddings_chunk")
def fill_embeddings_chunk(self, version_id: int, lo: int, hi: int, total: int | None = None) -> dict:
    version = _filling(version_id)
    if version is None or not selectors.embeddings_missing(version, lo, hi):
        return {"version": version_id, "range": [lo, hi], "written": 0}
    started = time.perf_counter()

    def progress(written: int) -> None:
        if self.request.id:
            self.update_state(state="PROGRESS", meta={"version": version_id, "range": [lo, hi], "written": written})

    outcome = _chunk(version, lo, hi, lambda: services.embeddings_fill_range(
        version=version, lo=lo, hi=hi, on_batch=progress, total=total or selectors.embeddable_count(version.config)))
    return {"version": version_id, "range": [lo, hi], "seconds": time.perf_counter() - started, **outcome}


@shared_task(bind=True, name="tasks.outputs.score_bhb")
def score_bhb(self, version_id: int) -> dict:
    """Score every star with an SDSS spectrum and an image (a chord of chunk tasks)."""
    version = _filling(version_id)
    if version is None:
        return {"version": version_id, "skipped": "already scored"}
    return _dispatch(self, version, selectors.bhb_star_ranges(settings.FILL_CHUNK), score_bhb_chunk)


@shared_task(bind=True, name="tasks.outputs.score_bhb_chunk")
def score_bhb_chunk(self, version_id: int, lo: int, hi: int, total: int | None = None) -> dict:
    version = _filling(version_id)
    if version is None:
        return {"version": version_id, "range": [lo, hi], "written": 0}
    return {"version": version_id, "range": [lo, hi], **_chunk(version, lo, hi, lambda: services.bhb_scores_fill_range(
        version=version, lo=lo, hi=hi, total=total or selectors.bhb_eligible_count()))}


def _chunk(version: ModelVersion, lo: int, hi: int, work) -> dict:
    """{"written": rows} from ``work()``, or {"written": 0, "error": why} where it raised (noted on
    the run and logged; ``finish_outputs`` fills the range again)."""
    try:
        return {"written": work()}
    except Exception as error:
        from tasks.runs import readable_error

        log.exception("version %s: chunk %s–%s failed; finishing will fill it again", version.pk, lo, hi)
        reason = readable_error(error).split("\n", 1)[0]
        services.run_note(version=version, message=f"chunk {lo}–{hi} failed ({reason}); finishing fills it again")
        return {"written": 0, "error": reason}


@shared_task(bind=True, name="tasks.outputs.finish_outputs")
def finish_outputs(self, version_id: int, *_chunk_results) -> dict:
    """Fill what is still missing, build the index, move the version to ready (or fail it)."""
    version = _filling(version_id)
    if version is None:
        return {"version": version_id, "skipped": "already ready"}
    try:
        if not services.outputs_complete(version=version, chunk=settings.FILL_CHUNK):
            raise Ignore()  # cancelled meanwhile
    except Ignore:
        raise
    except Exception as error:
        from tasks.runs import readable_error

        services.version_fail(version_id=version_id, error=readable_error(error))
        raise
    return {"version": version_id, **selectors.version_progress(version)}


@shared_task(bind=True, name="tasks.outputs.build_latent_map")
def build_latent_map(self, version_id: int) -> dict:
    """t-SNE maps of the version's latents and of the same raw spectra."""
    version = selectors.model_version(version_id)
    if version is None or version.kind != ModelVersion.Kind.DISENTANGLER or version.state not in _DONE:
        return {"version": version_id, "skipped": "no map for this version"}
    points = services.latent_map_build(version=version)
    return {"version": version_id, "points": points} if points else {"version": version_id, "skipped": "too few embeddings"}


@shared_task(bind=True, name="tasks.outputs.score_peculiarity")
def score_peculiarity(self, version_id: int) -> dict:
    """Peculiarity scores (from every spectrum's decoder residual) and chemical groups (of the
    latents) of a filled disentangler, before it can be activated, so both switch with it."""
    version = selectors.model_version(version_id)
    if version is None or version.kind != ModelVersion.Kind.DISENTANGLER or version.state not in _DONE:
        return {"version": version_id, "skipped": "no peculiarity for this version"}

    def progress(done: int, of: int) -> None:
        if self.request.id:
            self.update_state(state="PROGRESS", meta={"version": version_id, "residuals": done, "of": of})

    result = {"version": version_id}
    for name, fill in (("scored", lambda **kw: services.peculiarity_fill(**kw, on_progress=progress)),
                       ("groups", services.groups_fill)):
        try:
            result[name] = fill(version=version)
        except services.TooManyLatents as error:
            services.run_note(version=version, message=f"{name}: skipped, {error}")
            result[name] = None
    return result
