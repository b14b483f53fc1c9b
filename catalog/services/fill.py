"""Filling a version's outputs: latents for every embeddable spectrum, BHB scores for every star
with both modalities, the per-version index, and the t-SNE latent map.

Work is split into id ranges (``catalog.selectors.embeddable_ranges`` / ``bhb_star_ranges``,
numbered by the server in one query; each range's task is told the fill's total for its progress,
so nothing is counted per range); each range is idempotent (each batch replaces its id range in one transaction), so any number of workers
can share them and a redelivered range does no harm. The Celery orchestration is in ``tasks.outputs``.
"""
from __future__ import annotations

import queue
import threading
import time
from typing import Callable

import numpy as np
from django.db import connection, connections

from catalog import loaded_models, selectors
from catalog.models import ModelVersion
from catalog.services.outputs import bhb_scores_write, embedding_index_build, embeddings_write
from catalog.services.registry import latent_map_store, run_fill_progress, run_note, run_phase, version_complete_fill

WORKER_DEVICE = "auto"  # workers use a GPU when they have one


class FillIncomplete(RuntimeError):
    """A version's outputs are still missing rows after every range was filled."""


def _read_ahead(batches, depth: int = 2):
    """Iterate ``batches`` in a background thread, ``depth`` batches ahead: reading the next
    spectra from PostgreSQL overlaps with encoding and writing the current ones (torch and the
    socket both release the GIL). The thread uses, then closes, its own database connection."""
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


def embeddings_fill_range(*, version: ModelVersion, lo: int, hi: int, total: int, batch: int = 4096,
                          on_batch: Callable[[int], None] | None = None) -> int:
    """Encode and write the embeddable spectra with id in [lo, hi]; returns how many. Progress (the
    fraction of the ``total`` spectra of the fill) goes to the run; ``on_batch(written so far)``."""
    model = loaded_models.disentangler(version.artifact, WORKER_DEVICE)
    written, next_lo = 0, lo
    for ids, flux, parameters, teff_logg in _read_ahead(selectors.embeddable_spectra(version.config, lo, hi, batch=batch)):
        latents = model.encode_raw(flux, parameters, batch_size=batch)
        batch_hi = hi if len(ids) < batch else int(ids[-1])
        count = embeddings_write(version=version, lo=next_lo, hi=batch_hi, spectrum_ids=ids, latents=latents,
                                 teff=teff_logg[:, 0], logg=teff_logg[:, 1])
        written += count
        next_lo = batch_hi + 1
        run_fill_progress(version=version, written=count, total=total)
        if on_batch:
            on_batch(written)
    return written


def bhb_scores_fill_range(*, version: ModelVersion, lo: int, hi: int, total: int) -> int:
    """Score and write the stars with id in [lo, hi] that have both modalities; returns how many.
    Progress (the fraction of the ``total`` stars of the scoring) goes to the run."""
    scorer = loaded_models.bhb_scorer(version.artifact, WORKER_DEVICE)
    star_ids, spectra, images, _ = selectors.bhb_inputs(lo=lo, hi=hi)
    written = bhb_scores_write(version=version, lo=lo, hi=hi, star_ids=star_ids, scores=scorer.score(spectra, images))
    run_fill_progress(version=version, written=written, total=total)
    return written


def outputs_complete(*, version: ModelVersion, chunk: int) -> bool:
    """Fill what is still missing (rows that arrived during the fill), build the index, and move the
    version to ready. False when the version left the filling state meanwhile (cancelled);
    FillIncomplete when rows are still missing."""
    if version.kind == ModelVersion.Kind.DISENTANGLER:
        missing = selectors.unembedded_ranges(version, chunk)
        for lo, hi in missing:
            embeddings_fill_range(version=version, lo=lo, hi=hi, total=missing.total)
        run_phase(run=version.latest_run, phase="indexing", log="building the HNSW index")
        started = time.perf_counter()
        embedding_index_build(version=version)
        run_note(version=version, message=f"index {version.index_name} built in {time.perf_counter() - started:.1f} s")
        nearest_neighbour_scale_store(version=version)
    elif not selectors.version_progress(version)["complete"]:
        ranges = selectors.bhb_star_ranges(chunk)
        for lo, hi in ranges:
            bhb_scores_fill_range(version=version, lo=lo, hi=hi, total=ranges.total)
    if version_complete_fill(version=version):
        return True
    version.refresh_from_db()
    if version.state != ModelVersion.State.FILLING:
        return False
    progress = selectors.version_progress(version)
    raise FillIncomplete(f"fill incomplete: {progress['done']} of {progress['total']} {progress['unit']}")


def nearest_neighbour_scale_store(*, version: ModelVersion, sample: int = 2000) -> float | None:
    """Store the 99th percentile of the catalog's own nearest-neighbour distances in z on the
    version (``metrics["nn_distance_p99"]``): a query whose nearest star is farther is unlike
    anything in the catalog. None (nothing stored) with fewer than 10 latents."""
    distances = selectors.nearest_neighbour_distances(version=version, sample=sample)
    if len(distances) < 10:
        return None
    p99 = float(np.percentile(distances, 99))
    ModelVersion.objects.filter(pk=version.pk).update(metrics={**(version.metrics or {}), "nn_distance_p99": p99})
    version.metrics = {**(version.metrics or {}), "nn_distance_p99": p99}
    return p99


def latent_map_build(*, version: ModelVersion) -> int:
    """t-SNE of a sample of the version's latents and of the same raw spectra (PCA-50 first);
    returns how many points (0 when there are too few embeddings to draw)."""
    from ml.evaluate import pca_features, tsne_map

    sample = int(version.config.get("evaluation", {}).get("map_sample", 3000))
    ids, latents = selectors.latent_sample(version, sample)
    if len(ids) < 10:
        return 0
    started = time.perf_counter()
    flux = selectors.spectra_flux(ids)
    _, raw = pca_features(flux, flux, n_components=min(50, len(ids) - 1))
    latent_map_store(version=version, spectrum_ids=ids, latent_xy=tsne_map(latents), raw_xy=tsne_map(raw),
                     seconds=time.perf_counter() - started)
    return len(ids)
