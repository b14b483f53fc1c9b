"""SDSS ``spec-PLATE-MJD-FIBER.fits`` spectra (DR8+ data model).

HDU0 carries PLATEID, MJD, FIBERID, RA and DEC (deg); the ``COADD`` HDU (or HDU1) is a table
with ``flux`` (1e-17 erg/s/cm²/Å), ``loglam`` (log10 Å), ``ivar`` (1/flux²) and ``and_mask``;
column names may be in either case. The reader puts the spectrum on Doppel's SDSS grid
(4000–9000 Å, Δlog λ = 1e-4, 3522 pixels): by slicing when the file's loglam grid is aligned
with it, otherwise by linear interpolation. Pixels with ivar = 0 or a non-zero and_mask keep
their flux but get an error of 1e6 × the median error, so every consumer weights them out.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
from astropy.io import fits

from catalog.ingest.fitsio import open_fits, read_data
from catalog.ingest.records import BadInput, SpectrumRecord, StarIdentity, check_finite, sdss_designation, snr_from_error
from ml import surveys

NAME_PATTERN = re.compile(r"spec-(\d{4,5})-(\d{5})-(\d{4})\.fits(\.gz)?$", re.IGNORECASE)
MASKED_ERROR_FACTOR = 1e6


def _column(table, name: str) -> np.ndarray:
    lookup = {column.lower(): column for column in table.columns.names}
    if name not in lookup:
        raise BadInput(f"COADD table has no '{name}' column (columns: {', '.join(table.columns.names)})")
    return np.asarray(table[lookup[name]], dtype=np.float64)


def _identity(header, path: Path) -> StarIdentity:
    def number(key):
        value = header.get(key)
        return None if value is None else int(value)

    plate, mjd, fiber = number("PLATEID"), number("MJD"), number("FIBERID")
    if None in (plate, mjd, fiber):
        match = NAME_PATTERN.search(path.name)
        if not match:
            raise BadInput("no PLATEID/MJD/FIBERID in the header and the name is not spec-PLATE-MJD-FIBER.fits")
        plate, mjd, fiber = (int(match.group(k)) for k in (1, 2, 3))
    ra, dec = header.get("RA", header.get("PLUG_RA")), header.get("DEC", header.get("PLUG_DEC"))
    return StarIdentity(
        designation=sdss_designation(plate, mjd, fiber), ra=None if ra is None else float(ra) % 360.0,
        dec=None if dec is None else float(dec), sdss_plate=plate, sdss_mjd=mjd, sdss_fiber=fiber,
    )


def read_sdss_spec(path: str | Path) -> list[SpectrumRecord]:
    path = Path(path)
    with open_fits(path) as hdus:
        if len(hdus) < 2:
            raise BadInput("expected a COADD table in HDU1; the file has only a primary HDU")
        table_hdu = hdus["COADD"] if "COADD" in hdus else hdus[1]
        if not isinstance(table_hdu, fits.BinTableHDU):
            raise BadInput(f"HDU {table_hdu.name or 1} is not a binary table (wrong HDU layout for an SDSS spec file)")
        table = read_data(table_hdu, "COADD")
        flux, loglam, ivar = _column(table, "flux"), _column(table, "loglam"), _column(table, "ivar")
        and_mask = _column(table, "and_mask") if "and_mask" in [c.lower() for c in table.columns.names] else np.zeros_like(flux)
        star = _identity(hdus[0].header, path)
    if len(flux) < 2:
        raise BadInput(f"COADD table has {len(flux)} rows")
    check_finite("flux", flux)
    check_finite("loglam", loglam)
    if np.any(np.diff(loglam) <= 0):
        raise BadInput("loglam is not increasing")
    target = np.log10(surveys.sdss_wavelength())
    if loglam[0] > target[0] + 5e-5 or loglam[-1] < target[-1] - 5e-5:
        raise BadInput(f"covers {10**loglam[0]:.0f}–{10**loglam[-1]:.0f} Å; the SDSS grid needs 4000–9000 Å")
    ivar = np.where(np.isfinite(ivar) & (ivar > 0) & (and_mask == 0), ivar, 0.0)
    offset = (target[0] - loglam[0]) / surveys.SDSS_LOG_STEP
    start = int(round(offset))
    aligned = abs(offset - start) < 0.01 and np.allclose(np.diff(loglam), surveys.SDSS_LOG_STEP, atol=2e-6)
    if aligned and start + len(target) <= len(flux):
        flux_grid = flux[start : start + len(target)]
        ivar_grid = ivar[start : start + len(target)]
    else:
        flux_grid = np.interp(target, loglam, flux)
        ivar_grid = np.interp(target, loglam, ivar)
        ivar_grid[np.interp(target, loglam, (ivar == 0).astype(float)) > 0] = 0.0
    good = ivar_grid > 0
    if not good.any():
        raise BadInput("every pixel in 4000–9000 Å is masked (ivar = 0)")
    error = np.zeros_like(flux_grid)
    error[good] = 1.0 / np.sqrt(ivar_grid[good])
    error[~good] = MASKED_ERROR_FACTOR * np.median(error[good])
    return [SpectrumRecord(star=star, survey="sdss", flux=flux_grid.astype(np.float32), error=error.astype(np.float32),
                           snr=snr_from_error(flux_grid[good], error[good]), source_key="COADD")]


def write_sdss_spec(path: str | Path, plate: int, mjd: int, fiber: int, ra: float, dec: float,
                    flux: np.ndarray, error: np.ndarray, wavelength: np.ndarray | None = None,
                    extra_header: dict | None = None) -> Path:
    """Write a spec file in the DR8+ layout (HDU0 header, COADD table). Flux in 1e-17 erg/s/cm²/Å."""
    path = Path(path)
    wavelength = surveys.sdss_wavelength() if wavelength is None else np.asarray(wavelength)
    primary = fits.PrimaryHDU()
    header = primary.header
    header["PLATEID"], header["MJD"], header["FIBERID"] = int(plate), int(mjd), int(fiber)
    header["RA"], header["DEC"] = float(ra), float(dec)
    header["COEFF0"], header["COEFF1"] = float(np.log10(wavelength[0])), surveys.SDSS_LOG_STEP
    header["BUNIT"] = "1E-17 erg/cm^2/s/Ang"
    for key, value in (extra_header or {}).items():
        header[key] = value
    error = np.asarray(error, dtype=np.float64)
    ivar = np.where(error > 0, 1.0 / np.maximum(error, 1e-30) ** 2, 0.0)
    coadd = fits.BinTableHDU.from_columns([
        fits.Column(name="flux", format="E", array=np.asarray(flux, dtype=np.float32)),
        fits.Column(name="loglam", format="E", array=np.log10(wavelength).astype(np.float32)),
        fits.Column(name="ivar", format="E", array=ivar.astype(np.float32)),
        fits.Column(name="and_mask", format="J", array=np.zeros(len(wavelength), dtype=np.int32)),
    ], name="COADD")
    fits.HDUList([primary, coadd]).writeto(path, overwrite=True)
    return path


def spec_file_name(plate: int, mjd: int, fiber: int) -> str:
    return f"spec-{int(plate):04d}-{int(mjd):05d}-{int(fiber):04d}.fits"
