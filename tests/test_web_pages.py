"""The web pages: search, star page with its plots, twins (table, overlay, export), upload form
errors, latent map, BHB candidates, models. Forms carry CSRF tokens; bad input is a form error."""
import re

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from catalog.arrays import array_to_bytes
from tests.factories import BHBScoreFactory, ImageFactory, ModelVersionFactory, SpectrumFactory, SurveyFactory

pytestmark = pytest.mark.django_db


def test_search_by_cone_sorts_and_paginates(client, active_disentangler):
    star = active_disentangler[1][1].star
    page = client.get("/", {"ra": str(star.ra), "dec": str(star.dec), "radius": "0.01", "ordering": "-teff"}).content.decode()
    assert "distance (°)" in page and star.designation in page
    page = client.get("/", {"ra": "400", "dec": "0", "radius": "1"}).content.decode()
    assert "RA must be in [0, 360)" in page
    page = client.get("/", {"ra": "10", "dec": "0"}).content.decode()
    assert "a cone search needs RA, Dec and a radius" in page
    page = client.get("/", {"q": "2M"}).content.decode()
    assert "128 stars" in page and "page 1 of 6" in page


def test_star_page_has_spectrum_reconstruction_generation_and_latent(client, active_disentangler):
    version, spectra = active_disentangler
    star = spectra[0].star
    page = client.get(f"/stars/{star.pk}/").content.decode()
    assert f'id="spectrum-{spectra[0].pk}"' in page and f'id="spectrum-{spectra[0].pk}-item"' in page
    assert "model reconstruction" in page and 'id="generated-item"' in page
    assert 'class="generate-slider"' in page and 'id="latent"' in page
    assert "bokeh/js/bokeh.min.js" in page
    assert client.get("/stars/999999/").status_code == 404


def test_generation_warns_outside_the_training_range(client, active_disentangler):
    star = active_disentangler[1][0].star
    inside = client.get(f"/api/stars/{star.pk}/generate/", {"teff": 4500}).json()
    outside = client.get(f"/api/stars/{star.pk}/generate/", {"teff": 9000}).json()
    assert inside["outside_training_range"] is False and outside["outside_training_range"] is True
    assert len(outside["flux"]) == 64 and not np.allclose(inside["flux"], outside["flux"])
    assert client.get(f"/api/stars/{star.pk}/generate/", {"teff": "hot"}).status_code == 400


def test_twins_page_table_overlay_and_exports(client, active_disentangler):
    star = active_disentangler[1][0].star
    page = client.get(f"/stars/{star.pk}/twins/", {"k": 7}).content.decode()
    assert page.count('<tr><td>') == 7 and 'id="overlay-item"' in page and "ΔTeff" in page
    csv = client.get(f"/stars/{star.pk}/twins/", {"k": 7, "format": "csv"})
    assert csv["Content-Disposition"].endswith('.csv"') and len(csv.content.decode().splitlines()) == 8
    votable = client.get(f"/stars/{star.pk}/twins/", {"k": 3, "format": "votable"}).content.decode()
    assert "<TABLEDATA>" in votable and 'ucd="meta.id;meta.main"' in votable
    page = client.get(f"/stars/{star.pk}/twins/", {"k": 0}).content.decode()
    assert "greater than or equal to 1" in page


def test_upload_form_errors(client, active_disentangler):
    page = client.get("/twins/upload/").content.decode()
    assert "csrfmiddlewaretoken" in page
    response = client.post("/twins/upload/", {"file": SimpleUploadedFile("x.fits", b"garbage"), "teff": 4500, "logg": 2})
    assert "not a FITS file" in response.content.decode()
    response = client.post("/twins/upload/", {"teff": 4500})
    assert "This field is required" in response.content.decode()


def test_latent_map_page(client, active_disentangler):
    page = client.get("/latent-map/", {"colour": "logg"}).content.decode()
    assert 'id="map-item"' in page and "60 spectra" in page and "OpenURL" in page


def test_bhb_candidates_with_threshold_and_thumbnails(client):
    version = ModelVersionFactory(kind="bhb", state="active")
    sdss = SurveyFactory(code="sdss", name="SDSS", n_pixels=3522)
    high = BHBScoreFactory(model_version=version, score=0.9)
    BHBScoreFactory(model_version=version, score=0.3)
    SpectrumFactory(star=high.star, survey=sdss, flux=array_to_bytes(np.ones(3522)))
    ImageFactory(star=high.star, cube=array_to_bytes(np.random.default_rng(0).normal(1, 0.2, (5, 8, 8))))
    page = client.get("/bhb/", {"threshold": 0.5}).content.decode()
    assert "1 stars scored" in page and high.star.designation in page
    assert "2 stars" in client.get("/bhb/", {"threshold": 0.1}).content.decode()
    csv = client.get("/bhb/", {"threshold": 0.1, "format": "csv"}).content.decode().splitlines()
    assert csv[0] == "designation,ra,dec,score,model_version,d02,fm,c,b,xue_bhb" and len(csv) == 3
    for kind in ("spectrum", "cutout", "bands"):
        image = client.get(f"/stars/{high.star.pk}/{kind}.png")
        assert image.status_code == 200 and image.content[:4] == b"\x89PNG"
    api = client.get("/api/bhb-candidates/", {"threshold": 0.5}).json()
    assert api["count"] == 1 and api["results"][0]["score"] == 0.9
    assert client.get("/api/bhb-candidates/", {"threshold": 2}).status_code == 400


def test_models_page_is_public_and_read_only(client, active_disentangler):
    page = client.get("/models/").content.decode()
    assert "R² of MLP probes" in page and re.search(r'id="curves-\d+-item"', page)
    version = active_disentangler[0]
    assert f"preset <strong>twins</strong> · kept epoch {version.metrics['best_epoch']} of {version.metrics['epochs']}" in page
    assert "<form" not in page.split("<main>")[1]


def test_lists_offer_send_to_samp_with_the_whole_list_as_a_votable(client, active_disentangler):
    import html

    star = active_disentangler[1][1].star

    def votable_url(page: str) -> str:
        return html.unescape(re.search(r'class="samp-send" data-votable="([^"]+)"', page).group(1))

    search = client.get("/", {"q": star.designation, "ordering": "-teff", "page": "1"}).content.decode()
    url = votable_url(search)
    assert url.startswith("http://testserver/api/stars/?") and "page=" not in url and "ordering=-teff" in url
    assert star.designation in client.get(url.removeprefix("http://testserver")).getvalue().decode()
    twins = votable_url(client.get(f"/stars/{star.pk}/twins/", {"k": 4}).content.decode())
    assert twins == f"http://testserver/stars/{star.pk}/twins/?k=4&format=votable"
    version = ModelVersionFactory(kind="bhb", state="active")
    BHBScoreFactory(model_version=version, star=star, score=0.9)
    bhb = votable_url(client.get("/bhb/", {"threshold": 0.8}).content.decode())
    assert bhb == "http://testserver/api/bhb-candidates/?threshold=0.8&format=votable"
    assert "samp-send" not in client.get("/").content.decode()  # no list, no button
