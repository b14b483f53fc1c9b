"""Wavelength grids of the surveys Doppel handles (all in Å).

- APOGEE: the 7214-pixel ASPCAP grid, a subset of the apStar grid log10 λ = 4.179 + 6e-6·i
  (i = 0..8574, vacuum Å) with chip gaps removed: i = 322–3241, 3648–6047, 6412–8305.
- Gaia RVS: 846–870 nm in steps of 0.01 nm, 2401 pixels (λ = 8460 + 0.1·k Å).
- SDSS: 4000–9000 Å on the SDSS log grid, Δlog10 λ = 1e-4, 3522 pixels starting at 4000 Å.
"""
from __future__ import annotations

import numpy as np

APSTAR_N_PIXELS = 8575
APSTAR_LOG_START = 4.179
APSTAR_LOG_STEP = 6e-6
APOGEE_CHIPS = ((322, 3242), (3648, 6048), (6412, 8306))  # apStar index ranges [start, stop)
APOGEE_N_PIXELS = 7214
APOGEE_RESOLUTION = 22500.0

RVS_N_PIXELS = 2401
RVS_START = 8460.0
RVS_STEP = 0.1
RVS_RESOLUTION = 11500.0

SDSS_LOG_START = np.log10(4000.0)
SDSS_LOG_STEP = 1e-4
SDSS_N_PIXELS = 3522
SDSS_RESOLUTION = 2000.0


def apstar_wavelength() -> np.ndarray:
    """The full apStar grid, shape (8575,), vacuum Å."""
    return 10.0 ** (APSTAR_LOG_START + APSTAR_LOG_STEP * np.arange(APSTAR_N_PIXELS))


def apogee_pixel_index() -> np.ndarray:
    """apStar indices of the 7214 ASPCAP pixels, shape (7214,)."""
    return np.concatenate([np.arange(start, stop) for start, stop in APOGEE_CHIPS])


def apogee_wavelength() -> np.ndarray:
    """The 7214-pixel APOGEE grid, shape (7214,), vacuum Å (15168–16937)."""
    return apstar_wavelength()[apogee_pixel_index()]


def apogee_chip_slices() -> list[slice]:
    """Slices of the 7214-pixel grid for the blue, green and red chips."""
    bounds = np.cumsum([0] + [stop - start for start, stop in APOGEE_CHIPS])
    return [slice(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:])]


def rvs_wavelength() -> np.ndarray:
    """The Gaia RVS grid, shape (2401,), Å (8460–8700)."""
    return RVS_START + RVS_STEP * np.arange(RVS_N_PIXELS)


def sdss_wavelength() -> np.ndarray:
    """The SDSS 4000–9000 Å grid, shape (3522,), vacuum Å (as SDSS DR8+ ``loglam``)."""
    return 10.0 ** (SDSS_LOG_START + SDSS_LOG_STEP * np.arange(SDSS_N_PIXELS))


GRIDS = {
    "apogee": (apogee_wavelength, APOGEE_RESOLUTION),
    "gaia_rvs": (rvs_wavelength, RVS_RESOLUTION),
    "sdss": (sdss_wavelength, SDSS_RESOLUTION),
}


def air_to_vacuum(wavelength_air) -> np.ndarray:
    """Vacuum wavelengths (Å) of air wavelengths (Å, > 2000 Å): λ_vac = n(λ_air) · λ_air with the
    inverse of the Morton (2000, ApJS 130, 403) dispersion formula given by N. Piskunov for VALD
    (refractive index of standard air; good to ~0.01 Å in the optical)."""
    wavelength_air = np.asarray(wavelength_air, np.float64)
    s2 = (1e4 / wavelength_air) ** 2
    n = 1.0 + 8.336624212083e-5 + 2.408926869968e-2 / (130.1065924522 - s2) + 1.599740894897e-4 / (38.92568793293 - s2)
    return wavelength_air * n
