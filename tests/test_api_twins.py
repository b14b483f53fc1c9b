"""/api/stars/{id}/twins and POST /api/twins/ (an uploaded FITS spectrum)."""
import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from catalog.ingest.apogee import write_aspcapstar
from tests.conftest import build_active_disentangler

pytestmark = pytest.mark.django_db


def test_twins_of_a_star(client, active_disentangler):
    version, spectra = active_disentangler
    star = spectra[0].star
    body = client.get(f"/api/stars/{star.pk}/twins/", {"k": 5}).json()
    assert body["model_version"] == version.pk and body["count"] == 5 and len(body["latent"]) == 25
    distances = [row["distance"] for row in body["twins"]]
    assert distances == sorted(distances) and star.designation not in [r["designation"] for r in body["twins"]]
    narrow = client.get(f"/api/stars/{star.pk}/twins/", {"k": 5, "teff_min": 4000, "teff_max": 4500}).json()
    assert narrow["plan"] == "exact" and all(4000 <= r["teff"] <= 4500 for r in narrow["twins"])
    with_self = client.get(f"/api/stars/{star.pk}/twins/", {"k": 1, "include_self": "true"}).json()
    assert with_self["twins"][0]["designation"] == star.designation and with_self["twins"][0]["distance"] < 1e-4
    csv = client.get(f"/api/stars/{star.pk}/twins/", {"k": 3, "format": "csv"}).content.decode().splitlines()
    assert csv[0].startswith("star_id,designation") and len(csv) == 4


@pytest.mark.parametrize("params, status, reason", [
    ({"k": 0}, 400, "k must be between 1 and 100"),
    ({"k": 101}, 400, "k must be between 1 and 100"),
    ({"k": "ten"}, 400, "not an integer"),
    ({"mass_min": 1}, 400, "mass_min"),
    ({"teff_min": 5000, "teff_max": 4000}, 400, "minimum is above the maximum"),
])
def test_bad_twin_queries(client, active_disentangler, params, status, reason):
    star = active_disentangler[1][0].star
    response = client.get(f"/api/stars/{star.pk}/twins/", params)
    assert response.status_code == status and reason in str(response.json()["error"]["detail"])


def test_twins_without_an_active_model_is_409(client):
    from tests.factories import StarFactory

    star = StarFactory()
    response = client.get(f"/api/stars/{star.pk}/twins/")
    assert response.status_code == 409 and "no disentangler is active" in response.json()["error"]["detail"]


@pytest.fixture
def full_grid_model(db):
    return build_active_disentangler(n_groups=4, per_group=8, pixels=7214)


def _aspcap_upload(tmp_path, flux, name="aspcapStar-test.fits"):
    path = write_aspcapstar(tmp_path / name, "2M99999999+9999999", 10.0, 20.0, flux, None)
    return SimpleUploadedFile(name, path.read_bytes(), content_type="application/fits")


def test_upload_finds_the_star_it_came_from(client, full_grid_model, tmp_path):
    version, spectra = full_grid_model
    source = spectra[5]
    labels = source.star.labels.get()
    upload = _aspcap_upload(tmp_path, source.flux_array)
    body = client.post("/api/twins/", {"file": upload, "teff": labels.teff, "logg": labels.logg, "k": 3}).json()
    assert body["twins"][0]["designation"] == source.star.designation
    assert body["twins"][0]["distance"] < 0.05


def test_upload_errors(client, full_grid_model, tmp_path):
    source = full_grid_model[1][0]
    not_fits = SimpleUploadedFile("spectrum.fits", b"this is not a FITS file", content_type="application/fits")
    response = client.post("/api/twins/", {"file": not_fits, "teff": 4500, "logg": 2})
    assert response.status_code == 400 and "not a FITS file" in str(response.json()["error"]["detail"])
    wrong_type = SimpleUploadedFile("spectrum.txt", b"1 2 3", content_type="text/plain")
    assert "upload a FITS file" in str(client.post("/api/twins/", {"file": wrong_type}).json()["error"]["detail"])
    missing = client.post("/api/twins/", {"file": _aspcap_upload(tmp_path, source.flux_array)})
    assert missing.status_code == 400 and "needs teff, logg" in str(missing.json()["error"]["detail"])
    assert client.post("/api/twins/", {}).status_code == 400


def test_upload_of_the_wrong_length_is_400(client, active_disentangler, tmp_path):
    """The active toy model has 64 pixels; a real aspcapStar has 7214."""
    upload = _aspcap_upload(tmp_path, np.ones(7214, np.float32))
    response = client.post("/api/twins/", {"file": upload, "teff": 4500, "logg": 2.0})
    assert response.status_code == 400
    assert "7214 pixels; the active model's apogee grid has 64" in str(response.json()["error"]["detail"])


def test_generate_errors_name_the_problem(client, active_disentangler):
    from tests.factories import StarFactory

    star = active_disentangler[1][0].star
    response = client.get(f"/api/stars/{star.pk}/generate/", {"teff": "nan"})
    assert response.status_code == 400 and "finite" in str(response.json()["error"]["detail"])
    unlabelled = StarFactory()
    response = client.get(f"/api/stars/{unlabelled.pk}/generate/")
    assert response.status_code == 400 and "has no labels" in str(response.json()["error"]["detail"])


def test_generate_without_an_active_model_is_409(client):
    from tests.factories import StarFactory

    response = client.get(f"/api/stars/{StarFactory().pk}/generate/")
    assert response.status_code == 409 and "no disentangler is active" in response.json()["error"]["detail"]
