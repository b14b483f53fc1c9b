"""Every writer produces a file that its reader reads back to the same spectrum or cutout."""
import numpy as np
import pytest

from catalog.ingest.apogee import read_apstar, read_aspcapstar, write_apstar, write_aspcapstar
from catalog.ingest.detect import detect_format
from catalog.ingest.gaia_rvs import read_gaia_rvs, write_gaia_rvs
from catalog.ingest.images import read_cutout, write_cutout
from catalog.ingest.sdss import read_sdss_spec, write_sdss_spec
from ml.synth.bhb import bhb_sample
from ml.synth.lines import ELEMENTS
from ml.synth.stellar import StellarSpectrumModel


@pytest.fixture(scope="module")
def apogee_flux():
    return StellarSpectrumModel("apogee")(np.array([4500.0]), np.array([2.0]), np.zeros((1, len(ELEMENTS))))[0]


def test_apstar_round_trip_recovers_the_normalised_spectrum(tmp_path, apogee_flux):
    path = write_apstar(tmp_path / "apStar-test-2M00000001+0000001.fits", "2M00000001+0000001", 10.0, -5.0, apogee_flux, None)
    assert detect_format(path) == "apstar"
    (record,) = read_apstar(path)
    assert record.star.apogee_id == "2M00000001+0000001" and record.star.ra == 10.0
    # The writer multiplied by an instrument-like continuum; the reader divides a fitted one out.
    assert np.median(np.abs(record.flux - apogee_flux)) < 0.01


def test_aspcapstar_round_trip_is_exact(tmp_path, apogee_flux):
    error = np.full_like(apogee_flux, 0.02)
    path = write_aspcapstar(tmp_path / "aspcapStar-x-2M1.fits", "2M1", 1.0, 2.0, apogee_flux, error, group=7)
    (record,) = read_aspcapstar(path)
    np.testing.assert_allclose(record.flux, apogee_flux, rtol=1e-6)
    np.testing.assert_allclose(record.error, error, rtol=1e-6)
    assert record.star.group == 7


def test_sdss_round_trip(tmp_path):
    sample = bhb_sample(1, 0, np.random.default_rng(0), with_images=False)
    path = write_sdss_spec(tmp_path / "spec-0266-51630-0015.fits", 266, 51630, 15, 146.9, -0.64, sample.flux[0], sample.error[0])
    (record,) = read_sdss_spec(path)
    assert record.star.designation == "SDSS 0266-51630-0015"
    np.testing.assert_allclose(record.flux, sample.flux[0], rtol=1e-6)
    np.testing.assert_allclose(record.error, sample.error[0], rtol=1e-4)


@pytest.mark.parametrize("suffix", ["csv", "ecsv", "vot"])
def test_gaia_rvs_round_trip(tmp_path, suffix):
    flux = StellarSpectrumModel("gaia_rvs")(np.array([4800.0, 5200.0]), np.array([2.5, 3.0]), np.zeros((2, len(ELEMENTS))))
    path = write_gaia_rvs(tmp_path / f"rvs.{suffix}", [11, 22], flux, None, ra=[1.0, 2.0], dec=[3.0, 4.0])
    records = read_gaia_rvs(path)
    assert [r.star.gaia_source_id for r in records] == [11, 22]
    assert records[0].star.designation == "Gaia DR3 11"
    np.testing.assert_allclose(records[1].flux, flux[1], rtol=1e-5)


@pytest.mark.parametrize("layout", ["hdus", "cube"])
def test_cutout_round_trip(tmp_path, layout):
    cube = np.random.default_rng(0).normal(size=(5, 16, 16)).astype(np.float32)
    path = write_cutout(tmp_path / "img-0266-51630-0015.fits", 266, 51630, 15, 146.9, -0.64, cube, layout=layout)
    assert detect_format(path) == "image"
    (record,) = read_cutout(path)
    np.testing.assert_array_equal(record.cube, cube)
    assert record.pixel_scale == pytest.approx(0.396)
    assert record.star.sdss_fiber == 15
