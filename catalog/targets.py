"""The quality targets a disentangler version is judged against, read from its metrics, so an
operator sees at once whether a retrained model disentangles (the models page)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable


@dataclass
class Check:
    label: str  # what is measured, in words
    value: float | None  # None: not measured for this version
    target: str  # the target, in words
    passed: bool | None  # None when not measured


def _r2(name: str) -> Callable[[dict], float | None]:
    return lambda metrics: (metrics.get("r2_latent") or {}).get(name)


DISENTANGLER_TARGETS = [
    ("Teff R² from z (test stars)", _r2("teff"), "≤ 0.2", lambda v: v <= 0.2),
    ("logg R² from z (test stars)", _r2("logg"), "≤ 0.2", lambda v: v <= 0.2),
    ("far-twin AUC", lambda m: m.get("far_auc"), "≥ 0.95", lambda v: v >= 0.95),
    ("far recall@10, fraction of the supervised ceiling", lambda m: m.get("far_recall_at_10_of_ceiling"), "≥ 0.5",
     lambda v: v >= 0.5),
]


def disentangler_checks(metrics: dict | None) -> list[Check]:
    """One Check per target; unmeasured ones (older versions, sets without groups) are marked so."""
    checks = []
    for label, read, target, passes in DISENTANGLER_TARGETS:
        value = read(metrics or {})
        checks.append(Check(label=label, value=value, target=target, passed=None if value is None else bool(passes(value))))
    return checks
