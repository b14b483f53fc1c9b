"""research.experiments.bhb_demo trains a recipe on a sample or a snapshot and prints its line;
a recipe with an unknown setting exits 2 with the reason."""
import json

import numpy as np

from research.experiments import bhb_demo

TINY = json.dumps({"width": 0.0625, "d_model": 32, "n_layers": 1, "n_heads": 4, "spectrum_components": 0})
QUICK = json.dumps({"epochs_encoder": 1, "epochs_image": 1, "epochs_fusion": 1, "batch_size": 16, "patience": 0,
                    "amp": False})


def test_a_recipe_on_a_snapshot(tmp_path, capsys):
    from ml.synth.bhb import bhb_sample

    sample = bhb_sample(20, 20, np.random.default_rng(5))
    for name, array in (("spectra", sample.flux), ("images", sample.images), ("labels", sample.is_bhb.astype(int))):
        np.save(tmp_path / f"{name}.npy", array)
    assert bhb_demo.main(["--snapshot", str(tmp_path), "--model", TINY, "--training", QUICK]) == 0
    line = capsys.readouterr().out.strip().splitlines()[-1]
    assert line.startswith("40 stars, seed 0: F1 ") and "VGG1D (spectrum)" in line


def test_an_unknown_setting_exits_2(capsys):
    bad = json.dumps({"epochs_encoder": 1, "epoch_fusion": 1})
    assert bhb_demo.main(["--sample", "40", "--model", TINY, "--training", bad]) == 2
    assert "epoch_fusion" in capsys.readouterr().err
