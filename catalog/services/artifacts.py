"""Model artifacts in the database (``Artifact``, keyed by sha256): stored when a training
finishes, released when no version names them any more, and the one-time conversion of artifacts
written before weights-only artifacts."""
from __future__ import annotations

import hashlib
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from django.db import connection, transaction

from catalog.models import Artifact, ModelVersion
from ml import artifacts


def artifact_store(path: str | Path) -> str:
    """Store the file at ``path`` (unless its bytes are stored already) and return its sha256.
    Call it inside the transaction that names the artifact, so that neither exists without the
    other."""
    data = Path(path).read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO catalog_artifact (sha256, data, size, created_at) VALUES (%s, %s, %s, now()) "
                       "ON CONFLICT (sha256) DO NOTHING", [digest, data, len(data)])
    return digest


def artifact_release(sha256: str) -> bool:
    """Delete the stored artifact if no model version names it; whether it was deleted."""
    if not sha256 or ModelVersion.objects.filter(artifact=sha256).exists():
        return False
    return Artifact.objects.filter(sha256=sha256).delete()[0] > 0


@dataclass
class ConversionReport:
    converted: list[str] = field(default_factory=list)  # "v<id>" of each version whose artifact was rewritten
    current: list[str] = field(default_factory=list)  # already weights-only
    missing: list[str] = field(default_factory=list)  # the version names an artifact that is not stored
    failed: list[str] = field(default_factory=list)  # "v<id>: reason"


def artifacts_convert() -> ConversionReport:
    """Rewrite every model version's artifact that an older Doppel wrote (a pickled dict) in the
    weights-only format: the converted bytes are stored as a new artifact, the version names it and
    the old one is released, in one transaction per version. It unpickles those artifacts once:
    they must be ones this installation wrote."""
    report = ConversionReport()
    for version in ModelVersion.objects.exclude(artifact="").order_by("pk"):
        name = f"v{version.pk}"
        stored = Artifact.objects.filter(sha256=version.artifact).values_list("data", flat=True).first()
        if stored is None:
            report.missing.append(name)
            continue
        try:
            with tempfile.TemporaryDirectory() as folder:
                path = Path(folder) / "artifact.pt"
                path.write_bytes(bytes(stored))
                if not artifacts.convert_legacy(path):
                    report.current.append(name)
                    continue
                with transaction.atomic():
                    old, version.artifact = version.artifact, artifact_store(path)
                    version.save(update_fields=["artifact"])
                    artifact_release(old)
                report.converted.append(name)
        except Exception as error:  # one unreadable artifact must not stop the others; each is reported
            report.failed.append(f"{name}: {type(error).__name__}: {error}")
    return report
