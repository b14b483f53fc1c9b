"""Writes of model outputs: latents (Embedding, in the version's partition), BHB scores, and the
per-version HNSW index.

Both writers are idempotent per id range: the rows of the range are deleted and re-copied in one
transaction, under an advisory lock on (version, range), so a chunk re-run after a lost worker or
delivered twice leaves exactly one row per spectrum (or star).
"""
from __future__ import annotations

import time

import numpy as np
from django.db import connection, transaction

from catalog import partitions
from catalog.bulk_copy import copy_rows
from catalog.model_outputs import HNSW_EF_CONSTRUCTION, HNSW_M
from catalog.models import LATENT_DIM, ModelVersion

_CHUNK_LOCK_NAMESPACE = 7_215
_INDEX_LOCK_NAMESPACE = 7_216
INDEX_LOCK_POLL_S = 0.5  # s between tries for another build's index lock


def embeddings_write(*, version: ModelVersion, lo: int, hi: int, spectrum_ids: np.ndarray, latents: np.ndarray,
                     teff: np.ndarray | None = None, logg: np.ndarray | None = None) -> int:
    """Replace the version's embeddings of spectra with id in [lo, hi] by these; returns the count.
    spectrum_ids (n,) int64 within [lo, hi]; latents (n, 25) float32; teff, logg (n,) the
    parameters they were encoded at (K, dex; NaN or None = unknown)."""
    latents = np.asarray(latents, dtype=np.float32)
    if latents.shape != (len(spectrum_ids), LATENT_DIM) or not np.isfinite(latents).all():
        raise ValueError(f"latents must be finite, shape ({len(spectrum_ids)}, {LATENT_DIM}); got {latents.shape}")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_CHUNK_LOCK_NAMESPACE, (version.pk * 1_000_003 + lo) % 2**31])
        cursor.execute("DELETE FROM catalog_embedding WHERE model_version_id = %s AND spectrum_id BETWEEN %s AND %s",
                       [version.pk, lo, hi])
        n = len(spectrum_ids)
        teff = np.full(n, np.nan) if teff is None else np.asarray(teff, float)
        logg = np.full(n, np.nan) if logg is None else np.asarray(logg, float)
        copy_rows(cursor.cursor, "catalog_embedding", ["model_version_id", "spectrum_id", "vector", "teff", "logg"],
                  ["int8", "int8", "vector", "float8", "float8"],
                  ((version.pk, int(i), z, finite_or_none(t), finite_or_none(g)) for i, z, t, g in zip(spectrum_ids, latents, teff, logg)))
    return len(spectrum_ids)


def finite_or_none(value: float) -> float | None:
    """A float for a COPY row: None (SQL null) where it is NaN or infinite."""
    return None if not np.isfinite(value) else float(value)


def bhb_scores_write(*, version: ModelVersion, lo: int, hi: int, star_ids: np.ndarray, scores: np.ndarray) -> int:
    """Replace the version's scores of stars with id in [lo, hi]; scores (n,) in [0, 1]."""
    scores = np.clip(np.asarray(scores, dtype=np.float64), 0.0, 1.0)
    if scores.shape != (len(star_ids),) or not np.isfinite(scores).all():
        raise ValueError("scores must be finite, one per star")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_CHUNK_LOCK_NAMESPACE, (version.pk * 1_000_003 + lo) % 2**31])
        cursor.execute("DELETE FROM catalog_bhbscore WHERE model_version_id = %s AND star_id BETWEEN %s AND %s",
                       [version.pk, lo, hi])
        copy_rows(cursor.cursor, "catalog_bhbscore", ["model_version_id", "star_id", "score"], ["int8", "int8", "float8"],
                  ((version.pk, int(i), float(s)) for i, s in zip(star_ids, scores)))
    return len(star_ids)


def embedding_index_build(*, version: ModelVersion) -> None:
    """Build the HNSW index (L2, ``HNSW_M``, ``HNSW_EF_CONSTRUCTION``) of the version's partition once its
    embeddings are in. CONCURRENTLY, so searches go on; an invalid leftover of an interrupted build
    is dropped and rebuilt.

    Builds of one version take turns on an advisory lock: a task delivered twice (Celery delivers
    at least once) waits for the first build and finds the index made, instead of taking the first
    one's unfinished index for a leftover and dropping it under it (which deadlocks)."""
    name = version.index_name
    # CONCURRENTLY cannot run inside a transaction; inside one (a caller's atomic block) build it plainly.
    concurrently = "" if connection.in_atomic_block else "CONCURRENTLY "
    key = [_INDEX_LOCK_NAMESPACE, int(version.pk)]
    with connection.cursor() as cursor:
        if concurrently:
            # A session lock, polled: a statement waiting on the lock would itself be a transaction that
            # the other build's CREATE INDEX CONCURRENTLY waits for (a deadlock).
            cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", key)
            while not cursor.fetchone()[0]:
                time.sleep(INDEX_LOCK_POLL_S)
                cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", key)
        else:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", key)
        try:
            cursor.execute("SELECT i.indisvalid FROM pg_class c JOIN pg_index i ON i.indexrelid = c.oid "
                           "WHERE c.relname = %s", [name])
            row = cursor.fetchone()
            if row and row[0]:
                return
            if row:
                cursor.execute(f"DROP INDEX {concurrently}IF EXISTS {name}")
            if not concurrently:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # deferred FK checks would block CREATE INDEX
            table = partitions.partition_name(partitions.EMBEDDINGS, version.pk)
            cursor.execute(f"CREATE INDEX {concurrently}{name} ON {table} USING hnsw (vector vector_l2_ops) "
                           f"WITH (m = {HNSW_M}, ef_construction = {HNSW_EF_CONSTRUCTION})")
            cursor.execute(f"ANALYZE {table}")
        finally:
            if concurrently:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", key)


def embedding_index_drop(*, version: ModelVersion) -> None:
    concurrently = "" if connection.in_atomic_block else "CONCURRENTLY "
    with connection.cursor() as cursor:
        cursor.execute(f"DROP INDEX {concurrently}IF EXISTS {version.index_name}")
