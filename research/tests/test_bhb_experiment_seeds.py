"""The BHB experiment keeps each seed's result: parallel workers split the seeds, reruns reuse them."""
import json

import pytest
import yaml

from research.experiments import bhb
from tests.conftest import ROOT

pytestmark = pytest.mark.slow

SMOKE = ROOT / "research/configs/bhb_smoke.yaml"


def test_seeds_split_between_workers_make_one_report_and_reruns_reuse_them(tmp_path, monkeypatch, capsys):
    out = tmp_path / "report"
    assert bhb.main(["--config", str(SMOKE), "--out", str(out), "--only-seeds", "1"]) == 0
    assert (out / "seeds/seed_1/result.json").exists()
    assert not (out / "report.json").exists(), "a report over half the seeds must wait for the rest"
    assert "1 of 2 seeds finished" in capsys.readouterr().out
    assert bhb.main(["--config", str(SMOKE), "--out", str(out), "--report-only"]) == 0
    assert json.loads((out / "report.json").read_text())["seeds"] == [1], "a look at the run so far"
    assert not (out / "seeds/seed_0/result.json").exists(), "--report-only must not train"

    assert bhb.main(["--config", str(SMOKE), "--out", str(out), "--only-seeds", "0"]) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["seeds"] == [0, 1]
    first = json.loads((out / "seeds/seed_0/result.json").read_text())
    assert report["per_seed"][0] == first["results"]

    def must_not_train(*args, **kwargs):
        raise AssertionError("a finished seed was trained again")

    monkeypatch.setattr(bhb, "_run_seed", must_not_train)
    (out / "report.json").unlink()
    assert bhb.main(["--config", str(SMOKE), "--out", str(out)]) == 0
    assert json.loads((out / "report.json").read_text())["per_seed"] == report["per_seed"]


def test_a_seed_directory_from_another_config_is_refused_before_anything_is_written(tmp_path, capsys):
    out = tmp_path / "report"
    assert bhb.main(["--config", str(SMOKE), "--out", str(out), "--only-seeds", "1"]) == 0
    changed = yaml.safe_load(SMOKE.read_text())
    changed["training"]["epochs_fusion"] = 3
    other = tmp_path / "changed.yaml"
    other.write_text(yaml.safe_dump(changed))
    assert bhb.main(["--config", str(other), "--out", str(out)]) == 2
    assert "different config" in capsys.readouterr().err
    assert not (out / "seeds/seed_0").exists(), "seed 0 must not start under the new config beside an old seed 1"
    assert sorted(path.name for path in out.iterdir()) == ["seeds"]


def test_unknown_seeds_are_refused_before_any_work(tmp_path, capsys):
    assert bhb.main(["--config", str(SMOKE), "--out", str(tmp_path), "--only-seeds", "9"]) == 2
    assert "not in the config's seeds" in capsys.readouterr().err
    assert not (tmp_path / "seeds").exists()


def test_a_seed_directory_written_by_older_code_is_refused(tmp_path, capsys):
    seed_directory = tmp_path / "seeds" / "seed_0"
    seed_directory.mkdir(parents=True)
    config = yaml.safe_load((ROOT / "research/configs/bhb_smoke.yaml").read_text())
    data = {"n_bhb": 4985, "n_other": 3128, "seed": 0, **config.get("data", {})}
    older = {"data": data, "model": config.get("model", {}), "training": config.get("training", {})}  # no "code"
    (seed_directory / "config.json").write_text(json.dumps(older))
    assert bhb.main(["--config", str(ROOT / "research/configs/bhb_smoke.yaml"), "--out", str(tmp_path)]) == 2
    assert "older version of the code" in capsys.readouterr().err
    assert sorted(path.name for path in seed_directory.iterdir()) == ["config.json"]
