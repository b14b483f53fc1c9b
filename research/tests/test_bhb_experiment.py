"""`python -m research.experiments.bhb` runs end to end and writes its tables and figures."""
import json

import pytest

from research.experiments.bhb import main
from tests.conftest import ROOT

pytestmark = pytest.mark.slow


def test_smoke_config_writes_the_seed_tables(tmp_path):
    assert main(["--config", str(ROOT / "research/configs/bhb_smoke.yaml"), "--out", str(tmp_path)]) == 0
    report = json.loads((tmp_path / "report.json").read_text())
    assert len(report["per_seed"]) == 2
    expected = {"Xue et al. cuts (physics)", "SVM (spectrum)", "XGBoost (spectrum)", "VGG1D (spectrum)",
                "ResNet-50+SE (image)", "early add", "early concat", "BATMM", "BATMM w/o cross-attention",
                "BATMM w/o modality embeddings"}
    assert set(report["summary"]) == expected
    assert set(report["summary"]["BATMM"]["f1_macro"]) == {"mean", "std"}
    markdown = (tmp_path / "report.md").read_text()
    assert "Table 5" in markdown and "Table 8" in markdown and "| BATMM |" in markdown
    for figure in ("roc_pr.png", "weights.png"):
        assert (tmp_path / figure).read_bytes()[:4] == b"\x89PNG"
    assert sum(report["explanation"]["band_weights"]) == pytest.approx(1.0, abs=1e-3)
