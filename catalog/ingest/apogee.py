"""APOGEE apStar and aspcapStar files, cut to the 7214-pixel ASPCAP grid.

* **apStar**: HDU1 flux (N, 8575) or (8575,) in 1e-17 erg/s/cm²/Å, row 0 = the combined
  spectrum; HDU2 its error; header CRVAL1 = 4.179, CDELT1 = 6e-6 (log10 Å). The reader slices the
  three chips onto the 7214 grid (no interpolation) and continuum-normalises with per-chip
  degree-4 Chebyshev fits to the continuum pixels (the Cannon method; see ``ml.continuum``).
* **aspcapStar**: HDU1 the already-normalised spectrum, HDU2 its error, on either the 8575-pixel
  apStar grid (DR14+) or the 7214-pixel grid; it is sliced but not re-normalised.

The star's APOGEE id comes from the header (OBJID / APOGEE_ID) or the file name, RA/DEC (deg)
from the header. Bad pixels (error ≤ 0 or non-finite, or flux exactly 0 in the gaps) get an
error of 1e6 × the median.

**The apStar pixel bitmask** (HDU3, APOGEE_PIXMASK): pixels flagged bad, cosmic ray, saturated,
unfixable, bad dark/flat/error, no sky, high persistence, significant sky line or significant
telluric (``MASKED_BITS``) are left out of the continuum fit, recorded with the masked error
(1e6 × the median), and their flux is filled by linear interpolation between the nearest unmasked
pixels of the same chip, so that a sky-line spike never reaches the latent. aspcapStar files have
no bitmask (their HDU3 is the model spectrum).
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
from astropy.io import fits

from catalog.ingest.fitsio import open_fits, read_data
from catalog.ingest.records import BadInput, SpectrumRecord, StarIdentity, check_finite, snr_from_error
from ml.continuum import continuum_normalise
from ml import surveys

ID_PATTERN = re.compile(r"(?:apStar|aspcapStar)-(?:[\w.]+-)*?(2M\d{8}[+-]\d{7}|[\w+.-]+?)\.fits", re.IGNORECASE)
MASKED_ERROR_FACTOR = 1e6
# APOGEE_PIXMASK bits masked on ingest: BADPIX 0, CRPIX 1, SATPIX 2, UNFIXABLE 3, BADDARK 4, BADFLAT 5,
# BADERR 6, NOSKY 7, PERSIST_HIGH 9, SIG_SKYLINE 12, SIG_TELLURIC 13.
MASKED_BITS = sum(1 << bit for bit in (0, 1, 2, 3, 4, 5, 6, 7, 9, 12, 13))
_CONTINUUM_PIXELS: np.ndarray | None = None


def set_continuum_pixels(mask: np.ndarray | None) -> None:
    """Use these (7214,) continuum pixels (e.g. the Cannon list) instead of iterative clipping."""
    global _CONTINUUM_PIXELS
    if mask is not None and np.asarray(mask).shape != (surveys.APOGEE_N_PIXELS,):
        raise ValueError(f"continuum pixel mask must have {surveys.APOGEE_N_PIXELS} values")
    _CONTINUUM_PIXELS = None if mask is None else np.asarray(mask, dtype=bool)


def _to_aspcap_grid(values: np.ndarray, what: str) -> np.ndarray:
    if values.shape[-1] == surveys.APSTAR_N_PIXELS:
        return values[..., surveys.apogee_pixel_index()]
    if values.shape[-1] == surveys.APOGEE_N_PIXELS:
        return values
    raise BadInput(f"{what} has {values.shape[-1]} pixels; expected 8575 (apStar grid) or 7214 (ASPCAP grid)")


def _identity(header, path: Path) -> StarIdentity:
    apogee_id = str(header.get("APOGEE_ID") or header.get("OBJID") or "").strip()
    if not apogee_id:
        match = ID_PATTERN.search(path.name)
        if not match:
            raise BadInput("no APOGEE_ID/OBJID in the header and none in the file name")
        apogee_id = match.group(1)
    ra, dec = header.get("RA"), header.get("DEC")
    group = header.get("GROUP")
    return StarIdentity(designation=apogee_id, apogee_id=apogee_id,
                        ra=None if ra is None else float(ra) % 360.0, dec=None if dec is None else float(dec),
                        group=None if group is None else int(group))


def _clean_error(flux: np.ndarray, error: np.ndarray) -> np.ndarray:
    good = np.isfinite(error) & (error > 0) & (flux != 0)
    if not good.any():
        raise BadInput("no pixel has a usable error")
    cleaned = error.astype(np.float64).copy()
    cleaned[~good] = MASKED_ERROR_FACTOR * np.median(error[good])
    return cleaned


def _fill_masked(flux: np.ndarray, masked: np.ndarray) -> np.ndarray:
    """``flux`` (P,) with the masked pixels replaced by linear interpolation between the nearest
    unmasked pixels of the same chip (the chip's edge value beyond its last good pixel)."""
    filled = flux.copy()
    for chip in surveys.apogee_chip_slices():
        bad, values = masked[chip], filled[chip]
        if bad.any() and not bad.all():
            index = np.arange(len(values))
            values[bad] = np.interp(index[bad], index[~bad], values[~bad])
    return filled


def _read(path: Path, normalise: bool) -> list[SpectrumRecord]:
    with open_fits(path) as hdus:
        if len(hdus) < 3:
            raise BadInput(f"expected flux in HDU1 and error in HDU2; the file has {len(hdus)} HDUs")
        if not isinstance(hdus[1], fits.ImageHDU) or not isinstance(hdus[2], fits.ImageHDU):
            raise BadInput("HDU1/HDU2 are not images (wrong HDU layout for an APOGEE file)")
        flux = np.asarray(read_data(hdus[1], "HDU1 flux"), dtype=np.float64)
        error = np.asarray(read_data(hdus[2], "HDU2 error"), dtype=np.float64)
        bitmask = None
        if normalise and len(hdus) > 3 and isinstance(hdus[3], fits.ImageHDU) and hdus[3].data is not None:
            bitmask = np.asarray(read_data(hdus[3], "HDU3 bitmask"))
        star = _identity(hdus[0].header, path)
    if flux.shape != error.shape:
        raise BadInput(f"flux {flux.shape} and error {error.shape} differ in shape")
    if bitmask is not None and bitmask.shape != flux.shape:
        raise BadInput(f"the HDU3 bitmask {bitmask.shape} and the flux {flux.shape} differ in shape")
    if flux.ndim == 2:
        flux, error = flux[0], error[0]  # row 0: the combined spectrum
        bitmask = None if bitmask is None else bitmask[0]
    flux = _to_aspcap_grid(flux, "flux")
    error = _to_aspcap_grid(error, "error")
    check_finite("flux", flux)
    error = _clean_error(flux, error)
    masked = np.zeros(len(flux), dtype=bool)
    if bitmask is not None:
        masked = (_to_aspcap_grid(bitmask, "bitmask").astype(np.int64) & MASKED_BITS) != 0
        if masked.all():
            raise BadInput("every pixel is flagged in the HDU3 bitmask")
    if normalise:
        if np.median(flux) <= 0:
            raise BadInput("median flux is not positive; cannot normalise")
        fit_error = np.where(masked, np.inf, error)  # non-finite errors are left out of the continuum fit
        flux, error, _ = continuum_normalise(flux, fit_error, surveys.apogee_chip_slices(), _CONTINUUM_PIXELS)
    if masked.any():
        error[masked] = MASKED_ERROR_FACTOR * np.median(error[~masked])
        flux = _fill_masked(flux, masked)
    return [SpectrumRecord(star=star, survey="apogee", flux=flux.astype(np.float32), error=error.astype(np.float32),
                           snr=snr_from_error(flux, error), source_key="HDU1[0]")]


def read_apstar(path: str | Path) -> list[SpectrumRecord]:
    return _read(Path(path), normalise=True)


def read_aspcapstar(path: str | Path) -> list[SpectrumRecord]:
    return _read(Path(path), normalise=False)


def _header(apogee_id: str, ra: float, dec: float, group: int | None) -> fits.Header:
    header = fits.Header()
    header["OBJID"] = apogee_id
    header["RA"], header["DEC"] = float(ra), float(dec)
    if group is not None:
        header["GROUP"] = (int(group), "chemical-profile id of a synthetic grid")
    return header


def _image(values, bunit: str) -> fits.ImageHDU:
    hdu = fits.ImageHDU(np.asarray(values, dtype=np.float32))
    hdu.header["CRVAL1"], hdu.header["CDELT1"], hdu.header["CRPIX1"] = surveys.APSTAR_LOG_START, surveys.APSTAR_LOG_STEP, 1
    hdu.header["CTYPE1"] = "LOG-LINEAR"
    hdu.header["BUNIT"] = bunit
    return hdu


def _to_apstar_grid(values: np.ndarray, fill: float = 0.0) -> np.ndarray:
    full = np.full(values.shape[:-1] + (surveys.APSTAR_N_PIXELS,), fill, dtype=np.float32)
    full[..., surveys.apogee_pixel_index()] = values
    return full


def write_apstar(path, apogee_id: str, ra: float, dec: float, normalised_flux: np.ndarray,
                 normalised_error: np.ndarray | None, continuum: np.ndarray | None = None,
                 group: int | None = None, bitmask: np.ndarray | None = None) -> Path:
    """An apStar file whose combined spectrum is ``normalised_flux × continuum`` (flux units).

    ``continuum`` (7214,) defaults to a smooth, chip-dependent instrument-response-like shape,
    so the reader's continuum normalisation is exercised. ``bitmask`` (7214,) APOGEE_PIXMASK
    values (default: none set).
    """
    path = Path(path)
    if continuum is None:
        wavelength = surveys.apogee_wavelength()
        continuum = 200.0 * (wavelength / 16000.0) ** -2.5
        for k, chip in enumerate(surveys.apogee_chip_slices()):
            x = np.linspace(-1, 1, chip.stop - chip.start)
            continuum[chip] *= (1.0 - 0.08 * x**2) * (1.0 + 0.05 * k)
    flux = np.asarray(normalised_flux) * continuum
    error = (np.full_like(flux, 0.005) if normalised_error is None else np.asarray(normalised_error)) * continuum
    hdus = fits.HDUList([
        fits.PrimaryHDU(header=_header(apogee_id, ra, dec, group)),
        _image(_to_apstar_grid(flux[None, :]), "Flux (10^-17 erg/s/cm^2/Ang)"),
        _image(_to_apstar_grid(error[None, :], fill=1e10), "Flux error"),
        fits.ImageHDU(_to_apstar_grid(np.zeros((1, surveys.APOGEE_N_PIXELS)) if bitmask is None
                                      else np.asarray(bitmask)[None, :]).astype(np.int32), name="BITMASK"),
    ])
    hdus.writeto(path, overwrite=True)
    return path


def write_aspcapstar(path, apogee_id: str, ra: float, dec: float, flux: np.ndarray, error: np.ndarray | None,
                     group: int | None = None) -> Path:
    """An aspcapStar-like file: normalised flux and error on the 8575-pixel grid (gaps = 0)."""
    path = Path(path)
    error = np.full_like(flux, 0.005) if error is None else error
    fits.HDUList([
        fits.PrimaryHDU(header=_header(apogee_id, ra, dec, group)),
        _image(_to_apstar_grid(np.asarray(flux)[None, :])[0], "normalised flux"),
        _image(_to_apstar_grid(np.asarray(error)[None, :], fill=1e10)[0], "normalised flux error"),
    ]).writeto(path, overwrite=True)
    return path
