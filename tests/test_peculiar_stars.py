"""Peculiarity scores of a version's latents: written by the chain's task before activation,
ranked by the API (with filters, streamed exports) and the page, shown on the star page, in TAP."""
import csv
import io

import numpy as np
import pytest

from catalog import services
from catalog.models import Peculiarity
from catalog.selectors.tap import run_adql

pytestmark = pytest.mark.django_db


def _plant_line(spectrum, depth: float = 0.5, width: int = 3):
    """Deepen the spectrum's flux by ``depth`` over ``width`` pixels in the middle of its grid (an
    element its chemistry does not explain); the middle pixel's wavelength (Å)."""
    flux = spectrum.flux_array.copy()
    middle = len(flux) // 2
    flux[middle - width // 2 : middle + width // 2 + 1] -= depth
    spectrum.set_arrays(flux, spectrum.error_array)
    spectrum.save()
    return float(spectrum.survey.wavelength_array[middle])


def test_every_spectrum_is_scored_and_a_planted_line_ranks_first(active_disentangler):
    version, spectra = active_disentangler
    scores = Peculiarity.objects.filter(model_version=version)
    assert scores.count() == len(spectra) and np.median(list(scores.values_list("score", flat=True))) == pytest.approx(1.0, abs=0.3)
    # a line the model cannot draw, in one spectrum; its latent (stored) stays as it was
    planted = spectra[7]
    _plant_line(planted)
    assert services.peculiarity_fill(version=version) == len(spectra)
    top = Peculiarity.objects.filter(model_version=version).order_by("-score").first()
    assert top.spectrum_id == planted.pk and top.score > 1.5  # RANKED: the star page gives its rank


def test_scoring_reports_progress_and_replaces_the_old_scores(active_disentangler):
    version, spectra = active_disentangler
    seen = []
    assert services.peculiarity_fill(version=version, sample=40, on_progress=lambda done, of: seen.append((done, of))) == len(spectra)
    assert seen[-1] == (len(spectra), len(spectra)) and Peculiarity.objects.filter(model_version=version).count() == len(spectra)


def test_the_api_ranks_filters_and_exports(client, active_disentangler):
    version, spectra = active_disentangler
    page = client.get("/api/peculiar-stars/", {"limit": 5}).json()
    scores = [row["score"] for row in page["results"]]
    assert page["count"] == len(spectra) and scores == sorted(scores, reverse=True)
    assert page["results"][0]["model_version"] == version.pk and page["results"][0]["survey"] == "apogee"
    cool = client.get("/api/peculiar-stars/", {"teff_max": 4500, "min_score": 0.5, "limit": 1000}).json()["results"]
    assert cool and all(row["teff"] <= 4500 and row["score"] >= 0.5 for row in cool)
    exported = list(csv.DictReader(io.StringIO(client.get("/api/peculiar-stars/", {"format": "csv"}).getvalue().decode())))
    assert len(exported) == len(spectra) and float(exported[0]["score"]) == pytest.approx(scores[0])
    bad = client.get("/api/peculiar-stars/", {"min_score": -1})
    assert bad.status_code == 400 and "must be 0 or more" in str(bad.json()["error"]["detail"])
    assert client.get("/api/peculiar-stars/", {"teff_min": 5000, "teff_max": 4000}).status_code == 400


def test_the_pages(client, active_disentangler):
    version, spectra = active_disentangler
    top = Peculiarity.objects.filter(model_version=version).order_by("-score").first()
    page = client.get("/peculiar/").content.decode()
    assert top.star.designation in page and "disentangler v" in page and "samp-send" in page
    filtered = client.get("/peculiar/", {"teff_min": 5000, "teff_max": 4000}).content.decode()
    assert "the maximum is below the minimum" in filtered
    Peculiarity.objects.filter(pk=top.pk).update(score=5.0)  # well above RANKED: the page ranks it
    star = client.get(f"/stars/{top.star_id}/").content.decode()
    assert 'id="peculiarity"' in star and f"rank\n      1 of {len(spectra)} spectra" in star
    ordinary = Peculiarity.objects.filter(model_version=version).exclude(pk=top.pk).first()
    Peculiarity.objects.filter(pk=ordinary.pk).update(score=1.0)
    page = client.get(f"/stars/{ordinary.star_id}/").content.decode()
    assert f"among {len(spectra)} spectra scored" in page and "rank\n" not in page


def test_without_an_active_model_the_list_is_empty(client):
    assert client.get("/api/peculiar-stars/").json()["count"] == 0
    assert "No disentangler is active" in client.get("/peculiar/").content.decode()


def test_tap_serves_the_active_scores(active_disentangler):
    version, spectra = active_disentangler
    result = run_adql("SELECT TOP 3 spectrum_id, score FROM doppel.peculiarity ORDER BY score DESC", maxrec=10, timeout_s=10)
    best = list(Peculiarity.objects.filter(model_version=version).order_by("-score").values_list("spectrum_id", flat=True)[:3])
    assert [row["spectrum_id"] for row in result.rows] == best


def test_the_star_page_explains_what_sets_a_star_apart(client, active_disentangler):
    from catalog import inference

    version, spectra = active_disentangler
    star = spectra[3].star
    wavelength = _plant_line(spectra[3])
    explained = inference.peculiarity_explanation(star)
    assert explained.difference.shape == explained.wavelength.shape == explained.sigma.shape and explained.neighbours == 20
    assert 1 <= len(explained.features) <= 5
    assert explained.features[0]["wavelength"] == pytest.approx(wavelength, abs=2.0)  # within a pixel or so
    assert explained.features[0]["difference"] < -0.2  # deeper than the model and the twins expect
    significance = [abs(f["difference"]) / explained.sigma[np.searchsorted(explained.wavelength, f["wavelength"])]
                    for f in explained.features]
    assert significance == sorted(significance, reverse=True)
    page = client.get(f"/stars/{star.pk}/").content.decode()
    assert 'id="peculiarity-plot"' in page and "peculiarity-plot-item" in page and "Strongest differences" in page


def test_features_are_named_after_the_nearest_line():
    from ml.peculiar import strongest_features

    wavelength = np.linspace(15150.0, 15170.0, 41)  # 0.5 Å pixels
    difference = np.zeros(41)
    difference[18] = -0.2  # 15159.0 Å: Mn I
    difference[30] = 0.05  # 15165.0 Å: no line within 0.75 Å
    features = strongest_features(wavelength, difference, [("Mn I", 15159.0), ("K I", 15163.1)])
    assert features[0] == {"wavelength": 15159.0, "difference": -0.2, "line": "Mn I", "line_wavelength": 15159.0}
    assert features[1]["line"] is None and len(features) == 2


def test_with_a_sigma_features_are_ranked_by_significance():
    from ml.peculiar import strongest_features

    wavelength = np.linspace(15150.0, 15170.0, 41)
    difference = np.zeros(41)
    difference[10], difference[30] = -0.2, -0.1
    sigma = np.full(41, 0.01)
    sigma[10] = 0.5  # the larger difference sits where the twins scatter most: the smaller one is stronger
    features = strongest_features(wavelength, difference, [], sigma=sigma)
    assert [f["wavelength"] for f in features] == [wavelength[30], wavelength[10]]
