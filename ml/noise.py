"""Noise of a spectrum measured from the spectrum itself (pure NumPy).

DER_SNR (Stoehr et al. 2008, ASP Conf. Ser. 394, 505): for flux that is smooth over a few pixels,
2·fᵢ − fᵢ₋₂ − fᵢ₊₂ cancels the signal and leaves noise of variance 6σ², and the median absolute
value of a Gaussian is 0.6745σ. So

    σ = 1.482602 / √6 · median |2·fᵢ − fᵢ₋₂ − fᵢ₊₂|

It needs no error array, which survey files do not always carry, and the median ignores the few
pixels where a line core breaks the smoothness. At S/N of several hundred the curvature of broad
lines starts to count (≈ +10 % at S/N 1000 on an A star's Balmer lines).
"""
from __future__ import annotations

import numpy as np

_MAD_TO_SIGMA = 1.482602  # 1 / Φ⁻¹(3/4)


def der_snr_noise(flux: np.ndarray) -> np.ndarray:
    """Per-spectrum 1σ noise, in the flux's unit. flux (N, P) or (P,) → (N,) or scalar.

    Non-finite pixels are ignored; a spectrum with fewer than 5 finite pixels gets NaN."""
    flux = np.asarray(flux, dtype=np.float64)
    single = flux.ndim == 1
    flux = np.atleast_2d(flux)
    if flux.shape[1] < 5:
        raise ValueError(f"DER_SNR needs at least 5 pixels per spectrum, not {flux.shape[1]}")
    second = np.abs(2.0 * flux[:, 2:-2] - flux[:, :-4] - flux[:, 4:])  # (N, P − 4)
    with np.errstate(all="ignore"):
        noise = _MAD_TO_SIGMA / np.sqrt(6.0) * np.nanmedian(np.where(np.isfinite(second), second, np.nan), axis=1)
    return float(noise[0]) if single else noise
