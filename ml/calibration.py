"""Calibrated probabilities for a two-class score: temperature scaling, expected calibration error
and the reliability diagram's points.

A classifier's logit gap d = l₁ − l₀ (its softmax P = σ(d)) is rescaled to P = σ(d / T), with T > 0
fitted on the validation split by minimising the negative log-likelihood (Guo et al. 2017). T = 1 is
the raw score; T > 1 softens an overconfident model. Ranking (and so ROC AUC) is unchanged.
"""
from __future__ import annotations

import numpy as np

BINS = 10


def sigmoid(values: np.ndarray) -> np.ndarray:
    values = np.asarray(values, np.float64)
    return np.exp(-np.logaddexp(0.0, -values))


def _nll(gap: np.ndarray, labels: np.ndarray, temperature: float) -> float:
    scaled = gap / temperature
    return float(np.mean(np.logaddexp(0.0, scaled) - labels * scaled))  # −log σ(±d/T)


def fit_temperature(gap: np.ndarray, labels: np.ndarray) -> float:
    """T minimising the NLL of labels (N,) 0/1 under σ(gap / T), gap (N,) logit gaps. Searched on
    log T in [1/50, 50]: a coarse grid, then golden-section refinement. 1.0 for fewer than 2 classes."""
    gap, labels = np.asarray(gap, np.float64), np.asarray(labels, np.float64)
    if len(gap) == 0 or len(np.unique(labels)) < 2:
        return 1.0
    grid = np.linspace(np.log(1 / 50), np.log(50), 61)
    losses = [_nll(gap, labels, np.exp(t)) for t in grid]
    k = int(np.argmin(losses))
    low, high = grid[max(k - 1, 0)], grid[min(k + 1, len(grid) - 1)]
    ratio = (np.sqrt(5) - 1) / 2
    for _ in range(40):
        a, b = high - ratio * (high - low), low + ratio * (high - low)
        if _nll(gap, labels, np.exp(a)) < _nll(gap, labels, np.exp(b)):
            high = b
        else:
            low = a
    return float(np.exp((low + high) / 2))


def reliability(labels: np.ndarray, probability: np.ndarray, bins: int = BINS) -> list[dict]:
    """Equal-width bins of predicted P(1): for each non-empty one, its range, the mean prediction,
    the observed fraction of class 1 and the count (the points of a reliability diagram)."""
    labels, probability = np.asarray(labels, np.float64), np.asarray(probability, np.float64)
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(probability, edges[1:-1]), 0, bins - 1)
    rows = []
    for b in range(bins):
        inside = which == b
        if inside.any():
            rows.append({"low": float(edges[b]), "high": float(edges[b + 1]), "predicted": float(probability[inside].mean()),
                         "observed": float(labels[inside].mean()), "count": int(inside.sum())})
    return rows


def expected_calibration_error(labels: np.ndarray, probability: np.ndarray, bins: int = BINS) -> float:
    """Σ_bins (count / N) · |observed − predicted| over equal-width bins of P(1)."""
    rows = reliability(labels, probability, bins)
    total = sum(row["count"] for row in rows)
    return float(sum(row["count"] * abs(row["observed"] - row["predicted"]) for row in rows) / max(total, 1))
