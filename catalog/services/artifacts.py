"""Model artifacts on disk: the one-time conversion of files written before weights-only artifacts."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from catalog.models import ModelVersion
from ml import artifacts


@dataclass
class ConversionReport:
    converted: list[str] = field(default_factory=list)
    current: list[str] = field(default_factory=list)  # already weights-only
    missing: list[str] = field(default_factory=list)  # the version names a file that is not there
    failed: list[str] = field(default_factory=list)  # "path: reason"


def artifacts_convert() -> ConversionReport:
    """Rewrite every model version's artifact that an older Doppel wrote (a pickled dict) in the
    weights-only format, in place and atomically. It unpickles those files once: they must be the
    files this installation wrote."""
    report = ConversionReport()
    for path in ModelVersion.objects.exclude(artifact="").order_by("pk").values_list("artifact", flat=True):
        if not Path(path).exists():
            report.missing.append(path)
            continue
        try:
            (report.converted if artifacts.convert_legacy(path) else report.current).append(path)
        except Exception as error:  # one unreadable file must not stop the others; each is reported
            report.failed.append(f"{path}: {type(error).__name__}: {error}")
    return report
