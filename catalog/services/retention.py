"""Retention: what is kept of old model versions and of the training-snapshot cache.

Per kind, the active version, every version still in progress or ready, and the last
``DOPPEL_KEEP_ARCHIVED`` archived ones (by activation time) keep their embeddings or scores, HNSW
index and artifact, so a rollback is instant. Older archived versions become ``pruned``; they and
failed or cancelled versions lose their output rows, index, files and stored artifact (unless
another version names the same bytes); their metrics and run history stay. Each version is first
marked in a short transaction that locks it, so one that is re-activated meanwhile is never
touched, then emptied; a crash half-way is finished by the next run. Last, this host's copies of
artifacts no longer stored are removed.

The snapshot cache (``$DOPPEL_ARTIFACTS/datasets``) is held under ``DOPPEL_SNAPSHOT_CACHE_BYTES``,
evicting the least recently used snapshots first (a snapshot's ``complete`` marker is touched when
it is read).
"""
from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from django.db import connection, transaction

from catalog import loaded_models, partitions
from catalog.models import Artifact, ModelVersion
from catalog.services.artifacts import artifact_release

logger = logging.getLogger(__name__)
State = ModelVersion.State
EMPTIED = (State.PRUNED, State.FAILED, State.CANCELLED)  # states whose outputs are dropped


@dataclass
class PruneReport:
    pruned: list[int] = field(default_factory=list)  # versions whose outputs were dropped this run
    rows_deleted: int = 0
    copies_removed: int = 0  # this host's copies of artifacts no longer stored


def _has_outputs(version: ModelVersion) -> bool:
    with connection.cursor() as cursor:
        return bool(version.artifact) or bool(partitions.existing(cursor, version.kind, version.pk))


def _mark(version_id: int, keep: set[int]) -> tuple[ModelVersion, str] | None:
    """Lock the version; archived → pruned; its artifact forgotten (its sha256 returned, to release).
    None if it must be kept (e.g. re-activated meanwhile)."""
    with transaction.atomic():
        version = ModelVersion.objects.select_for_update().filter(pk=version_id).first()
        if version is None or version.pk in keep:
            return None
        if version.state == State.ARCHIVED:
            version.state = State.PRUNED
        elif version.state not in EMPTIED:
            return None
        artifact, version.artifact, version.latent_map = version.artifact, "", {}
        version.save(update_fields=["state", "artifact", "latent_map"])
    return version, artifact


def versions_prune(*, keep_archived: int, artifact_root: str | Path) -> PruneReport:
    """Drop the outputs of versions past retention (see the module docstring)."""
    report = PruneReport()
    for kind in ModelVersion.Kind.values:
        archived = list(ModelVersion.objects.filter(kind=kind, state=State.ARCHIVED)
                        .order_by("-activated_at", "-pk").values_list("pk", flat=True))
        keep = set(archived[:keep_archived])
        candidates = archived[keep_archived:] + list(
            ModelVersion.objects.filter(kind=kind, state__in=EMPTIED).order_by("pk").values_list("pk", flat=True))
        for version_id in candidates:
            version = ModelVersion.objects.get(pk=version_id)
            if version.state in EMPTIED and not _has_outputs(version) and \
                    not (Path(artifact_root) / f"v{version_id}").exists():
                continue  # already empty
            marked = _mark(version_id, keep)
            if marked is None:
                continue
            version, artifact = marked
            with connection.cursor() as cursor:  # its rows and indexes; no other version's
                deleted = partitions.drop_all(cursor, version.pk)
            shutil.rmtree(Path(artifact_root) / f"v{version.pk}", ignore_errors=True)
            if artifact:
                artifact_release(artifact)
            report.pruned.append(version.pk)
            report.rows_deleted += deleted
            logger.info("pruned %s: %d output rows, its index and files dropped", version, deleted)
    report.copies_removed = _forget_released(loaded_models.cache_folder(artifact_root))
    return report


def _forget_released(folder: Path) -> int:
    """Remove this host's copies of artifacts no longer stored; how many."""
    if not folder.is_dir():
        return 0
    stored = set(Artifact.objects.values_list("sha256", flat=True))
    removed = 0
    for copy in folder.glob("*.pt"):
        if copy.stem not in stored:
            copy.unlink(missing_ok=True)
            removed += 1
    return removed


def snapshots_prune(*, cache_root: str | Path, max_bytes: int, keep: str | None = None) -> list[str]:
    """Evict least-recently-used snapshots until the cache holds at most ``max_bytes``; returns the
    evicted fingerprints. ``keep`` (a fingerprint, e.g. the one just written) is never evicted;
    unfinished (temporary) folders are left to their writers."""
    root = Path(cache_root) / "datasets"
    if not root.exists():
        return []
    snapshots = []
    for folder in root.iterdir():
        marker = folder / "complete"
        if folder.is_dir() and marker.exists() and folder.name != keep:
            size = sum(f.stat().st_size for f in folder.iterdir() if f.is_file())
            snapshots.append((marker.stat().st_mtime, folder, size))
    kept = root / str(keep)
    total = sum(size for _, _, size in snapshots) + (
        sum(f.stat().st_size for f in kept.iterdir() if f.is_file()) if keep and kept.is_dir() else 0)
    evicted = []
    for _, folder, size in sorted(snapshots, key=lambda item: item[0]):
        if total <= max_bytes:
            break
        shutil.rmtree(folder, ignore_errors=True)
        total -= size
        evicted.append(folder.name)
        logger.info("snapshot cache: evicted %s (%.1f MB, least recently used)", folder.name, size / 1e6)
    return evicted
