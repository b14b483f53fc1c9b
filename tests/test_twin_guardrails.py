"""Guardrails on twin searches: a query outside the model's training range is flagged (API) and
warned about (web) with how far outside it lies; a query whose nearest star is farther than 99 % of
the catalog's own nearest neighbours is flagged as unlike anything in the catalog."""
import numpy as np
import pytest

from catalog import selectors
from tests.test_api_twins import _aspcap_upload, full_grid_model  # noqa: F401  (fixture)


def test_each_version_records_its_training_range_and_neighbour_scale(active_disentangler):
    version = active_disentangler[0]
    ranges = version.metrics["parameter_range"]
    assert set(ranges) == {"teff", "logg"} and 3500 <= ranges["teff"][0] < ranges["teff"][1] <= 5500
    assert version.metrics["nn_distance_p99"] > 0


def test_a_catalog_star_inside_the_range_gets_no_warning(client, active_disentangler):
    star = active_disentangler[1][0].star
    body = client.get(f"/api/stars/{star.pk}/twins/", {"k": 3}).json()
    assert body["outside_training_range"] is False and body["beyond_range"] == {}
    assert body["unlike_catalog"] is False and body["nearest_distance"] == pytest.approx(body["twins"][0]["distance"])
    assert body["warnings"] == []


def test_an_upload_outside_the_range_is_flagged_with_its_offsets(client, full_grid_model, tmp_path):  # noqa: F811
    version, spectra = full_grid_model
    top = version.metrics["parameter_range"]["logg"][1]
    upload = _aspcap_upload(tmp_path, spectra[0].flux_array)
    body = client.post("/api/twins/", {"file": upload, "teff": 4500, "logg": top + 0.5, "k": 3}).json()
    assert body["outside_training_range"] is True
    assert body["beyond_range"] == {"logg": pytest.approx(0.5, abs=1e-4)}
    assert "outside the parameter range" in body["warnings"][0] and "logg +0.50 dex" in body["warnings"][0]
    page = client.post("/twins/upload/", {"file": _aspcap_upload(tmp_path, spectra[0].flux_array), "teff": 4500,
                                          "logg": top + 0.5, "k": 3}).content.decode()
    assert 'class="warning">The query lies outside the parameter range' in page


def test_a_latent_unlike_the_catalog_is_flagged(active_disentangler):
    version = active_disentangler[0]
    own = selectors.twins_for_star(star=active_disentangler[1][0].star, k=1)
    far_away = own.query_latent + 100.0
    result = selectors.twins_for_latent(latent=far_away, k=2, version=version)
    assert result.unlike_catalog is True and result.nearest_distance > version.metrics["nn_distance_p99"]
    assert "unlike anything in the catalog" in result.warnings[0]
    filtered = selectors.twins_for_latent(latent=far_away, k=2, version=version,
                                          filters=selectors.TwinFilters(teff=(3500.0, 4000.0)))
    assert filtered.nearest_distance == pytest.approx(result.nearest_distance)  # judged without the filters


def test_offsets_are_signed_distances_outside_the_range():
    ranges = {"teff": [4000.0, 5000.0], "logg": [1.0, 3.0]}
    assert selectors.range_offsets({"teff": 3800.0, "logg": 2.0}, ranges) == {"teff": -200.0}
    assert selectors.range_offsets({"teff": 4500.0, "logg": None}, ranges) == {}
    assert selectors.range_offsets({"teff": 5100.0, "logg": 3.5}, ranges) == {"teff": 100.0, "logg": 0.5}


def test_the_models_page_marks_each_target(client, active_disentangler):
    page = client.get("/models/").content.decode()
    assert "Targets (test split)" in page and "Teff R² from z" in page and "far-twin AUC" in page
    assert ("✓ pass" in page) or ("✗ fail" in page)
    assert np.isfinite(active_disentangler[0].metrics["far_auc"])
