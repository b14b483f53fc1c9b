"""``python -m ml.disentangler.grid_eval``: a researcher's own grid in, latents in input order and a
report of probes and (far) twin metrics out; bad input is one line and exit code 2."""
import json

import numpy as np
import pytest

from ml.disentangler.grid_eval import main
from tests.test_disentangler_model import toy_grid


def write_grid(path, n_groups=12, **drop):
    flux, params, group = toy_grid(n_groups=n_groups, pixels=48)
    chemistry = np.random.default_rng(0).normal(size=(n_groups, 2))[group]
    arrays = {"flux": flux, "teff": params[:, 0], "logg": params[:, 1], "group": group,
              "fe_h": chemistry[:, 0], "Mg_Fe": chemistry[:, 1], "wavelength": np.arange(48.0)}
    for key in drop:
        arrays.pop(key)
    np.savez(path, **arrays)
    return arrays


@pytest.mark.slow
def test_end_to_end_on_a_small_grid(tmp_path, capsys):
    arrays = write_grid(tmp_path / "grid.npz")
    out = tmp_path / "out"
    assert main([str(tmp_path / "grid.npz"), "--preset", "paper", "--minutes", "2", "--epochs", "3", "--out", str(out)]) == 0
    z = np.load(out / "z.npy")
    assert z.shape == (len(arrays["flux"]), 25) and z.dtype == np.float32
    report = json.loads((out / "report.json").read_text())
    assert report["run"]["epochs"] == 3 and report["run"]["stopped_by"] == "epoch cap"
    assert set(report["r2"]["z"]) == {"teff", "logg", "fe_h", "Mg_Fe"}  # the wavelength array is no column
    assert set(report["twins"]) == {"X", "PolyDis", "z", "supervised ceiling"}
    assert {"far_recall_at_10", "far_auc", "far_auc_of_ceiling"} <= set(report["twins"]["z"])
    assert report["twins"]["supervised ceiling"]["far_auc_of_ceiling"] == pytest.approx(1.0)
    assert "| supervised ceiling |" in (out / "report.md").read_text()
    assert (out / "model.pt").exists()
    # z is in input order: the saved model encodes row k to z[k]
    from ml.disentangler import TrainedDisentangler

    model = TrainedDisentangler.load(out / "model.pt", device="cpu")
    rows = np.array([5, 0, 17])
    parameters = np.stack([arrays["teff"][rows], arrays["logg"][rows]], axis=1)
    np.testing.assert_allclose(model.encode(arrays["flux"][rows], parameters), z[rows], rtol=1e-5, atol=1e-6)


@pytest.mark.slow
def test_without_groups_or_chemistry_it_reports_the_probes(tmp_path):
    write_grid(tmp_path / "grid.npz", group=1, fe_h=1, Mg_Fe=1)
    out = tmp_path / "out"
    assert main([str(tmp_path / "grid.npz"), "--preset", "twins", "--minutes", "1", "--epochs", "2", "--out", str(out)]) == 0
    report = json.loads((out / "report.json").read_text())
    assert "twins" not in report and set(report["r2"]["z"]) == {"teff", "logg"}


@pytest.mark.parametrize("change, message", [
    (lambda a: a.pop("flux"), "missing flux"),
    (lambda a: a.update(flux=a["flux"][:, 0]), "flux must be 2-d"),
    (lambda a: a.update(teff=a["teff"][:-1]), "teff must have shape"),
    (lambda a: a["logg"].__setitem__(3, np.nan), "logg has NaN"),
    (lambda a: a.update({k: v[:50] for k, v in a.items() if k != "wavelength"}), "at least 100 are needed"),
])
def test_bad_grids_get_one_line_and_exit_code_2(tmp_path, capsys, change, message):
    arrays = write_grid(tmp_path / "good.npz")
    change(arrays)
    np.savez(tmp_path / "bad.npz", **arrays)
    assert main([str(tmp_path / "bad.npz"), "--out", str(tmp_path / "out")]) == 2
    error = capsys.readouterr().err.strip()
    assert message in error and len(error.splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_missing_and_unreadable_files(tmp_path, capsys):
    assert main([str(tmp_path / "nothing.npz"), "--out", str(tmp_path / "out")]) == 2
    assert "no such file" in capsys.readouterr().err
    (tmp_path / "text.npz").write_text("not a zip")
    assert main([str(tmp_path / "text.npz"), "--out", str(tmp_path / "out")]) == 2
    assert "not a readable .npz" in capsys.readouterr().err
