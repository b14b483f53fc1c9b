"""The apStar pixel bitmask (HDU3): flagged pixels leave the continuum fit, are recorded with the
masked error, and are filled from their neighbours, so a sky-line spike never reaches the latent."""
import numpy as np
import pytest

from catalog.ingest.apogee import MASKED_BITS, MASKED_ERROR_FACTOR, read_apstar, write_apstar

SKYLINE = 1 << 12
LITTROW_GHOST = 1 << 8  # flagged by APOGEE, but harmless: not in MASKED_BITS


def spectrum():
    pixels = np.arange(7214)
    flux = 1.0 - 0.3 * np.exp(-0.5 * ((pixels % 400 - 200) / 3.0) ** 2)  # a line every 400 pixels
    return flux


def test_a_flagged_sky_spike_is_filled_and_recorded(tmp_path):
    flux = spectrum()
    spiked = flux.copy()
    spiked[1100:1104] = 1.65  # a sky-line residual
    bitmask = np.zeros(7214, dtype=np.int64)
    bitmask[1100:1104] = SKYLINE
    bitmask[3000] = LITTROW_GHOST
    (record,) = read_apstar(write_apstar(tmp_path / "apStar-flagged.fits", "2M0", 10.0, 20.0, spiked, None,
                                         bitmask=bitmask))
    assert record.flux[1100:1104] == pytest.approx(flux[1100:1104], abs=0.01)  # interpolated, no spike
    median_error = np.median(record.error)
    assert (record.error[1100:1104] > 1e5 * median_error).all()  # recorded as masked
    assert record.error[3000] < 10 * median_error  # a bit the product does not mask is left alone
    assert np.max(record.flux) < 1.05


def test_the_same_spike_unflagged_stays(tmp_path):
    """The contrast: without the flag the reader has no reason to touch the pixels."""
    spiked = spectrum()
    spiked[1100:1104] = 1.65
    (record,) = read_apstar(write_apstar(tmp_path / "apStar-unflagged.fits", "2M0", 10.0, 20.0, spiked, None))
    assert record.flux[1100:1104] == pytest.approx(1.65, abs=0.02)


def test_an_all_flagged_spectrum_is_refused(tmp_path):
    from catalog.ingest.records import BadInput

    path = write_apstar(tmp_path / "apStar-dead.fits", "2M0", 10.0, 20.0, spectrum(), None,
                        bitmask=np.full(7214, 1, dtype=np.int64))
    with pytest.raises(BadInput, match="every pixel is flagged"):
        read_apstar(path)


def test_the_real_apstar_masks_its_flagged_pixels(shared_data):
    from astropy.io import fits

    from ml.surveys import apogee_pixel_index

    path = shared_data / "apogee_spectra" / "apStar-dr17-2M17335483-2753043.fits"
    with fits.open(path) as hdus:
        flagged = (hdus[3].data[0][apogee_pixel_index()].astype(np.int64) & MASKED_BITS) != 0
    (record,) = read_apstar(path)
    assert flagged.sum() > 50  # sky lines, tellurics and persistence are flagged in this DR17 file
    assert (record.error[flagged] >= MASKED_ERROR_FACTOR * np.median(record.error[~flagged]) * 0.999).all()
    assert np.max(record.flux) < 1.3  # no spike left (sky residuals reach well above the continuum)
    assert np.isfinite(record.flux).all()
