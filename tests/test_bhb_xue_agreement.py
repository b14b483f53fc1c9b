"""The BHB page sets the model's best candidates against the classical Balmer-line selection: how
many of the top-scored stars pass the Xue et al. 2011 cuts, beside the rate among stars a catalogue
labels BHB."""
import numpy as np
import pytest

from catalog import selectors
from catalog.arrays import array_to_bytes
from catalog.models import BalmerLines
from tests.factories import BHBLabelFactory, BHBScoreFactory, ModelVersionFactory, SpectrumFactory, SurveyFactory

pytestmark = pytest.mark.django_db


def _star(version, score: float, passes: bool | None, labelled: bool = False):
    sdss = SurveyFactory(code="sdss", name="SDSS", n_pixels=3522)
    row = BHBScoreFactory(model_version=version, score=score)
    spectrum = SpectrumFactory(star=row.star, survey=sdss, flux=array_to_bytes(np.ones(3522)))
    if passes is not None:
        BalmerLines.objects.create(spectrum=spectrum, converged=True, xue_bhb=passes)
    if labelled:
        BHBLabelFactory(star=row.star)
    return row.star


def test_top_candidates_against_the_labelled_rate(client):
    version = ModelVersionFactory(kind="bhb", state="active")
    _star(version, 0.99, True, labelled=True)
    _star(version, 0.95, None)  # unmeasured: not counted among the top
    _star(version, 0.90, False, labelled=True)
    _star(version, 0.80, True)
    _star(version, 0.10, True)  # below the top 3 measured
    _star(version, 0.05, True, labelled=True)
    assert selectors.xue_agreement(top=3) == {"top": 3, "top_pass": 2, "labelled": 3, "labelled_pass": 2}
    page = client.get("/bhb/").content.decode()
    text = " ".join(page.split('<p id="xue-agreement">')[1].split("</p>")[0].split())
    assert text.startswith("Of the 5 highest-scored stars with measured Balmer lines, 4 pass the Xue et al. 2011 cuts")
    assert "of the 3 stars a catalogue labels BHB, 67 % do" in text


def test_nothing_to_say_without_a_model_or_measurements(client):
    assert selectors.xue_agreement() is None
    version = ModelVersionFactory(kind="bhb", state="active")
    _star(version, 0.9, None)
    assert selectors.xue_agreement()["top"] == 0
    assert 'id="xue-agreement"' not in client.get("/bhb/").content.decode()
