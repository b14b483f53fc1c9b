"""Balmer-line profile measurements for A-type stars (Xue et al. 2008; Sirko et al. 2004).

Each line is normalised by a straight continuum through two side windows. A Sérsic profile
y = 1 − a·exp(−(|λ − λ0| / b)^c) is then fitted by bounded least squares, weighted by the flux
errors. From the Hδ fit: D0.2, the full width (Å) at 20 % below the continuum,
2 b (ln(a / 0.2))^(1/c), and fm = 1 − a, the flux at the line core relative to the continuum.
From the Hγ fit: its shape c and scale width b (Å). The classical BHB selection (Xue et al. 2011,
VizieR J/ApJ/738/79 ReadMe) is :func:`xue_cuts`.
"""
from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass

import numpy as np
from scipy.optimize import OptimizeWarning, curve_fit

from ml.synth.bhb import BALMER, sersic_line, xue_balmer_cuts

# Continuum side windows (Å, vacuum) and the fitting window half-width for Hδ and Hγ.
WINDOWS = {"Hd": ((4040.0, 4060.0), (4145.0, 4165.0), 45.0), "Hg": ((4275.0, 4295.0), (4390.0, 4410.0), 45.0)}


@dataclass
class BalmerMeasurement:
    d02: float  # Hδ width at 20 % below the continuum, Å
    fm: float  # Hδ core flux / continuum
    c: float  # Hγ Sérsic shape
    b: float  # Hγ Sérsic scale width, Å
    ok: bool  # both fits converged

    def as_dict(self) -> dict:
        return asdict(self)


def _normalise(wavelength, flux, error, line: str):
    (blue_lo, blue_hi), (red_lo, red_hi), half = WINDOWS[line]
    blue = (wavelength >= blue_lo) & (wavelength <= blue_hi)
    red = (wavelength >= red_lo) & (wavelength <= red_hi)
    if blue.sum() < 3 or red.sum() < 3:
        raise ValueError(f"the spectrum does not cover the {line} continuum windows")
    x = np.r_[wavelength[blue], wavelength[red]]
    y = np.r_[np.median(flux[blue]) * np.ones(blue.sum()), np.median(flux[red]) * np.ones(red.sum())]
    slope, intercept = np.polyfit(x, y, 1)
    centre = BALMER[line]
    window = np.abs(wavelength - centre) <= half
    continuum = slope * wavelength[window] + intercept
    if np.any(continuum <= 0):
        raise ValueError(f"non-positive continuum around {line}")
    sigma = None if error is None else error[window] / continuum
    return wavelength[window], flux[window] / continuum, sigma


def fit_sersic(wavelength, normalised, sigma=None, centre: float | None = None):
    """Fit y = 1 − a exp(−(|λ − λ0|/b)^c). Returns (a, b, c, λ0) and whether the fit converged."""
    centre = float(wavelength[np.argmin(normalised)]) if centre is None else centre
    start = [np.clip(1.0 - normalised.min(), 0.05, 0.95), 8.0, 1.0, centre]
    bounds = ([0.01, 0.5, 0.3, centre - 5.0], [0.999, 40.0, 3.0, centre + 5.0])

    def model(lam, a, b, c, lam0):
        return sersic_line(lam, lam0, a, b, c)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OptimizeWarning)
        try:
            params, _ = curve_fit(model, wavelength, normalised, p0=start, bounds=bounds, sigma=sigma, maxfev=4000)
            return params, True
        except (RuntimeError, ValueError):
            return np.array(start), False


def measure(wavelength: np.ndarray, flux: np.ndarray, error: np.ndarray | None = None) -> BalmerMeasurement:
    """D0.2 and fm (Hδ), c and b (Hγ) of one SDSS-like spectrum (Å, any flux unit)."""
    wavelength, flux = np.asarray(wavelength, float), np.asarray(flux, float)
    error = None if error is None else np.where(np.asarray(error, float) > 0, error, np.inf)
    lam_d, norm_d, sig_d = _normalise(wavelength, flux, error, "Hd")
    (a_d, b_d, c_d, _), ok_d = fit_sersic(lam_d, norm_d, sig_d, BALMER["Hd"])
    lam_g, norm_g, sig_g = _normalise(wavelength, flux, error, "Hg")
    (_, b_g, c_g, _), ok_g = fit_sersic(lam_g, norm_g, sig_g, BALMER["Hg"])
    d02 = 2.0 * b_d * np.log(a_d / 0.2) ** (1.0 / c_d) if a_d > 0.2 else 0.0
    return BalmerMeasurement(d02=float(d02), fm=float(1.0 - a_d), c=float(c_g), b=float(b_g), ok=bool(ok_d and ok_g))


def xue_cuts(measurement: BalmerMeasurement) -> bool:
    """The Xue et al. 2011 Balmer-line BHB selection applied to one measurement."""
    return bool(xue_balmer_cuts(measurement.d02, measurement.fm, measurement.c, measurement.b))
