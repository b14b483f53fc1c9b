"""SDSS ugriz image cutouts: a FITS file with one image HDU per band, or one (5, H, W) cube.

Bands are found by EXTNAME/FILTER (u, g, r, i, z) when there is one HDU per band, or taken in
ugriz order from a cube (header BANDS, default 'ugriz'). The star is identified by PLATEID/MJD/
FIBERID (or a ``img-PLATE-MJD-FIBER.fits`` name) and RA/DEC (deg); the pixel scale by PIXSCALE
(arcsec/px, default 0.396). Pixel values are nanomaggies.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
from astropy.io import fits

from catalog.ingest.fitsio import open_fits, read_data
from catalog.ingest.records import BadInput, ImageRecord, StarIdentity, check_finite, sdss_designation

BANDS = "ugriz"
NAME_PATTERN = re.compile(r"img-(\d{4,5})-(\d{5})-(\d{4})\.fits(\.gz)?$", re.IGNORECASE)
DEFAULT_PIXEL_SCALE = 0.396


def _identity(header, path: Path) -> StarIdentity:
    plate, mjd, fiber = header.get("PLATEID"), header.get("MJD"), header.get("FIBERID")
    if None in (plate, mjd, fiber):
        match = NAME_PATTERN.search(path.name)
        if not match:
            designation = header.get("DESIGNAT") or header.get("OBJECT")
            if not designation:
                raise BadInput("no PLATEID/MJD/FIBERID or DESIGNAT in the header, and the name is not img-PLATE-MJD-FIBER.fits")
            return StarIdentity(designation=str(designation), ra=header.get("RA"), dec=header.get("DEC"))
        plate, mjd, fiber = (int(match.group(k)) for k in (1, 2, 3))
    ra, dec = header.get("RA"), header.get("DEC")
    return StarIdentity(designation=sdss_designation(plate, mjd, fiber), sdss_plate=int(plate), sdss_mjd=int(mjd),
                        sdss_fiber=int(fiber), ra=None if ra is None else float(ra) % 360.0,
                        dec=None if dec is None else float(dec))


def read_cutout(path: str | Path) -> list[ImageRecord]:
    path = Path(path)
    with open_fits(path) as hdus:
        header = hdus[0].header
        image_hdus = [hdu for hdu in hdus if isinstance(hdu, (fits.PrimaryHDU, fits.ImageHDU)) and hdu.header.get("NAXIS", 0) >= 2]
        if len(image_hdus) == 1 and image_hdus[0].header["NAXIS"] == 3:
            cube = np.asarray(read_data(image_hdus[0], "cube"), dtype=np.float64)
            order = str(image_hdus[0].header.get("BANDS", BANDS)).lower()
            if sorted(order) != sorted(BANDS):
                raise BadInput(f"cube BANDS is {order!r}; expected the five bands ugriz")
            cube = cube[[order.index(band) for band in BANDS]] if cube.shape[0] == 5 else cube
        elif len(image_hdus) == 5:
            by_band = {}
            for hdu in image_hdus:
                band = str(hdu.header.get("FILTER") or hdu.name or "").strip().lower()[:1]
                if band not in BANDS or band in by_band:
                    raise BadInput(f"HDU {hdu.name!r} is not one of the bands u, g, r, i, z (FILTER/EXTNAME)")
                by_band[band] = np.asarray(read_data(hdu, f"band {band}"), dtype=np.float64)
            shapes = {plane.shape for plane in by_band.values()}
            if len(shapes) != 1:
                raise BadInput(f"bands have different shapes {sorted(shapes)}")
            cube = np.stack([by_band[band] for band in BANDS])
        else:
            raise BadInput(f"expected 5 band images or one (5, H, W) cube; found {len(image_hdus)} image HDU(s)")
        star = _identity(header, path)
        scale = float(header.get("PIXSCALE", DEFAULT_PIXEL_SCALE))
    if cube.ndim != 3 or cube.shape[0] != 5:
        raise BadInput(f"cutout has shape {cube.shape}; expected (5, H, W)")
    if min(cube.shape[1:]) < 8:
        raise BadInput(f"cutout of {cube.shape[1]}×{cube.shape[2]} px is too small")
    check_finite("image", cube.ravel())
    if scale <= 0:
        raise BadInput(f"PIXSCALE {scale} is not positive")
    return [ImageRecord(star=star, cube=cube.astype(np.float32), pixel_scale=scale, source_key="ugriz")]


def write_cutout(path: str | Path, plate: int, mjd: int, fiber: int, ra: float, dec: float, cube: np.ndarray,
                 pixel_scale: float = DEFAULT_PIXEL_SCALE, layout: str = "hdus") -> Path:
    """Write a (5, H, W) ugriz cutout as one HDU per band (``layout='hdus'``) or a cube."""
    path = Path(path)
    primary = fits.PrimaryHDU(np.asarray(cube, dtype=np.float32) if layout == "cube" else None)
    header = primary.header
    header["PLATEID"], header["MJD"], header["FIBERID"] = int(plate), int(mjd), int(fiber)
    header["RA"], header["DEC"], header["PIXSCALE"] = float(ra), float(dec), float(pixel_scale)
    header["BUNIT"] = "nanomaggy"
    if layout == "cube":
        header["BANDS"] = BANDS
        fits.HDUList([primary]).writeto(path, overwrite=True)
    else:
        planes = [fits.ImageHDU(np.asarray(cube[k], dtype=np.float32), name=band.upper()) for k, band in enumerate(BANDS)]
        for plane, band in zip(planes, BANDS):
            plane.header["FILTER"] = band
        fits.HDUList([primary, *planes]).writeto(path, overwrite=True)
    return path


def cutout_file_name(plate: int, mjd: int, fiber: int) -> str:
    return f"img-{int(plate):04d}-{int(mjd):05d}-{int(fiber):04d}.fits"
