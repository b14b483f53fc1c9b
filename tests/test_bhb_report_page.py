"""The models page shows a BHB version's purity and completeness by magnitude and its calibration;
the candidates page says the score is a calibrated probability."""
import pytest

from tests.factories import ModelVersionFactory

pytestmark = pytest.mark.django_db

ROWS = [{"bin": name, "n": 10, "n_bhb": 4, "selected": 4, "purity": 0.75, "completeness": 0.75, "f1": 0.75}
        for name in ("g < 17", "17–18", "18–19", "g > 19", "all")]


def test_models_page_has_the_magnitude_table_and_the_calibration(client):
    ModelVersionFactory(kind="bhb", state="active", metrics={
        "f1_macro": 0.9, "precision_bhb": 0.9, "recall_bhb": 0.9, "f1_bhb": 0.9, "roc_auc": 0.95, "temperature": 1.7,
        "ece": 0.021, "ece_uncalibrated": 0.08, "by_magnitude": ROWS,
        "by_magnitude_spectrum_only": [{**row, "f1": 0.6} for row in ROWS],
        "by_magnitude_xue": [{**row, "f1": 0.444} for row in ROWS],
        "purity_95": {"threshold": 0.83, "completeness": 0.61}})
    page = client.get("/models/").content.decode()
    assert "by g magnitude" in page and "18–19" in page and "0.600" in page
    assert "Xue et al. 2011 cuts" in page and "0.444" in page
    assert "expected calibration error 0.021" in page and "0.080" in page and "P ≥ 0.83: completeness 0.610" in page
    bhb = client.get("/bhb/").content.decode()
    assert "calibrated probability" in bhb
