"""Reads about model versions: the active one, completeness of a fill, training curves, stored artifacts."""
from __future__ import annotations

import numpy as np
from django.db import connection

from catalog import partitions
from catalog.bulk_copy import read_rows
from catalog.models import Artifact, BHBScore, Embedding, ModelVersion


def active_version(kind: str) -> ModelVersion | None:
    """The active version of ``kind``; its latent map (up to a few MB of JSON) is read only when
    used."""
    return ModelVersion.objects.defer("latent_map").filter(kind=kind, state=ModelVersion.State.ACTIVE).first()


def model_versions(kind: str | None = None):
    versions = ModelVersion.objects.select_related("created_by").order_by("-created_at")
    return versions.filter(kind=kind) if kind else versions


def index_is_valid(name: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT i.indisvalid FROM pg_class c JOIN pg_index i ON i.indexrelid = c.oid WHERE c.relname = %s",
                       [name])
        row = cursor.fetchone()
    return bool(row and row[0])


def version_progress(version: ModelVersion) -> dict:
    """{done, total, unit, indexed, complete}: embeddings against embeddable spectra (disentangler)
    or scores against stars with both modalities (BHB)."""
    from catalog.selectors.datasets import bhb_eligible_count, embeddable_count

    if version.kind == ModelVersion.Kind.DISENTANGLER:
        done = Embedding.objects.filter(model_version=version).count()
        config = version.config
        known = all(key in config for key in ("survey", "label_source", "conditional"))
        total = embeddable_count(config) if known else 0  # a config without a selection has nothing to fill
        indexed = index_is_valid(version.index_name)
        unit = "spectra"
    else:
        done = BHBScore.objects.filter(model_version=version).count()
        total, indexed, unit = bhb_eligible_count(), True, "stars"
    return {"done": done, "total": total, "unit": unit, "indexed": indexed,
            "complete": done == total and total > 0 and indexed}


def loss_curves(version: ModelVersion) -> list[dict]:
    """The latest run's per-epoch records ([{epoch, train_reconstruction, val_reconstruction, …}])."""
    run = version.latest_run
    return list(run.loss_history) if run else []


def model_version(version_id: int) -> ModelVersion | None:
    """The version with this id, or None."""
    return ModelVersion.objects.filter(pk=version_id).first()


def artifact_bytes(sha256: str) -> bytes | None:
    """The stored artifact with this sha256, or None."""
    data = Artifact.objects.filter(sha256=sha256).values_list("data", flat=True).first()
    return None if data is None else bytes(data)


def latent_sample(version: ModelVersion, n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """About ``n`` (at most n) of the version's latents drawn at random, reproducibly: (spectrum ids
    (m,) int64 ascending, latents (m, 25) float32). A Bernoulli sample of the version's partition,
    sized from the planner's row estimate, so no sort over the version's rows."""
    table = partitions.partition_name(partitions.EMBEDDINGS, version.pk)
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = to_regclass(%s)", [table])
        row = cursor.fetchone()
        if row is None:
            return np.zeros(0, np.int64), np.zeros((0, 25), np.float32)
        estimate = row[0]
        if estimate <= 0:  # never analysed
            cursor.execute(f"SELECT count(*) FROM {table}")
            estimate = cursor.fetchone()[0]
        percent = min(100.0, 100.0 * 1.5 * n / max(estimate, 1))
        rows: list = []
        read_rows(cursor.cursor, f"SELECT spectrum_id, vector FROM {table} TABLESAMPLE BERNOULLI ({percent:.6f}) "
                                 f"REPEATABLE ({int(seed)})", ["int8", "vector"], rows.append)
    if len(rows) > n:
        keep = np.random.default_rng(seed).choice(len(rows), n, replace=False)
        rows = [rows[k] for k in keep]
    rows.sort(key=lambda r: r[0])
    return (np.array([r[0] for r in rows], np.int64),
            np.stack([r[1] for r in rows]).astype(np.float32) if rows else np.zeros((0, 25), np.float32))
