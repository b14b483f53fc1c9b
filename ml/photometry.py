"""Forced PSF photometry of the central star in ugriz cutouts.

The optimal (matched-filter) flux of a point source of known PSF P (normalised to sum 1) in an
image I with white sky noise is  F = Σ I·P / Σ P².  Used to ask what the cutouts can tell about a
star at most through its colours (research/bhb_information.py), without any training, and to give
the BATMM image encoder a self-supervised target (:func:`psf_colours`).
"""
from __future__ import annotations

import numpy as np

SDSS_PIXEL_SCALE = 0.396  # arcsec / px
SDSS_ZERO_POINT = 22.5  # mag of 1 nanomaggy
SDSS_TYPICAL_FWHM = (1.5, 1.4, 1.3, 1.2, 1.2)  # arcsec, ugriz: typical SDSS imaging seeing


def psf_flux(images: np.ndarray, fwhm_arcsec, pixel_scale: float = SDSS_PIXEL_SCALE, chunk: int = 1024) -> np.ndarray:
    """Flux of a Gaussian point source at the cutout centre, per band.

    images: (N, B, H, W) in any linear unit (SDSS: nanomaggies per pixel); fwhm_arcsec: scalar or
    (B,) PSF FWHM per band. Returns (N, B) in the images' unit (total flux, not per pixel); noisy
    faint sources can come out negative. Works through ``chunk`` stars at a time, so no float64 copy of
    the whole array (or of a memory-mapped one) is ever made.
    """
    images = np.asarray(images)  # float64 per chunk below, never a float64 copy of every cutout
    if images.ndim != 4:
        raise ValueError(f"images must be (N, bands, height, width), got shape {images.shape}")
    bands, height, width = images.shape[1:]
    fwhm = np.broadcast_to(np.asarray(fwhm_arcsec, np.float64), (bands,))
    sigma = fwhm / (2.0 * np.sqrt(2.0 * np.log(2.0))) / pixel_scale  # px
    y, x = np.mgrid[0:height, 0:width]
    r2 = (y - (height - 1) / 2.0) ** 2 + (x - (width - 1) / 2.0) ** 2
    psf = np.exp(-0.5 * r2[None] / sigma[:, None, None] ** 2)
    psf /= psf.sum(axis=(1, 2), keepdims=True)
    flux = np.empty(images.shape[:2])
    for start in range(0, len(images), chunk):
        flux[start : start + chunk] = np.einsum("nbhw,bhw->nb", images[start : start + chunk].astype(np.float64), psf)
    return flux / (psf**2).sum(axis=(1, 2))


def magnitudes(flux: np.ndarray, floor: float = 1e-3, zero_point: float = SDSS_ZERO_POINT) -> np.ndarray:
    """zero_point − 2.5 log10(flux), with fluxes below ``floor`` (non-detections) set to the floor."""
    return zero_point - 2.5 * np.log10(np.maximum(np.asarray(flux, np.float64), floor))


def psf_colours(images: np.ndarray, fwhm_arcsec=SDSS_TYPICAL_FWHM) -> np.ndarray:
    """The central star's PSF colours and brightness measured on its own ugriz cutouts.

    images: (N, 5, H, W) ugriz in nanomaggies per pixel. Returns (N, 5) in mag:
    u−g, g−r, r−i, i−z and r.
    """
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[1] != 5:
        raise ValueError(f"psf_colours needs the 5 ugriz bands as (N, 5, H, W), got shape {images.shape}")
    mags = magnitudes(psf_flux(images, fwhm_arcsec))
    return np.c_[mags[:, :4] - mags[:, 1:], mags[:, 2]]
