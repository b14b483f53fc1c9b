"""The one cache of model artifacts, for the web processes and the workers alike.

A version names its artifact by sha256; the bytes live in the database (``Artifact``). Each host
keeps a local copy per hash under ``$DOPPEL_ARTIFACTS/blobs/`` (fetched once, checked against its
hash, written atomically), and each process keeps the last few models loaded. An artifact is
immutable, so neither cache is ever stale: nothing but the database is shared between hosts.
"""
from __future__ import annotations

import functools
import hashlib
from pathlib import Path

from django.conf import settings

from catalog import selectors
from ml.files import write_atomically


class ArtifactMissing(LookupError):
    """The version names an artifact that is not stored (or was stored damaged)."""


def cache_folder(artifact_root: str | Path | None = None) -> Path:
    """This host's copies of stored artifacts: ``<artifact_root>/blobs`` (default $DOPPEL_ARTIFACTS)."""
    return Path(artifact_root or settings.ARTIFACT_ROOT) / "blobs"


def artifact_path(sha256: str) -> Path:
    """The local copy of the artifact with this sha256, fetched from the database on first use."""
    path = cache_folder() / f"{sha256}.pt"
    if path.is_file():
        return path
    data = selectors.artifact_bytes(sha256)
    if data is None:
        raise ArtifactMissing(f"artifact {sha256[:12]} is not stored in the database")
    if hashlib.sha256(data).hexdigest() != sha256:
        raise ArtifactMissing(f"artifact {sha256[:12]} is damaged: its bytes do not match their hash")
    return write_atomically(path, lambda temporary: temporary.write_bytes(data))


@functools.lru_cache(maxsize=4)
def disentangler(artifact: str, device: str = "cpu"):
    """The ``ml.disentangler.TrainedDisentangler`` of the artifact with this sha256 (kept epoch)."""
    from ml.disentangler import TrainedDisentangler

    return TrainedDisentangler.load(artifact_path(artifact), device=device)


@functools.lru_cache(maxsize=4)
def bhb_scorer(artifact: str, device: str = "cpu"):
    """The ``ml.workflows.BHBScorer`` of the BATMM artifact with this sha256."""
    from ml.workflows import BHBScorer

    return BHBScorer(artifact_path(artifact), device=device)
