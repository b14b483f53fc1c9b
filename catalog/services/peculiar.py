"""Writes for peculiar stars and chemical groups: score every latent of a disentangler version
(``ml.peculiar``) and group them (``ml.groups``)."""
from __future__ import annotations

import numpy as np
from django.db import connection, transaction

from catalog.bulk_copy import copy_rows
from catalog.models import ModelVersion
from catalog.selectors.peculiar import version_latents
from catalog.services.outputs import finite_or_none

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
    _replace(version, "catalog_peculiarity", ["score", "spread"], ["float8", "float8"],
             ((int(s), int(st), float(sc), float(sp), finite_or_none(t), finite_or_none(g))
              for s, st, sc, sp, t, g in zip(latents.spectrum_ids, latents.star_ids, scores, spread,
                                            latents.teff, latents.logg)))
    return n


def _replace(version: ModelVersion, table: str, columns: list[str], types: list[str], rows) -> None:
    """Replace the version's rows of ``table`` (its partition) in one transaction. ``rows``:
    (spectrum id, star id, *columns, teff, logg) tuples."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE model_version_id = %s", [version.pk])
        copy_rows(cursor.cursor, table, ["model_version_id", "spectrum_id", "star_id", *columns, "teff", "logg"],
                  ["int8", "int8", "int8", *types, "float8", "float8"], ((version.pk, *row) for row in rows))


GROUP_MIN_SIZE = 20  # HDBSCAN's min_cluster_size: the smallest group worth naming
GROUP_LIMIT = 200_000  # latents grouped at most (HDBSCAN's memory and time on 2 cores)


def groups_fill(*, version: ModelVersion, min_cluster_size: int = GROUP_MIN_SIZE) -> int:
    """HDBSCAN groups of the version's latents, numbered by size (0 the largest), replacing earlier
    ones in one transaction; the number of groups."""
    from ml.groups import chemical_groups

    latents = version_latents(version)
    if len(latents.spectrum_ids) > GROUP_LIMIT:
        raise TooManyLatents(f"{len(latents.spectrum_ids):,} latents: grouping takes at most {GROUP_LIMIT:,}")
    groups = chemical_groups(latents.latents, min_cluster_size=min_cluster_size)
    found, sizes = np.unique(groups.labels[groups.labels >= 0], return_counts=True)
    renumber = {int(label): number for number, label in enumerate(found[np.argsort(-sizes, kind="stable")])}
    members = np.flatnonzero(groups.labels >= 0)
    _replace(version, "catalog_groupmember", ['"group"', "probability"], ["int4", "float8"],
             ((int(latents.spectrum_ids[i]), int(latents.star_ids[i]), renumber[int(groups.labels[i])],
               float(groups.probabilities[i]), finite_or_none(latents.teff[i]), finite_or_none(latents.logg[i]))
              for i in members))
    return len(found)
