"""`manage.py ingest`: files, directories and globs; each bad file reported once; nothing half-written."""
from io import StringIO

import numpy as np
import pytest
from astropy.io import fits
from django.core.management import call_command

from catalog.ingest.apogee import write_aspcapstar
from catalog.ingest.gaia_rvs import write_gaia_rvs
from catalog.ingest.images import write_cutout
from catalog.ingest.sdss import write_sdss_spec
from catalog.models import Image, Spectrum, Star
from ml.synth.bhb import bhb_sample

pytestmark = pytest.mark.django_db


def ingest(*args):
    out, err = StringIO(), StringIO()
    try:
        call_command("ingest", *map(str, args), "--no-progress", stdout=out, stderr=err)
        code = 0
    except SystemExit as exit:
        code = exit.code
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def good_dir(tmp_path):
    folder = tmp_path / "good"
    folder.mkdir()
    sample = bhb_sample(2, 1, np.random.default_rng(0))
    for k, fiber in enumerate((11, 12, 13)):
        write_sdss_spec(folder / f"spec-0300-51600-{fiber:04d}.fits", 300, 51600, fiber, 10.0 + k, 1.0, sample.flux[k], sample.error[k])
        write_cutout(folder / f"img-0300-51600-{fiber:04d}.fits", 300, 51600, fiber, 10.0 + k, 1.0, sample.images[k])
    flux = np.ones(7214, dtype=np.float32) * 0.98
    write_aspcapstar(folder / "aspcapStar-x-2M00000002+0000002.fits", "2M00000002+0000002", 5.0, 5.0, flux, None)
    write_gaia_rvs(folder / "rvs.ecsv", [101, 102], np.ones((2, 2401)), None, ra=[1.0, 2.0], dec=[0.0, 0.0])
    (folder / "labels.csv").write_text("designation,teff\nx,4000\n")  # not a spectrum file: ignored in a scan
    return folder


def test_directory_ingest_and_idempotent_rerun(good_dir):
    code, out, err = ingest(good_dir)
    assert code == 0, out + err
    assert "8 ingested (6 spectra, 3 images)" in out
    assert Spectrum.objects.count() == 6 and Image.objects.count() == 3
    sdss_star = Star.objects.get(sdss_plate=300, sdss_mjd=51600, sdss_fiber=12)
    assert sdss_star.spectra.count() == 1 and sdss_star.images.count() == 1  # the cutout joined its star
    code, out, _ = ingest(good_dir)
    assert code == 0 and "0 ingested" in out and "8 skipped" in out
    assert Spectrum.objects.count() == 6  # nothing twice


def test_globs(good_dir):
    code, out, _ = ingest(good_dir / "spec-*.fits")
    assert code == 0 and "3 ingested (3 spectra, 0 images)" in out


def _bad_files(folder):
    sample = bhb_sample(1, 0, np.random.default_rng(1), with_images=False)
    good = write_sdss_spec(folder / "spec-0400-51700-0001.fits", 400, 51700, 1, 1.0, 1.0, sample.flux[0], sample.error[0])
    data = good.read_bytes()
    (folder / "spec-0400-51700-0002.fits").write_bytes(data[: len(data) // 2])  # truncated
    (folder / "spec-0400-51700-0003.fits").write_bytes(b"SIMPLE  = this is not fits" * 50)  # corrupt
    (folder / "spec-0400-51700-0004.fits").write_bytes(b"")  # empty
    nan_flux = sample.flux[0].copy()
    nan_flux[100] = np.nan
    write_sdss_spec(folder / "spec-0400-51700-0005.fits", 400, 51700, 5, 1.0, 1.0, nan_flux, sample.error[0])
    fits.HDUList([fits.PrimaryHDU(np.zeros(10))]).writeto(folder / "spec-0400-51700-0006.fits")  # wrong layout
    write_aspcapstar(folder / "aspcapStar-x-2M3.fits", "2M3", 1.0, 1.0, np.ones(7214), None)
    with fits.open(folder / "aspcapStar-x-2M3.fits") as hdus:  # wrong length: 7000 pixels
        fits.HDUList([hdus[0].copy(), fits.ImageHDU(np.ones(7000)), fits.ImageHDU(np.ones(7000))]).writeto(folder / "aspcapStar-x-2M4.fits")
    (folder / "aspcapStar-x-2M3.fits").unlink()
    (folder / "rvs_bad.csv").write_text('source_id,fluxes,flux_error\n1,"(1,2)","(1,2)"\n')  # unknown columns
    import shutil

    shutil.copy(good, folder / "copy-of-spec.fits")  # duplicate of the same star's spectrum, other file name
    return good


def test_every_bad_file_is_reported_once_and_the_run_goes_on(tmp_path):
    folder = tmp_path / "mixed"
    folder.mkdir()
    _bad_files(folder)
    code, out, err = ingest(folder / "*")
    assert code == 1, out + err  # some failed, some ingested
    reasons = {line.split(":", 1)[0].split("/")[-1]: line for line in err.splitlines() if line.startswith(("FAILED", "skipped"))}
    assert "truncated" in reasons["spec-0400-51700-0002.fits"] or "FITS" in reasons["spec-0400-51700-0002.fits"]
    assert "not a FITS file" in reasons["spec-0400-51700-0003.fits"]
    assert "empty file" in reasons["spec-0400-51700-0004.fits"]
    assert "NaN/inf" in reasons["spec-0400-51700-0005.fits"]
    assert "COADD" in reasons["spec-0400-51700-0006.fits"]
    assert "7000 pixels" in reasons["aspcapStar-x-2M4.fits"]
    assert "missing column(s) flux" in reasons["rvs_bad.csv"]
    assert sum(line.startswith(("FAILED", "skipped")) for line in err.splitlines()) == 8  # once each
    assert "1 ingested" in out and "7 failed" in out
    assert Spectrum.objects.count() == 1


def test_duplicate_spectrum_from_another_file_is_skipped_with_a_reason(tmp_path):
    folder = tmp_path / "dup"
    folder.mkdir()
    sample = bhb_sample(1, 0, np.random.default_rng(2), with_images=False)
    write_sdss_spec(folder / "spec-0500-51800-0001.fits", 500, 51800, 1, 1.0, 1.0, sample.flux[0], sample.error[0])
    write_sdss_spec(folder / "spec-0500-51800-0001-reprocessed.fits", 500, 51800, 1, 1.0, 1.0, sample.flux[0] * 1.01, sample.error[0])
    code, out, err = ingest(folder)
    assert code == 0
    assert "duplicate" in err and "1 skipped" in out
    assert Spectrum.objects.count() == 1


def test_a_file_with_one_bad_row_stores_nothing(tmp_path):
    flux = np.ones((3, 2401))
    flux[2, 50] = np.inf
    path = write_gaia_rvs(tmp_path / "rvs.ecsv", [1, 2, 3], flux, None, ra=[1.0, 2.0, 3.0], dec=[0.0, 0.0, 0.0])
    code, _, err = ingest(path)
    assert code == 2
    assert "row 2 (source_id 3)" in err
    assert Spectrum.objects.count() == 0 and Star.objects.count() == 0  # rows 0 and 1 were not kept


def test_nothing_found_is_exit_code_2(tmp_path):
    code, out, err = ingest(tmp_path / "no-such-dir")
    assert code == 2 and "no such file" in err


def test_explicit_format(tmp_path, good_dir):
    code, out, err = ingest("--format", "image", good_dir / "spec-0300-51600-0011.fits")
    assert code == 2 and "FAILED" in err


def test_an_unforeseen_reader_error_fails_that_file_only(tmp_path, good_dir, monkeypatch):
    from catalog.ingest import detect

    original = detect.READERS["image"]

    def broken(path):
        if path.name.endswith("0012.fits"):
            raise ZeroDivisionError("simulated bug in a reader")
        return original(path)

    monkeypatch.setitem(detect.READERS, "image", broken)  # in this process: read here, not in reader processes
    code, out, err = ingest("--jobs", "1", *sorted(good_dir.glob("img-*.fits")))
    assert code == 1
    assert "unexpected error (ZeroDivisionError: simulated bug in a reader)" in err
    assert "2 ingested" in out and Image.objects.count() == 2
