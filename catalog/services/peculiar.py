"""Writes for peculiar stars: score every latent of a disentangler version (``ml.peculiar``)."""
from __future__ import annotations

import numpy as np
from django.db import connection, transaction

from catalog.bulk_copy import copy_rows
from catalog.models import ModelVersion
from catalog.selectors.peculiar import version_latents

NEIGHBOURS = 20  # k of the score
EXACT_LIMIT = 300_000  # latents scored with the exact search (O(n²): about 10 minutes at the limit on 2 cores)


class TooManyLatents(ValueError):
    """More latents than the exact search scores in a task's time."""


def peculiarity_fill(*, version: ModelVersion, k: int = NEIGHBOURS) -> int:
    """Score every latent of the version and store the scores (replacing earlier ones) in one
    transaction; the count. Fewer than k + 1 latents: nothing to compare, nothing stored."""
    from ml.peculiar import nearest_neighbours, peculiarity

    latents = version_latents(version)
    n = len(latents.spectrum_ids)
    if n > EXACT_LIMIT:
        raise TooManyLatents(f"{n:,} latents: the exact neighbour search scores at most {EXACT_LIMIT:,}")
    if n <= k:
        return 0
    distances, indices = nearest_neighbours(latents.latents, k)
    scores = peculiarity(distances, indices)
    spread = distances.mean(axis=1)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM catalog_peculiarity WHERE model_version_id = %s", [version.pk])
        copy_rows(cursor.cursor, "catalog_peculiarity",
                  ["model_version_id", "spectrum_id", "star_id", "score", "spread", "teff", "logg"],
                  ["int8", "int8", "int8", "float8", "float8", "float8", "float8"],
                  ((version.pk, int(s), int(st), float(sc), float(sp), _number(t), _number(g))
                   for s, st, sc, sp, t, g in zip(latents.spectrum_ids, latents.star_ids, scores, spread,
                                                 latents.teff, latents.logg)))
    return n


def _number(value: float) -> float | None:
    return None if not np.isfinite(value) else float(value)
