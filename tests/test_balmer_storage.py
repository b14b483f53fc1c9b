"""Every SDSS spectrum carries its Balmer-line measurement (D0.2, fm, c, b; Xue et al. 2008): stored
with the spectrum on ingest, filled for older spectra by ``measure_balmer``, read by the star page,
the BHB candidates (web, CSV, API) and the star API."""
from io import StringIO

import numpy as np
import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction

from catalog import selectors, services
from catalog.arrays import array_to_bytes
from catalog.ingest.generate import write_bhb_files
from catalog.models import BalmerLines, Spectrum
from ml.balmer import measure, xue_cuts
from ml.synth.bhb import bhb_sample
from tests.factories import BHBScoreFactory, ModelVersionFactory, SpectrumFactory, toy_grid

pytestmark = pytest.mark.django_db


@pytest.fixture
def sdss_files(tmp_path):
    write_bhb_files(out_dir=tmp_path, n_bhb=3, n_other=3, seed=4, with_images=False)
    return tmp_path


def _old_sdss_spectra(n: int) -> list[Spectrum]:
    """SDSS spectra stored without a measurement, as before the catalog measured them on ingest."""
    sdss = services.survey_ensure(code="sdss")
    sample = bhb_sample(n, 0, np.random.default_rng(5), with_images=False)
    return [SpectrumFactory(survey=sdss, flux=array_to_bytes(flux), error=array_to_bytes(error))
            for flux, error in zip(sample.flux, sample.error)]


def test_ingest_measures_every_sdss_spectrum_as_ml_balmer_does(sdss_files):
    report = services.ingest_paths(paths=[str(sdss_files)])
    assert report.n_spectra == 6 and BalmerLines.objects.count() == 6
    for spectrum in Spectrum.objects.select_related("survey", "balmer"):
        expected = measure(spectrum.survey.wavelength_array, spectrum.flux_array, spectrum.error_array)
        stored = spectrum.balmer
        assert (stored.d02, stored.fm, stored.c, stored.b) == pytest.approx((expected.d02, expected.fm, expected.c, expected.b))
        assert stored.converged == expected.ok and stored.xue_bhb == xue_cuts(expected) and stored.problem == ""
    assert BalmerLines.objects.filter(d02__gt=15, d02__lt=45).count() == 6  # A-star Hδ widths, not nonsense


def test_a_file_whose_measurement_fails_is_stored_not_at_all(sdss_files, monkeypatch):
    def broken(*args):
        raise RuntimeError("fit exploded")

    monkeypatch.setattr("catalog.balmer.balmer_values", broken)
    report = services.ingest_paths(paths=[str(sdss_files)])
    assert report.count("failed") == 6 and "fit exploded" in report.outcomes[0].reason
    assert Spectrum.objects.count() == 0 and BalmerLines.objects.count() == 0


def test_measure_balmer_fills_older_spectra_once_and_records_what_cannot_be_measured():
    spectra = _old_sdss_spectra(5)
    flat = SpectrumFactory(survey=spectra[0].survey, flux=array_to_bytes(np.zeros(3522)), error=None)
    toy_grid(n_groups=1, per_group=3)  # APOGEE: no Balmer lines to measure
    out = StringIO()
    call_command("measure_balmer", "--no-progress", "--batch-size", "2", stdout=out, stderr=StringIO())
    assert "measured the Balmer lines of 6 SDSS spectra" in out.getvalue()
    assert BalmerLines.objects.count() == 6 and not selectors.balmer_lines_unmeasured().exists()
    failed = BalmerLines.objects.get(spectrum=flat)
    assert failed.d02 is None and failed.xue_bhb is None and "continuum" in failed.problem
    assert BalmerLines.objects.exclude(spectrum=flat).filter(problem="", d02__gt=0).count() == 5
    stamps = dict(BalmerLines.objects.values_list("spectrum_id", "measured_at"))
    again = StringIO()
    call_command("measure_balmer", "--no-progress", stdout=again)
    assert "already has its Balmer lines measured" in again.getvalue()
    assert dict(BalmerLines.objects.values_list("spectrum_id", "measured_at")) == stamps


def test_measure_balmer_refuses_a_batch_size_below_one():
    with pytest.raises(CommandError, match="--batch-size must be at least 1"):
        call_command("measure_balmer", "--batch-size", "0", stdout=StringIO())


def test_the_star_page_reads_the_stored_measurement_and_a_read_never_writes(client):
    measured, unmeasured = _old_sdss_spectra(2)
    services.balmer_lines_fill()
    BalmerLines.objects.filter(spectrum=measured).update(d02=77.7, xue_bhb=False)
    BalmerLines.objects.filter(spectrum=unmeasured).delete()
    page = client.get(f"/stars/{measured.star_id}/").content.decode()
    assert "D<sub>0.2</sub> 77.7 Å" in page and "<strong>not BHB</strong>" in page  # the row, not a new fit
    page = client.get(f"/stars/{unmeasured.star_id}/").content.decode()
    assert 'id="balmer"' in page and "D<sub>0.2</sub> 77.7" not in page  # measured for the page...
    assert not BalmerLines.objects.filter(spectrum=unmeasured).exists()  # ...and not stored by a GET


def test_bhb_candidates_carry_the_balmer_lines_in_the_table_csv_and_api(client):
    version = ModelVersionFactory(kind="bhb", state="active")
    (spectrum,) = _old_sdss_spectra(1)
    services.balmer_lines_fill()
    BalmerLines.objects.filter(spectrum=spectrum).update(d02=24.5, fm=0.21, xue_bhb=True)
    BHBScoreFactory(model_version=version, star=spectrum.star, score=0.9)
    unmeasured = BHBScoreFactory(model_version=version, score=0.8)  # a star without an SDSS spectrum
    page = client.get("/bhb/").content.decode()
    assert "<td class=\"num\">24.5</td><td class=\"num\">0.210</td>" in page and "<td>BHB</td>" in page
    assert "<td>—</td>" in page
    csv = client.get("/bhb/", {"format": "csv"}).content.decode().splitlines()
    assert csv[0].endswith(",d02,fm,c,b,xue_bhb") and csv[1].split(",")[5:7] == ["24.5", "0.21"]
    assert csv[1].endswith(",True")
    rows = client.get("/api/bhb-candidates/").json()["results"]
    assert (rows[0]["d02"], rows[0]["fm"], rows[0]["xue_bhb"]) == (24.5, 0.21, True)
    assert rows[1]["star_id"] == unmeasured.star_id and rows[1]["d02"] is None and rows[1]["xue_bhb"] is None


def test_the_star_api_lists_each_spectrums_balmer_lines(client):
    (spectrum,) = _old_sdss_spectra(1)
    services.balmer_lines_fill()
    detail = client.get(f"/api/stars/{spectrum.star_id}/").json()
    (listed,) = detail["spectra"]
    stored = BalmerLines.objects.get(spectrum=spectrum)
    assert listed["balmer"]["d02"] == pytest.approx(stored.d02) and listed["balmer"]["xue_bhb"] == stored.xue_bhb
    (apogee,) = toy_grid(n_groups=1, per_group=1)
    assert client.get(f"/api/stars/{apogee.star_id}/").json()["spectra"][0]["balmer"] is None


def test_the_admin_lists_measurements_read_only(admin_client):
    (spectrum,) = _old_sdss_spectra(1)
    services.balmer_lines_fill()
    listing = admin_client.get("/admin/catalog/balmerlines/", {"xue_bhb__exact": "1" if spectrum.balmer.xue_bhb else "0"})
    assert listing.status_code == 200 and spectrum.star.designation in listing.content.decode()
    assert admin_client.get("/admin/catalog/balmerlines/add/").status_code == 403


def test_the_database_refuses_values_beside_a_problem():
    (spectrum,) = _old_sdss_spectra(1)
    with pytest.raises(IntegrityError, match="balmer_problem_means_no_values"), transaction.atomic():
        BalmerLines.objects.create(spectrum=spectrum, d02=25.0, problem="not covered")
    assert not BalmerLines.objects.exists()
