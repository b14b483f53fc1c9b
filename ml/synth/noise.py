"""Gaussian noise at a given S/N per pixel, shared by every spectrum model."""
from __future__ import annotations

import numpy as np


def add_noise(flux: np.ndarray, snr: float | None, rng: np.random.Generator | None = None):
    """(noisy flux, 1σ error) for continuum-normalised flux (N, P); (flux, None) when snr is None.

    The error is 1/snr relative to the continuum, the same for every pixel.
    """
    if snr is None:
        return flux, None
    if snr <= 0:
        raise ValueError(f"snr must be positive, got {snr}")
    rng = rng or np.random.default_rng()
    error = np.full_like(flux, 1.0 / snr)
    return flux + rng.standard_normal(flux.shape).astype(flux.dtype) * error, error
