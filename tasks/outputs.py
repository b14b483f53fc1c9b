"""Filling a version's outputs: latents for every embeddable spectrum, BHB scores for every star
with both modalities, then the per-version index and the t-SNE latent map.

``fill_embeddings`` / ``score_bhb`` split the work into id ranges of ``DOPPEL_FILL_CHUNK`` rows
and replace themselves with a chord: one chunk task per range (any number of workers share them),
then ``finish_outputs``. Chunks are idempotent (each batch replaces its id range in one
transaction) and skip ranges that are already complete.
"""
from __future__ import annotations

import functools
import queue
import threading
import time

import numpy as np
from celery import chord, group, shared_task
from celery.exceptions import Ignore
from django.conf import settings

from catalog import selectors, services
from catalog.models import Embedding, ModelVersion

State = ModelVersion.State
_DONE = (State.READY, State.ACTIVE, State.ARCHIVED)


@functools.lru_cache(maxsize=2)
def _disentangler(artifact: str):
    from ml.disentangle import DisentanglerTrainer

    return DisentanglerTrainer.load(artifact, device="auto")


@functools.lru_cache(maxsize=2)
def _scorer(artifact: str):
    from ml.workflows import BHBScorer

    return BHBScorer(artifact, device="auto")


def _filling(version_id: int) -> ModelVersion | None:
    """The version if it is filling; None if already done (the chain goes on); Ignore otherwise."""
    version = ModelVersion.objects.filter(pk=version_id).first()
    if version is None or version.state in (State.FAILED, State.CANCELLED, State.QUEUED, State.TRAINING):
        raise Ignore()
    return version if version.state == State.FILLING else None


def _dispatch(task, version: ModelVersion, ranges: list[tuple[int, int]], chunk_task) -> dict:
    services.run_phase(run=version.latest_run, phase="filling", log=f"filling in {len(ranges)} chunk(s)", progress=0.0)
    if not ranges:
        return finish_outputs(version.pk)
    header = group(chunk_task.si(version.pk, lo, hi) for lo, hi in ranges)
    raise task.replace(chord(header, finish_outputs.si(version.pk)))


@shared_task(bind=True, name="tasks.outputs.fill_embeddings")
def fill_embeddings(self, version_id: int) -> dict:
    """Encode every embeddable spectrum of the version's survey (a chord of chunk tasks)."""
    version = _filling(version_id)
    if version is None:
        return {"version": version_id, "skipped": "already filled"}
    return _dispatch(self, version, selectors.embeddable_ranges(version.config, settings.FILL_CHUNK), fill_embeddings_chunk)


def _read_ahead(batches, depth: int = 2):
    """Iterate ``batches`` in a background thread, ``depth`` batches ahead: reading the next
    spectra from PostgreSQL overlaps with encoding and writing the current ones (torch and the
    socket both release the GIL). The thread uses, then closes, its own database connection."""
    from django.db import connection, connections

    if connection.in_atomic_block:  # another connection could not see this transaction's rows
        yield from batches
        return
    buffer: queue.Queue = queue.Queue(maxsize=depth)
    end = object()

    def produce():
        try:
            for item in batches:
                buffer.put(item)
            buffer.put(end)
        except BaseException as error:  # handed to the consumer, raised there
            buffer.put(error)
        finally:
            connections.close_all()

    thread = threading.Thread(target=produce, daemon=True)
    thread.start()
    while True:
        item = buffer.get()
        if item is end:
            break
        if isinstance(item, BaseException):
            raise item
        yield item
    thread.join()


def encode_range(version: ModelVersion, lo: int, hi: int, batch: int = 4096, task=None) -> int:
    """Encode and write the embeddable spectra with id in [lo, hi]; returns how many. Progress
    (the fraction of the version's spectra embedded) goes to the run and the task state."""
    trainer = _disentangler(version.artifact)
    total = selectors.embeddable_count(version.config)
    written, next_lo = 0, lo
    for ids, flux, parameters, teff_logg in _read_ahead(selectors.embeddable_spectra(version.config, lo, hi, batch=batch)):
        latents = trainer.encode_raw(flux, parameters, batch_size=batch)
        batch_hi = hi if len(ids) < batch else int(ids[-1])
        count = services.embeddings_write(version=version, lo=next_lo, hi=batch_hi, spectrum_ids=ids, latents=latents,
                                          teff=teff_logg[:, 0], logg=teff_logg[:, 1])
        written += count
        next_lo = batch_hi + 1
        services.run_fill_progress(version=version, written=count, total=total)
        if task is not None and task.request.id:
            task.update_state(state="PROGRESS", meta={"version": version.pk, "range": [lo, hi], "written": written})
    return written


@shared_task(bind=True, name="tasks.outputs.fill_embeddings_chunk")
def fill_embeddings_chunk(self, version_id: int, lo: int, hi: int) -> dict:
    version = _filling(version_id)
    if version is None or selectors.embeddings_complete(version, lo, hi):
        return {"version": version_id, "range": [lo, hi], "written": 0}
    started = time.perf_counter()
    written = encode_range(version, lo, hi, task=self)
    return {"version": version_id, "range": [lo, hi], "written": written, "seconds": time.perf_counter() - started}


@shared_task(bind=True, name="tasks.outputs.score_bhb")
def score_bhb(self, version_id: int) -> dict:
    """Score every star with an SDSS spectrum and an image (a chord of chunk tasks)."""
    version = _filling(version_id)
    if version is None:
        return {"version": version_id, "skipped": "already scored"}
    return _dispatch(self, version, selectors.bhb_star_ranges(settings.FILL_CHUNK), score_bhb_chunk)


def score_range(version: ModelVersion, lo: int, hi: int) -> int:
    scorer = _scorer(version.artifact)
    star_ids, spectra, images, _ = selectors.bhb_inputs(lo=lo, hi=hi)
    scores = scorer.score(spectra, images)
    written = services.bhb_scores_write(version=version, lo=lo, hi=hi, star_ids=star_ids, scores=scores)
    services.run_fill_progress(version=version, written=written, total=selectors.bhb_eligible_count())
    return written


@shared_task(bind=True, name="tasks.outputs.score_bhb_chunk")
def score_bhb_chunk(self, version_id: int, lo: int, hi: int) -> dict:
    version = _filling(version_id)
    if version is None:
        return {"version": version_id, "range": [lo, hi], "written": 0}
    return {"version": version_id, "range": [lo, hi], "written": score_range(version, lo, hi)}


@shared_task(bind=True, name="tasks.outputs.finish_outputs")
def finish_outputs(self, version_id: int, *_chunk_results) -> dict:
    """Fill what is still missing (rows that arrived during the fill), build the index, and move
    the version to ready. Fails the version with the counts if it still is incomplete."""
    version = _filling(version_id)
    if version is None:
        return {"version": version_id, "skipped": "already ready"}
    try:
        if version.kind == ModelVersion.Kind.DISENTANGLER:
            for lo, hi in selectors.embeddable_ranges(version.config, settings.FILL_CHUNK):
                if not selectors.embeddings_complete(version, lo, hi):
                    encode_range(version, lo, hi)
            services.run_phase(run=version.latest_run, phase="indexing", log="building the HNSW index")
            started = time.perf_counter()
            services.embedding_index_build(version=version)
            services.run_note(version=version, message=f"index {version.index_name} built in {time.perf_counter() - started:.1f} s")
        else:
            progress = selectors.version_progress(version)
            if not progress["complete"]:
                for lo, hi in selectors.bhb_star_ranges(settings.FILL_CHUNK):
                    score_range(version, lo, hi)
        if not services.version_complete_fill(version=version):
            version.refresh_from_db()
            if version.state != State.FILLING:
                raise Ignore()
            progress = selectors.version_progress(version)
            raise RuntimeError(f"fill incomplete: {progress['done']} of {progress['total']} {progress['unit']}")
    except Ignore:
        raise
    except Exception as error:
        from tasks.runs import readable_error

        services.version_fail(version_id=version_id, error=readable_error(error))
        raise
    return {"version": version_id, **selectors.version_progress(version)}


@shared_task(bind=True, name="tasks.outputs.build_latent_map")
def build_latent_map(self, version_id: int) -> dict:
    """t-SNE of a sample of the version's latents and of the same raw spectra (PCA-50 first)."""
    from ml.evaluate import pca_features, tsne_map

    version = ModelVersion.objects.filter(pk=version_id).first()
    if version is None or version.kind != ModelVersion.Kind.DISENTANGLER or version.state not in _DONE:
        return {"version": version_id, "skipped": "no map for this version"}
    sample = int(version.config.get("evaluation", {}).get("map_sample", 3000))
    rows = list(Embedding.objects.filter(model_version=version).order_by("?").values_list("spectrum_id", "vector")[:sample])
    if len(rows) < 10:
        return {"version": version_id, "skipped": "too few embeddings"}
    rows.sort()
    started = time.perf_counter()
    ids = np.array([r[0] for r in rows])
    latents = np.stack([np.asarray(r[1], np.float32) for r in rows])
    flux = selectors.spectra_flux(ids)
    _, raw = pca_features(flux, flux, n_components=min(50, len(ids) - 1))
    services.latent_map_store(version=version, spectrum_ids=ids, latent_xy=tsne_map(latents), raw_xy=tsne_map(raw),
                              seconds=time.perf_counter() - started)
    return {"version": version_id, "points": len(ids)}
