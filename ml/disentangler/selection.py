"""Which epoch a disentangler keeps: the one that reconstructs best among those whose latent a fresh
probe cannot read the conditioned parameters from.

The discriminators train alongside the encoder, so they can sit at chance while the parameters are
still in z where they do not look. A probe fitted from scratch on the validation stars, as a survey
could (it needs the conditioned parameters only, never chemistry), sees that.
"""
from __future__ import annotations

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

NEIGHBOURS = 10


def _r2(parameters: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    residual = ((parameters - predicted) ** 2).sum(0)
    return 1.0 - residual / np.maximum(((parameters - parameters.mean(0)) ** 2).sum(0), 1e-12)


def probe_r2(latent: np.ndarray, parameters: np.ndarray, seed: int = 0) -> float:
    """The largest R² with which a fresh probe predicts one of the standardised conditioned
    parameters (N, C) from standardised z (N, L), two-fold on the given stars. Three probes, the
    best counts: ridge regression on z and z² (a parameter coded along a few directions, even
    among many unrelated ones), k-nearest-neighbour regression (any smooth dependence), and a small
    MLP like the reports' probes. About 0 (or below) for a latent that carries none."""
    from sklearn.linear_model import RidgeCV
    from sklearn.neighbors import KNeighborsRegressor
    from sklearn.neural_network import MLPRegressor

    latent, parameters = np.asarray(latent, np.float64), np.asarray(parameters, np.float64)
    n = len(latent)
    if n < 8:
        return float("nan")
    latent = (latent - latent.mean(0)) / np.maximum(latent.std(0), 1e-12)
    order = np.random.default_rng(seed).permutation(n)
    halves = (order[: n // 2], order[n // 2 :])
    probes = {"ridge": (lambda: RidgeCV(alphas=np.logspace(-2, 3, 6)), np.hstack([latent, latent**2])),
              "neighbours": (lambda: KNeighborsRegressor(n_neighbors=min(NEIGHBOURS, max(1, n // 4))), latent),
              "mlp": (lambda: MLPRegressor(hidden_layer_sizes=(64, 64), max_iter=200, early_stopping=n >= 100,
                                           random_state=seed), latent)}
    best = -np.inf
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # a probe that stops early still answers
        for make, features in probes.values():
            predicted = np.empty_like(parameters)
            for fit, apply in (halves, halves[::-1]):
                predicted[apply] = make().fit(features[fit], parameters[fit]).predict(features[apply]).reshape(len(apply), -1)
            best = max(best, float(np.max(_r2(parameters, predicted))))
    return best


def better(*, objective: float, probe: float, best_objective: float, best_probe: float, limit: float | None) -> bool:
    """Whether an epoch with this validation objective and probe R² beats the kept one.

    With no ``limit`` (noAT, or switched off): the lower objective. Otherwise an epoch whose probe
    is within the limit beats every epoch that is not; between two within it, the lower objective
    wins; between two outside it, the lower probe R² (the run is still taking the parameters out)."""
    if limit is None or not np.isfinite(probe):
        return objective < best_objective - 1e-6
    inside, kept_inside = probe <= limit, best_probe <= limit
    if inside != kept_inside:
        return inside
    if inside:
        return objective < best_objective - 1e-6
    return probe < best_probe - 1e-6
