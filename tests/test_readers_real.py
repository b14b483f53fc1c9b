"""The readers on the real files in shared/data."""
import numpy as np
import pytest

from catalog.ingest.apogee import read_apstar
from catalog.ingest.detect import detect_format
from catalog.ingest.labels import load_mapping, read_catalogue, read_table
from catalog.ingest.records import BHBLabelRecord
from catalog.ingest.sdss import read_sdss_spec


def test_real_apstar_is_cut_to_7214_pixels_and_normalised(shared_data):
    path = shared_data / "apogee_spectra" / "apStar-dr17-2M17335483-2753043.fits"
    assert detect_format(path) == "apstar"
    (record,) = read_apstar(path)
    assert record.star.apogee_id == "2M17335483-2753043"
    assert record.star.ra == pytest.approx(263.4785, abs=1e-3) and record.star.dec == pytest.approx(-27.8845, abs=1e-3)
    assert record.flux.shape == (7214,) and record.error.shape == (7214,)
    assert 0.85 < np.median(record.flux) < 1.02  # continuum-normalised
    assert 0.98 < np.percentile(record.flux, 95) < 1.10  # raw flux would be ~10² (1e-17 erg/s/cm²/Å)
    assert record.snr == pytest.approx(154, rel=0.1)  # the header says S/N 154


def test_real_sdss_spec_is_put_on_the_4000_9000_grid(shared_data):
    path = shared_data / "sdss_spec_samples" / "spec-3586-55181-0500.fits"
    assert detect_format(path) == "sdss"
    (record,) = read_sdss_spec(path)
    assert (record.star.sdss_plate, record.star.sdss_mjd, record.star.sdss_fiber) == (3586, 55181, 500)
    assert record.star.designation == "SDSS 3586-55181-0500"
    assert record.flux.shape == (3522,)
    assert record.snr == pytest.approx(55, rel=0.15)  # SN_MEDIAN_ALL = 55
    assert np.all(np.isfinite(record.flux)) and np.all(record.error > 0)


def test_real_vizier_table_with_its_readme(shared_data):
    table = read_table(shared_data / "xue2011_bhb" / "table1.dat", "cds", str(shared_data / "xue2011_bhb" / "ReadMe_vizier.txt"))
    assert len(table) == 4985
    records = read_catalogue(shared_data / "xue2011_bhb" / "table1.dat", load_mapping("xue2011"))
    assert len(records) == 4985 and all(isinstance(r, BHBLabelRecord) and r.is_bhb for r in records)
    first = records[0].star
    assert (first.sdss_plate, first.sdss_mjd, first.sdss_fiber) == (3141, 55008, 498)
    assert first.ra == pytest.approx(331.047394)


def test_real_csv_catalogue_with_exclusions(shared_data):
    records = read_catalogue(shared_data / "xue2008_bs_mdanet" / "xue2008_bs_sdss.csv", load_mapping("xue2008_bs"))
    assert len(records) == 3173 - 45  # the 45 stars Xue 2011 calls BHB are left out
    assert not any(record.is_bhb for record in records)


def test_cannon_continuum_pixels_can_be_used_for_real_spectra(shared_data):
    from catalog.ingest import apogee

    with np.load(shared_data / "payne" / "cannon_cont_pixels_apogee.npz") as archive:
        apogee.set_continuum_pixels(archive["pixels_cannon"])
    try:
        (record,) = read_apstar(shared_data / "apogee_spectra" / "apStar-dr17-2M17335483-2753043.fits")
    finally:
        apogee.set_continuum_pixels(None)
    assert 0.85 < np.median(record.flux) < 1.02
    with pytest.raises(ValueError, match="7214"):
        apogee.set_continuum_pixels(np.ones(10, dtype=bool))
