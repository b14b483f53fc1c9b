"""What readers return: plain data, independent of the database."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


class BadInput(ValueError):
    """A file (or a row in it) cannot be ingested; the message says why, in one line."""


@dataclass
class StarIdentity:
    """Enough to find or create a Star. ra/dec in degrees (ICRS); None when the file lacks them."""

    designation: str
    ra: float | None = None
    dec: float | None = None
    apogee_id: str = ""
    gaia_source_id: int | None = None
    sdss_plate: int | None = None
    sdss_mjd: int | None = None
    sdss_fiber: int | None = None
    group: int | None = None


@dataclass
class SpectrumRecord:
    star: StarIdentity
    survey: str  # 'apogee', 'gaia_rvs' or 'sdss'
    flux: np.ndarray  # (P,) on the survey's grid
    error: np.ndarray | None  # (P,) 1σ, same unit
    snr: float | None
    source_key: str  # HDU/row inside the file
    balmer: dict | None = None  # its BalmerLines fields, where measured on reading (catalog.balmer)


@dataclass
class ImageRecord:
    star: StarIdentity
    cube: np.ndarray  # (5, H, W) ugriz, nanomaggies
    pixel_scale: float  # arcsec / px
    source_key: str
    bands: str = "ugriz"


@dataclass
class LabelRecord:
    """Stellar parameters for a star from one source. Units K and dex."""

    star: StarIdentity
    source: str
    values: dict[str, float | None] = field(default_factory=dict)  # teff, teff_err, logg, ... alpha_fe_err
    abundances: dict[str, float] = field(default_factory=dict)
    abundance_errors: dict[str, float] = field(default_factory=dict)


@dataclass
class BHBLabelRecord:
    star: StarIdentity
    is_bhb: bool
    catalogue: str


def check_finite(name: str, values: np.ndarray) -> None:
    """Reject NaN or infinite values with a reason that says how many and where."""
    bad = ~np.isfinite(values)
    if bad.any():
        first = int(np.argmax(bad))
        raise BadInput(f"{name} has {int(bad.sum())} NaN/inf values (first at pixel {first})")


def sdss_designation(plate: int, mjd: int, fiber: int) -> str:
    return f"SDSS {int(plate):04d}-{int(mjd):05d}-{int(fiber):04d}"


def snr_from_error(flux: np.ndarray, error: np.ndarray | None) -> float | None:
    """Median S/N per pixel over pixels with a usable error."""
    if error is None:
        return None
    good = np.isfinite(error) & (error > 0) & (error < 1e5 * (np.nanmedian(np.abs(flux)) + 1e-30))
    if not good.any():
        return None
    return float(np.median(np.abs(flux[good]) / error[good]))
