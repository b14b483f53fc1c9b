"""`python -m research.experiments.bhb_magnitude`: purity and completeness by g magnitude over seeds,
trained whole or from a finished BATMM run's stored test scores."""
import json

import numpy as np
import pytest
import yaml

from ml.bhb_train import CODE_VERSION
from ml.data import split_indices
from ml.synth.bhb import bhb_sample
from research.experiments import bhb_magnitude
from tests.conftest import ROOT

pytestmark = pytest.mark.slow

SMOKE = ROOT / "research/configs/bhb_smoke.yaml"


def smoke_config() -> dict:
    return yaml.safe_load(SMOKE.read_text())


def stored_run(directory, config: dict, scores) -> None:
    """A finished research.experiments.bhb run of ``config`` whose BATMM scored ``scores(labels, seed)``."""
    sample = bhb_sample(config["data"]["n_bhb"], config["data"]["n_other"], np.random.default_rng(config["data"]["seed"]))
    labels = sample.is_bhb.astype(int)
    for seed in config["seeds"]:
        seed_dir = directory / "seeds" / f"seed_{seed}"
        seed_dir.mkdir(parents=True)
        test = split_indices(len(labels), 0.2, 0.1, seed)["test"]
        (seed_dir / "config.json").write_text(json.dumps({"code": CODE_VERSION, "data": config["data"],
                                                          "model": config["model"], "training": config["training"]}))
        (seed_dir / "result.json").write_text(json.dumps({"seed": seed, "results": {}, "test_labels": labels[test].tolist(),
                                                          "test_scores": {"BATMM": scores(labels[test], seed)}}))


def test_every_seed_trained_gives_a_row_per_magnitude_bin_and_method(tmp_path):
    assert bhb_magnitude.main(["--config", str(SMOKE), "--out", str(tmp_path), "--device", "cpu"]) == 0
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["seeds"] == [0, 1]
    assert [row["bin"] for row in report["by_magnitude"]] == ["g < 17", "17–18", "18–19", "g > 19", "all"]
    every = report["by_magnitude"][-1]
    assert every["n"] == 12 and every["n_bhb"] == sum(row["n_bhb"] for row in report["by_magnitude"][:-1])
    for method in bhb_magnitude.METHODS:
        assert 0.0 <= every[method]["purity"]["mean"] <= 1.0
    assert 0.0 <= report["ece"]["mean"] <= 1.0
    assert "| all | 12 |" in (tmp_path / "report.md").read_text()


def test_stored_scores_are_matched_to_their_stars(tmp_path):
    """Perfect stored scores must read as purity and completeness 1 in every bin holding BHBs."""
    config = smoke_config()
    stored_run(tmp_path / "run", config, lambda labels, seed: labels.astype(float).tolist())
    out, stored = tmp_path / "out", ["--scores-from", str(tmp_path / "run"), "--device", "cpu"]
    assert bhb_magnitude.main(["--config", str(SMOKE), "--out", str(out), "--only-seeds", "0", *stored]) == 0
    assert not (out / "report.json").exists()  # seed 1 is still missing
    assert bhb_magnitude.main(["--config", str(SMOKE), "--out", str(out), "--only-seeds", "1", "--no-spectrum", *stored]) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["method_seeds"] == {"BATMM": [0, 1], "VGG1D (spectrum)": [0], "Xue et al. cuts": [0, 1]}
    assert "| VGG1D (spectrum) (seeds 0) |" in (out / "report.md").read_text()
    for row in report["by_magnitude"]:
        if row["n_bhb"]:
            assert row["BATMM"]["purity"]["mean"] == 1.0 and row["BATMM"]["completeness"]["mean"] == 1.0
    assert report["purity_95_completeness"]["mean"] == 1.0
    assert "stored by" in (out / "report.md").read_text()


def test_stored_scores_of_another_config_or_split_are_refused(tmp_path, capsys):
    config = smoke_config()
    other = {**config, "training": {**config["training"], "lr": 0.1}}
    stored_run(tmp_path / "other_config", other, lambda labels, seed: [0.5] * len(labels))
    assert bhb_magnitude.main(["--config", str(SMOKE), "--out", str(tmp_path / "a"),
                               "--scores-from", str(tmp_path / "other_config")]) == 2
    assert "ran another config" in capsys.readouterr().err
    stored_run(tmp_path / "shuffled", config, lambda labels, seed: [0.5] * len(labels))
    result = tmp_path / "shuffled" / "seeds" / "seed_0" / "result.json"
    record = json.loads(result.read_text())
    record["test_labels"] = record["test_labels"][::-1] if len(set(record["test_labels"])) > 1 else [2]
    result.write_text(json.dumps(record))
    assert bhb_magnitude.main(["--config", str(SMOKE), "--out", str(tmp_path / "b"),
                               "--scores-from", str(tmp_path / "shuffled")]) == 2
    assert "not this sample's split" in capsys.readouterr().err
    assert not (tmp_path / "a" / "report.md").exists() and not (tmp_path / "b" / "report.md").exists()
