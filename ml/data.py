"""Data handling shared by the models: splits, scalers fitted on the training split only, binning.

Everything here is plain NumPy with a ``state()`` / ``from_state()`` pair, so fitted transforms
travel inside model artifacts and an uploaded spectrum is transformed exactly like the training set.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def split_indices(n: int, validation: float = 0.1, test: float = 0.1, seed: int = 0) -> dict[str, np.ndarray]:
    """A random train / validation / test partition of range(n), sorted within each part."""
    if not (0 <= validation < 1 and 0 <= test < 1 and validation + test < 1):
        raise ValueError("validation and test fractions must be in [0, 1) and sum to less than 1")
    order = np.random.default_rng(seed).permutation(n)
    n_test, n_val = int(round(test * n)), int(round(validation * n))
    return {"test": np.sort(order[:n_test]), "validation": np.sort(order[n_test : n_test + n_val]),
            "train": np.sort(order[n_test + n_val :])}


@dataclass
class Standardiser:
    """(x − mean) / scale. ``per_feature=False`` uses one global scale (keeps relative pixel weights)."""

    mean: np.ndarray
    scale: np.ndarray

    @classmethod
    def fit(cls, values: np.ndarray, per_feature: bool = True, chunk: int = 4096) -> "Standardiser":
        """Mean and σ in float64, two passes over row chunks: no float64 copy of a (N, 7214) set."""
        n = len(values)
        mean = np.zeros(values.shape[1:], np.float64)
        for start in range(0, n, chunk):
            mean += np.asarray(values[start : start + chunk], np.float64).sum(axis=0)
        mean /= max(n, 1)
        squares = np.zeros_like(mean)
        for start in range(0, n, chunk):
            squares += np.square(np.asarray(values[start : start + chunk], np.float64) - mean).sum(axis=0)
        if per_feature:
            scale = np.sqrt(squares / max(n, 1))
        else:
            overall = float(mean.mean())
            total = squares.sum() + n * np.square(mean - overall).sum()
            scale = np.full(values.shape[1:], np.sqrt(total / max(n * mean.size, 1)))
        return cls(mean=mean.astype(np.float32), scale=np.where(scale > 0, scale, 1.0).astype(np.float32))

    def transform(self, values: np.ndarray) -> np.ndarray:
        return ((np.asarray(values, dtype=np.float32) - self.mean) / self.scale).astype(np.float32)

    def inverse(self, values: np.ndarray) -> np.ndarray:
        return (np.asarray(values, dtype=np.float32) * self.scale + self.mean).astype(np.float32)

    def state(self) -> dict:
        return {"mean": self.mean.tolist(), "scale": self.scale.tolist()}

    @classmethod
    def from_state(cls, state: dict) -> "Standardiser":
        return cls(mean=np.asarray(state["mean"], dtype=np.float32), scale=np.asarray(state["scale"], dtype=np.float32))


@dataclass
class Binner:
    """Bins a continuous parameter into ``n_bins`` classes: ``uniform`` (equal width over the
    training range) or ``quantile`` (equal counts). Values beyond the training range fall in the
    first or last bin."""

    edges: np.ndarray  # (n_bins - 1,) inner edges

    @classmethod
    def fit(cls, values: np.ndarray, n_bins: int = 10, mode: str = "uniform") -> "Binner":
        values = np.asarray(values, dtype=np.float64)
        if n_bins < 2:
            raise ValueError("n_bins must be at least 2")
        if mode == "uniform":
            edges = np.linspace(values.min(), values.max(), n_bins + 1)[1:-1]
        elif mode == "quantile":
            edges = np.quantile(values, np.linspace(0, 1, n_bins + 1)[1:-1])
        else:
            raise ValueError(f"binning must be 'uniform' or 'quantile', not {mode!r}")
        return cls(edges=edges)

    @property
    def n_bins(self) -> int:
        return len(self.edges) + 1

    def transform(self, values: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.edges, np.asarray(values, dtype=np.float64), side="right").astype(np.int64)

    def state(self) -> dict:
        return {"edges": self.edges.tolist()}

    @classmethod
    def from_state(cls, state: dict) -> "Binner":
        return cls(edges=np.asarray(state["edges"], dtype=np.float64))


@dataclass
class JointBins:
    """The joint bin of several parameters as one class (the AT variant). Only combinations seen in
    the training split become classes (n_bins^n_params is mostly empty for grids); a combination
    never seen in training maps to ``ignore_index`` (-100), which cross-entropy skips."""

    combinations: np.ndarray  # (n_classes,) sorted raw joint indices seen in training
    n_bins: int

    IGNORE = -100

    @staticmethod
    def _raw(bins: np.ndarray, n_bins: int) -> np.ndarray:
        weights = n_bins ** np.arange(bins.shape[1])[::-1]
        return (bins * weights).sum(axis=1)

    @classmethod
    def fit(cls, bins: np.ndarray, n_bins: int) -> "JointBins":
        return cls(combinations=np.unique(cls._raw(np.asarray(bins), n_bins)), n_bins=n_bins)

    @property
    def n_classes(self) -> int:
        return len(self.combinations)

    def transform(self, bins: np.ndarray) -> np.ndarray:
        raw = self._raw(np.asarray(bins), self.n_bins)
        position = np.searchsorted(self.combinations, raw)
        position = np.clip(position, 0, len(self.combinations) - 1)
        return np.where(self.combinations[position] == raw, position, self.IGNORE).astype(np.int64)

    def state(self) -> dict:
        return {"combinations": self.combinations.tolist(), "n_bins": self.n_bins}

    @classmethod
    def from_state(cls, state: dict) -> "JointBins":
        return cls(combinations=np.asarray(state["combinations"], dtype=np.int64), n_bins=int(state["n_bins"]))
