"""A spectrum whose 1σ error is the same at every pixel (a grid at one S/N) stores that error once,
and every reader still gets one error per pixel: the model, the grid load, the Balmer fill and the
spectrum download. An error that varies is stored per pixel, unchanged."""
import io

import numpy as np
import pytest
from astropy.table import Table
from django.db import connection

from catalog import services
from catalog.balmer import balmer_lines_measure
from catalog.arrays import array_to_bytes, bytes_to_error, error_to_bytes
from catalog.models import BalmerLines, Spectrum
from ml.synth.gridbuilder import GridBatch
from tests.factories import SpectrumFactory, SurveyFactory

pytestmark = pytest.mark.django_db


def _stored_error_bytes(spectrum_id: int) -> int | None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT octet_length(error) FROM catalog_spectrum WHERE id = %s", [spectrum_id])
        return cursor.fetchone()[0]


def test_one_error_for_every_pixel_is_stored_once_and_read_per_pixel():
    assert error_to_bytes(np.full(7214, 0.02)) == np.float32(0.02).tobytes()
    assert error_to_bytes(None) is None
    varying = np.linspace(0.01, 0.03, 7214)
    np.testing.assert_array_equal(bytes_to_error(error_to_bytes(varying), 7214), varying.astype(np.float32))
    np.testing.assert_array_equal(bytes_to_error(error_to_bytes(np.full(7214, 0.02)), 7214), np.full(7214, 0.02, np.float32))
    assert bytes_to_error(None, 7214) is None
    with pytest.raises(ValueError, match="3 stored error values for a spectrum of 7214 pixels"):
        bytes_to_error(array_to_bytes([0.1, 0.2, 0.3]), 7214)


def test_a_grid_at_one_snr_stores_four_bytes_of_error_and_a_noisy_row_its_array():
    rng = np.random.default_rng(0)
    flux = rng.normal(1.0, 0.02, (3, 7214)).astype(np.float32)
    error = np.full_like(flux, 0.02)
    error[2, 100] = 0.5  # one spectrum with a bad pixel: its error is an array again
    batch = GridBatch(designation=["U-0", "U-1", "U-2"], group=np.zeros(3, int), ra=np.zeros(3), dec=np.zeros(3),
                      labels={"teff": np.full(3, 4500.0), "logg": np.full(3, 2.0), "fe_h": np.zeros(3),
                              "alpha_fe": np.zeros(3)}, flux=flux, error=error, snr=50.0)
    assert services.grid_load(batches=[batch], survey_code="apogee") == 3
    spectra = {s.star.designation: s for s in Spectrum.objects.select_related("star")}
    assert _stored_error_bytes(spectra["U-0"].pk) == 4 and _stored_error_bytes(spectra["U-2"].pk) == 7214 * 4
    for k, name in enumerate(["U-0", "U-1", "U-2"]):
        np.testing.assert_array_equal(spectra[name].error_array, error[k])
        np.testing.assert_array_equal(spectra[name].flux_array, flux[k])


def test_set_arrays_stores_a_uniform_error_once():
    spectrum = SpectrumFactory()
    spectrum.set_arrays(np.ones(40), np.full(40, 0.1))
    spectrum.save()
    assert _stored_error_bytes(spectrum.pk) == 4
    np.testing.assert_array_equal(Spectrum.objects.get(pk=spectrum.pk).error_array, np.full(40, 0.1, np.float32))


def test_balmer_fill_and_download_read_a_uniform_error_per_pixel(client):
    wavelength = np.linspace(3800.0, 4500.0, 700)
    sdss = SurveyFactory(code="sdss", n_pixels=700, wavelength=array_to_bytes(wavelength), flux_unit="1e-17 erg/s/cm2/Å")
    flux = 1.0 - 0.5 * np.exp(-0.5 * ((wavelength - 4101.7) / 8.0) ** 2)
    spectrum = SpectrumFactory(survey=sdss, flux=array_to_bytes(flux), error=error_to_bytes(np.full(700, 0.05)))
    assert _stored_error_bytes(spectrum.pk) == 4
    assert services.balmer_lines_fill() == 1
    stored = BalmerLines.objects.get(spectrum=spectrum)
    direct = balmer_lines_measure(spectrum_id=spectrum.pk, wavelength=sdss.wavelength_array, flux=flux.astype(np.float32),
                                  error=np.full(700, 0.05, np.float32))
    assert stored.problem == direct.problem == ""
    assert (stored.d02, stored.fm) == pytest.approx((direct.d02, direct.fm), rel=1e-6)
    response = client.get(f"/api/stars/{spectrum.star_id}/spectrum/", {"format": "fits"})
    assert response.status_code == 200
    table = Table.read(io.BytesIO(response.content), hdu=1)
    assert len(table["error"]) == 700
    np.testing.assert_allclose(table["error"], 0.05, rtol=1e-6)
