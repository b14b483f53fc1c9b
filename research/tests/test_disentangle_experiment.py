"""`python -m research.experiments.disentangle` runs end to end and writes its report."""
import json

import pytest

from research.experiments.disentangle import main, markdown
from tests.conftest import ROOT

pytestmark = pytest.mark.slow


def test_smoke_config_writes_report_tables_and_figures(tmp_path):
    assert main(["--config", str(ROOT / "research/configs/smoke.yaml"), "--out", str(tmp_path)]) == 0
    report = json.loads((tmp_path / "report.json").read_text())
    assert set(report["r2"]) == {"X", "z(noAT)", "z(AT)", "z(mdAT)"}
    assert set(report["r2"]["X"]) == {"teff", "logg", "fe_h"}
    variants = ("noAT", "AT", "mdAT")
    assert set(report["twins"]) == ({"X", "PCA(X)", "PolyDis", "PolyDis (whitened)"} | {f"z({v})" for v in variants}
                                    | {f"z({v}) − poly(cp)" for v in variants})
    assert 0 <= report["twins"]["X"]["recall_at_1"] <= 1
    assert list(report["generation"]) == ["twin as observed", "another star at the same parameters", "PolyDis transfer",
                                          *(f"D(z_a, cp_b), {v}" for v in variants)]
    assert all(value >= 0 for value in report["generation"].values())
    markdown = (tmp_path / "report.md").read_text()
    assert "| z(mdAT) |" in markdown and "teff (cond.)" in markdown and "| D(z_a, cp_b), mdAT |" in markdown
    for figure in ("training_curves.png", "tsne.png"):
        assert (tmp_path / figure).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(report["tsne"]["maps"]["X"]) == len(report["tsne"]["index"])
    assert (tmp_path / "mdAT.pt").exists()


def test_bad_config_is_a_clear_error(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("grid: {}\ntraining: {}\n")
    assert main(["--config", str(bad)]) == 2
    assert "unknown config section(s): training" in capsys.readouterr().err


def test_empty_config_is_refused_instead_of_running_defaults(tmp_path, capsys):
    empty = tmp_path / "empty.yaml"
    empty.write_text("")
    assert main(["--config", str(empty)]) == 2
    assert "the config is empty" in capsys.readouterr().err


def test_report_says_which_latent_collapsed():
    twins = {"recall_at_1": 0.0, "recall_at_10": 0.0, "median_rank": 36.0, "pairwise_auc": 0.5}
    variant = {"epochs": 3, "best_epoch": 3, "train_seconds": 1.0, "test": {"disc_accuracy": [0.1]}}
    report = {"grid": {"band": "gaia_rvs", "n_profiles": 4, "snr": 50, "n_spectra": 40},
              "r2": {"z(mdAT)": {"teff": 0.0}}, "twins": {"z(mdAT)": twins, "z(AT)": twins},
              "variants": {"mdAT": variant, "AT": variant}, "collapsed": ["mdAT"]}
    text = markdown(report, ["teff"])
    assert "**z(mdAT) has collapsed**" in text and "z(AT) has collapsed" not in text
    assert "has collapsed" not in markdown({**report, "collapsed": []}, ["teff"])


@pytest.mark.parametrize("name", sorted(path.stem for path in (ROOT / "research/configs").glob("*.yaml")
                                         if not path.stem.startswith("bhb")))  # bhb*: the BATMM experiment's
def test_shipped_configs_give_valid_disentanglers(name):
    """A typo in a shipped config (an unknown setting, a decoder that does not exist) fails here, not
    an hour into a run."""
    import yaml

    from ml.disentangler import DisentanglerConfig

    config = yaml.safe_load((ROOT / f"research/configs/{name}.yaml").read_text())
    for variant in config["variants"]:
        DisentanglerConfig.from_dict({**config.get("disentangler", {}), "variant": variant})
