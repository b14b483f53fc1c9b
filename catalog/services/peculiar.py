"""Writes for peculiar stars and chemical groups: score every spectrum of a disentangler version by
its decoder residual (``ml.peculiar``) and group its latents (``ml.groups``)."""
from __future__ import annotations

from typing import Callable

import numpy as np
from django.db import connection, transaction

from catalog import loaded_models
from catalog.bulk_copy import copy_rows
from catalog.models import ModelVersion
from catalog.selectors.datasets import embeddable_spectra
from catalog.selectors.peculiar import version_latents
from catalog.services.fill import WORKER_DEVICE
from catalog.services.outputs import finite_or_none

NEIGHBOURS = 20  # k of the score
BASIS_SAMPLE = 20_000  # spectra whose residuals fit the version's residual basis (docs/research/peculiar.md)
EXACT_LIMIT = 300_000  # spectra scored with the exact search (O(n²): about 10 minutes at the limit on 2 cores)
_EVERY_ID = (0, 2**63 - 1)


class TooManyLatents(ValueError):
    """More latents than the exact search scores in a task's time."""


def peculiarity_fill(*, version: ModelVersion, k: int = NEIGHBOURS, sample: int = BASIS_SAMPLE, seed: int = 0,
                     on_progress: Callable[[int, int], None] | None = None) -> int:
    """Score every embedded spectrum of the version by how isolated its decoder residual is
    (``ml.peculiar``) and store the scores, replacing earlier ones, in one transaction; the count.

    Two passes over the spectra: the residuals of ``sample`` of them (drawn with ``seed``) fit the
    residual basis, then every residual is projected on it. ``on_progress(spectra done, of)`` after
    each batch of the second pass. Fewer than k + 1 spectra: nothing to compare, nothing stored."""
    from ml.peculiar import ResidualBasis, nearest_neighbours, peculiarity

    latents = version_latents(version)
    n = len(latents.spectrum_ids)
    if n > EXACT_LIMIT:
        raise TooManyLatents(f"{n:,} latents: the exact neighbour search scores at most {EXACT_LIMIT:,}")
    if n <= k:
        return 0
    model = loaded_models.disentangler(version.artifact, WORKER_DEVICE)
    chosen = np.sort(np.random.default_rng(seed).choice(latents.spectrum_ids, min(sample, n), replace=False))
    basis = ResidualBasis.fit(np.concatenate([
        model.residual(flux[keep], parameters[keep])
        for ids, flux, parameters, _ in embeddable_spectra(version.config, *_EVERY_ID)
        if (keep := np.isin(ids, chosen)).any()]))
    coordinates = np.full((n, basis.components.shape[0]), np.nan, np.float32)
    done = 0
    for ids, flux, parameters, _ in embeddable_spectra(version.config, *_EVERY_ID):
        at = np.searchsorted(latents.spectrum_ids, ids)
        embedded = (at < n) & (latents.spectrum_ids[np.minimum(at, n - 1)] == ids)
        coordinates[at[embedded]] = basis.project(model.residual(flux[embedded], parameters[embedded]))
        done += int(embedded.sum())
        if on_progress:
            on_progress(done, n)
    scored = np.flatnonzero(np.isfinite(coordinates).all(axis=1))  # embedded and still embeddable
    if len(scored) <= k:
        return 0
    distances, indices = nearest_neighbours(coordinates[scored], k)
    scores = peculiarity(distances, indices)
    spread = distances.mean(axis=1)
    _replace(version, "catalog_peculiarity", ["score", "spread"], ["float8", "float8"],
             ((int(latents.spectrum_ids[i]), int(latents.star_ids[i]), float(sc), float(sp),
               finite_or_none(latents.teff[i]), finite_or_none(latents.logg[i]))
              for i, sc, sp in zip(scored, scores, spread)))
    return len(scored)


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
