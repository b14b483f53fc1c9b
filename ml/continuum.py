"""Continuum normalisation of APOGEE-like spectra (pure NumPy).

The Cannon method: per chip, fit a Chebyshev polynomial (degree 4 by default; x rescaled to
[−1, 1] within the chip), weighted by 1/error, to the continuum pixels only, and divide.
Without a list of continuum pixels, the fit is iterated with asymmetric sigma clipping (pixels
more than 1σ below or 3σ above the fit are dropped), which follows the upper envelope of a
line-rich spectrum.
"""
from __future__ import annotations

import numpy as np
from numpy.polynomial import chebyshev


def continuum_normalise(flux: np.ndarray, error: np.ndarray | None, chips: list[slice],
                        continuum_pixels: np.ndarray | None = None, degree: int = 4,
                        iterations: int = 5) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """Divide ``flux`` (P,) by a per-chip polynomial continuum.

    Returns (normalised flux, normalised error or None, continuum), each shape (P,). Pixels with
    non-positive or non-finite error are never used in the fit.
    """
    flux = np.asarray(flux, dtype=np.float64)
    error = None if error is None else np.asarray(error, dtype=np.float64)
    continuum = np.ones_like(flux)
    for chip in chips:
        y = flux[chip]
        x = np.linspace(-1.0, 1.0, len(y))
        weight = np.ones_like(y) if error is None else np.where(
            np.isfinite(error[chip]) & (error[chip] > 0), 1.0 / np.maximum(error[chip], 1e-30), 0.0)
        use = np.isfinite(y) & (weight > 0)
        if continuum_pixels is not None:
            use &= continuum_pixels[chip]
        for _ in range(1 if continuum_pixels is not None else iterations):
            if use.sum() <= degree + 1:
                raise ValueError("too few usable continuum pixels to fit the continuum")
            coefficients = chebyshev.chebfit(x[use], y[use], degree, w=weight[use])
            fit = chebyshev.chebval(x, coefficients)
            if continuum_pixels is not None:
                break
            residual = y - fit
            scatter = np.std(residual[use]) or 1.0
            use = np.isfinite(y) & (weight > 0) & (residual > -1.0 * scatter) & (residual < 3.0 * scatter)
        continuum[chip] = fit
    if np.any(continuum <= 0):
        raise ValueError("the fitted continuum is not positive everywhere")
    normalised_error = None if error is None else error / continuum
    return flux / continuum, normalised_error, continuum
