"""Spectra as files: FITS and ECSV from /api/stars/{id}/spectrum/?format=…, read back by astropy and
specutils, and the twins' spectra as a .tar.gz."""
import io
import tarfile
import warnings

import numpy as np
import pytest
from astropy.io import fits
from astropy.table import Table

from catalog.arrays import array_to_bytes
from portal.spectrum_files import COLUMN_MAPPING
from tests.factories import SpectrumFactory, StarFactory, SurveyFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def sdss_star():
    """An SDSS spectrum in a physical flux unit with two bad pixels: a NaN flux and a zero error."""
    survey = SurveyFactory(code="sdss", name="SDSS", resolution=2000.0, flux_unit="1e-17 erg/s/cm2/Å", n_pixels=50,
                           wavelength=array_to_bytes(np.geomspace(4000.0, 4100.0, 50)))
    flux, error = np.linspace(10.0, 20.0, 50), np.full(50, 0.5)
    flux[7], error[11] = np.nan, 0.0
    star = StarFactory(designation="SDSS J001122.33+445566.7", ra=2.84, dec=44.93, gaia_source_id=4295806720123456789,
                       sdss_plate=266, sdss_mjd=51630, sdss_fiber=15)
    spectrum = SpectrumFactory(star=star, survey=survey, flux=array_to_bytes(flux), error=array_to_bytes(error),
                               source_file="/data/spec-0266-51630-0015.fits", source_sha256="ab" * 32, snr=21.5)
    return star, spectrum, flux, error


def _read_specutils(content: bytes, suffix: str, tmp_path, **kwargs):
    from specutils import Spectrum1D

    path = tmp_path / f"spectrum.{suffix}"
    path.write_bytes(content)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Spectrum1D's rename to Spectrum
        return Spectrum1D.read(str(path), **kwargs)


def test_fits_download_reads_back_in_astropy_and_specutils(client, sdss_star, tmp_path):
    star, spectrum, flux, error = sdss_star
    response = client.get(f"/api/stars/{star.pk}/spectrum/", {"format": "fits"})
    assert response.status_code == 200 and response["Content-Type"] == "application/fits"
    assert response["Content-Disposition"] == (
        f'attachment; filename="doppel-SDSS_J001122.33+445566.7-sdss-{spectrum.pk}.fits"')
    with fits.open(io.BytesIO(response.content), checksum=True) as hdus:
        header = hdus["SPECTRUM"].header
        assert header["OBJECT"] == star.designation and header["AIRORVAC"] == "vac" and header["SPEC_ID"] == spectrum.pk
        assert header["GAIA_ID"] == 4295806720123456789 and header["SDSS_ID"] == "266-51630-15"
        assert header["SRCFILE"] == "spec-0266-51630-0015.fits" and header["SRCSHA"] == "ab" * 32
        assert hdus[0].header["OBJECT"] == star.designation
    table = Table.read(io.BytesIO(response.content), hdu=1)
    assert str(table["wavelength"].unit) == "Angstrom" and table["flux"].unit == table["error"].unit
    np.testing.assert_allclose(table["wavelength"], np.geomspace(4000.0, 4100.0, 50), rtol=1e-6)
    assert list(np.flatnonzero(table["mask"])) == [7, 11]

    read = _read_specutils(response.content, "fits", tmp_path)
    assert read.spectral_axis.unit.to_string() == "Angstrom" and len(read.flux) == 50
    assert read.flux.unit.is_equivalent("erg / (s cm2 Angstrom)")
    # the physical value survives the 1e-17 scale, whichever way specutils keeps it
    np.testing.assert_allclose(read.flux[0].to_value("erg / (s cm2 Angstrom)"), 1e-16, rtol=1e-6)
    np.testing.assert_allclose(read.uncertainty.quantity[0].to_value("erg / (s cm2 Angstrom)"), 5e-18, rtol=1e-6)
    assert list(np.flatnonzero(read.mask)) == [7, 11]


def test_ecsv_download_carries_its_provenance(client, sdss_star, tmp_path):
    star, spectrum, flux, _ = sdss_star
    response = client.get(f"/api/stars/{star.pk}/spectrum/", {"format": "ecsv"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/x-ecsv")
    table = Table.read(response.content.decode(), format="ascii.ecsv")
    assert table.meta["OBJECT"] == star.designation and table.meta["SURVEY"] == "sdss"
    np.testing.assert_allclose(table["flux"][:5], flux[:5], rtol=1e-6)
    read = _read_specutils(response.content, "ecsv", tmp_path)
    assert len(read.flux) == 50 and list(np.flatnonzero(read.mask)) == [7, 11]


def test_a_normalised_spectrum_reads_with_the_documented_column_mapping(client, tmp_path):
    spectrum = SpectrumFactory()  # APOGEE-like, flux "normalised"
    content = client.get(f"/api/stars/{spectrum.star.pk}/spectrum/", {"format": "fits"}).content
    table = Table.read(io.BytesIO(content), hdu=1)
    assert table["flux"].unit is None and table.meta["FLUXUNIT"] == "normalised"  # FITS writes no unit for 1
    read = _read_specutils(content, "fits", tmp_path, format="tabular-fits", column_mapping=COLUMN_MAPPING)
    assert len(read.flux) == 64 and read.uncertainty is not None and read.spectral_axis.unit.to_string() == "Angstrom"


def test_the_json_spectrum_links_its_files_and_nulls_bad_pixels(client, sdss_star):
    star = sdss_star[0]
    body = client.get(f"/api/stars/{star.pk}/spectrum/").json()
    assert body["air_or_vacuum"] == "vacuum" and set(body["files"]) == {"fits", "ecsv"}
    assert body["flux"][7] is None and body["flux"][6] == pytest.approx(10 + 6 * 10 / 49)  # a NaN pixel is null
    assert client.get(body["files"]["fits"]).content.startswith(b"SIMPLE  =")


def test_a_missing_survey_in_fits_format_is_a_400_in_json(client, sdss_star):
    response = client.get(f"/api/stars/{sdss_star[0].pk}/spectrum/", {"format": "fits", "survey": "apogee"})
    assert response.status_code == 400 and response["Content-Type"] == "application/json"
    assert "no spectrum from that survey" in str(response.json()["error"]["detail"])


def test_twins_spectra_tarball(client, active_disentangler):
    star = active_disentangler[1][0].star
    response = client.get(f"/api/stars/{star.pk}/twins/spectra/", {"k": 3})
    assert response.status_code == 200 and response["Content-Type"] == "application/gzip"
    twins = client.get(f"/api/stars/{star.pk}/twins/", {"k": 3}).json()["twins"]
    with tarfile.open(fileobj=io.BytesIO(response.content)) as tar:
        names = tar.getnames()
        index = Table.read(tar.extractfile("twins.ecsv").read().decode(), format="ascii.ecsv")
        first = Table.read(io.BytesIO(tar.extractfile(names[0]).read()), hdu=1)
    assert len(names) == 5 and names[-1] == "twins.ecsv" and all(n.endswith(".fits") for n in names[:-1])
    assert list(index["designation"]) == [star.designation] + [t["designation"] for t in twins]
    assert list(index["file"]) == names[:-1] and np.isnan(index["distance"][0])
    np.testing.assert_allclose(index["distance"][1:], [t["distance"] for t in twins], rtol=1e-6)
    assert len(first) == 64 and first.meta["OBJECT"] == star.designation


def test_twins_spectra_as_ecsv_and_bad_parameters(client, active_disentangler):
    star = active_disentangler[1][0].star
    response = client.get(f"/api/stars/{star.pk}/twins/spectra/", {"k": 2, "files": "ecsv"})
    with tarfile.open(fileobj=io.BytesIO(response.content)) as tar:
        assert sum(name.endswith(".ecsv") for name in tar.getnames()) == 4
    bad = client.get(f"/api/stars/{star.pk}/twins/spectra/", {"files": "hdf5"})
    assert bad.status_code == 400 and "use fits or ecsv" in str(bad.json()["error"]["detail"])
    assert client.get(f"/api/stars/{star.pk}/twins/spectra/", {"k": 0}).status_code == 400


def test_twins_spectra_without_an_active_model_is_409(client):
    star = StarFactory()
    response = client.get(f"/api/stars/{star.pk}/twins/spectra/")
    assert response.status_code == 409 and "no disentangler is active" in response.json()["error"]["detail"]


def test_the_star_and_twins_pages_link_the_files(client, active_disentangler):
    star = active_disentangler[1][0].star
    page = client.get(f"/stars/{star.pk}/").content.decode()
    assert f"/api/stars/{star.pk}/spectrum/?survey=apogee&amp;format=fits" in page
    twins_page = client.get(f"/stars/{star.pk}/twins/", {"k": 3}).content.decode()
    assert f"/api/stars/{star.pk}/twins/spectra/?k=3" in twins_page
