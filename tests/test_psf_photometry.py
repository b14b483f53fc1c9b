"""Forced PSF photometry recovers the flux and colours of a centred point source."""
import numpy as np
import pytest

from ml.photometry import magnitudes, psf_colours, psf_flux
from ml.synth.bhb import PSF_FWHM, bhb_sample


def _point_source(flux_per_band, fwhm_arcsec, size=64, scale=0.396):
    sigma = np.asarray(fwhm_arcsec) / 2.3548 / scale
    y, x = np.mgrid[0:size, 0:size]
    r2 = (y - (size - 1) / 2) ** 2 + (x - (size - 1) / 2) ** 2
    psf = np.exp(-0.5 * r2[None] / sigma[:, None, None] ** 2) / (2 * np.pi * sigma[:, None, None] ** 2)
    return np.asarray(flux_per_band)[:, None, None] * psf


def test_noise_free_point_source_flux_is_recovered_per_band():
    flux = np.array([3.0, 10.0, 12.0, 13.0, 14.0])
    image = _point_source(flux, PSF_FWHM)[None]
    assert psf_flux(image, PSF_FWHM) == pytest.approx(flux[None], rel=1e-3)


def test_the_psf_width_matters():
    image = _point_source([10.0] * 5, PSF_FWHM)[None]
    # matched filter twice too wide: Σ P₁P₂ / Σ P₂² = 2σ₂² / (σ₁² + σ₂²) = 1.6
    assert psf_flux(image, 2 * PSF_FWHM) == pytest.approx(np.full((1, 5), 16.0), rel=1e-2)


def test_generated_cutouts_give_back_their_colours():
    sample = bhb_sample(40, 0, np.random.default_rng(3))
    bright = sample.g_mag < 17.5
    mags = magnitudes(psf_flux(sample.images, PSF_FWHM))
    g_r = mags[:, 1] - mags[:, 2]
    assert np.median(np.abs(g_r - sample.g_r)[bright]) < 0.05


def test_non_detections_are_floored_and_bad_shapes_refused():
    assert magnitudes(np.array([-1.0, 1.0])) == pytest.approx([22.5 + 7.5, 22.5])
    with pytest.raises(ValueError, match="bands, height, width"):
        psf_flux(np.zeros((5, 64, 64)), 1.4)


def test_psf_colours_are_the_differences_of_psf_magnitudes():
    flux = np.array([2.0, 10.0, 12.0, 13.0, 14.0])  # nanomaggies
    colours = psf_colours(_point_source(flux, PSF_FWHM)[None])
    mags = 22.5 - 2.5 * np.log10(flux)
    expected = [mags[0] - mags[1], mags[1] - mags[2], mags[2] - mags[3], mags[3] - mags[4], mags[2]]
    assert colours == pytest.approx(np.array([expected]), abs=2e-3)


def test_psf_colours_need_five_bands():
    with pytest.raises(ValueError, match="5 ugriz bands"):
        psf_colours(np.ones((2, 3, 16, 16)))


def test_chunked_photometry_equals_one_pass():
    images = bhb_sample(7, 0, np.random.default_rng(5)).images.astype(np.float32)
    np.testing.assert_allclose(psf_flux(images, PSF_FWHM, chunk=3), psf_flux(images, PSF_FWHM, chunk=100), rtol=1e-12)
