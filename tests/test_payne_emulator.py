"""Payne emulators of both layouts, checked against the README's values."""
import numpy as np
import pytest

from ml.synth.gridbuilder import GridSpec, build_grid
from ml.synth.payne import PayneEmulator, PayneFormatError


@pytest.fixture(scope="module")
def binspec(shared_data):
    return PayneEmulator(shared_data / "payne" / "binspec2018_NN_normalized_spectra_5label.npz")


def test_per_pixel_network_reproduces_the_solar_check_values(binspec):
    assert binspec.layout == "per-pixel"
    assert binspec.label_names == ["teff", "logg", "fe_h", "Mg_Fe", "vmacro"]
    flux = binspec.flux([[5800, 4.44, 0.0, 0.0, 5.0]])[0]
    assert flux.shape == (7214,)
    assert flux.min() == pytest.approx(0.607, abs=0.001)
    assert flux.max() == pytest.approx(1.038, abs=0.001)
    assert np.median(flux) == pytest.approx(0.995, abs=0.001)
    deepest = binspec.wavelength[np.argsort(flux)[:2]]
    np.testing.assert_allclose(deepest, [15892.8, 15770.1], atol=0.1)


def test_emulator_drives_the_grid_builder(binspec):
    spec = GridSpec(n_profiles=2, teff=(5000, 5400, 200), logg=(4.2, 4.6, 0.2), seed=1)
    grid = build_grid(spec, binspec)
    assert grid.flux.shape == (18, 7214)
    assert 0.5 < np.median(grid.flux) < 1.1
    assert not np.allclose(grid.flux[0], grid.flux[9])  # two profiles differ


def test_outside_training_range_warns(binspec):
    spec = GridSpec(n_profiles=1, teff=(3500, 3500, 1), logg=(1.0, 1.0, 1))
    with pytest.warns(UserWarning, match="outside the emulator's training range"):
        build_grid(spec, binspec)


def _mlp_file(tmp_path, hidden=4, labels=3, pixels=6):
    rng = np.random.default_rng(0)
    arrays = {
        "w_array_0": rng.normal(size=(hidden, labels)), "b_array_0": rng.normal(size=hidden),
        "w_array_1": rng.normal(size=(hidden, hidden)), "b_array_1": rng.normal(size=hidden),
        "w_array_2": rng.normal(size=(pixels, hidden)), "b_array_2": rng.normal(size=pixels),
        "x_min": np.array([4000.0, 1.0, -1.0]), "x_max": np.array([6000.0, 5.0, 0.5]),
    }
    path = tmp_path / "mlp.npz"
    np.savez(path, **arrays)
    return path, arrays


def test_mlp_layout_follows_formula_d(tmp_path):
    path, a = _mlp_file(tmp_path)
    emulator = PayneEmulator(path, label_names=["teff", "logg", "fe_h"])
    labels = np.array([[5000.0, 3.0, -0.25]])
    s = (labels - a["x_min"]) / (a["x_max"] - a["x_min"]) - 0.5
    leaky = lambda z: np.where(z > 0, z, 0.01 * z)  # noqa: E731
    expected = a["w_array_2"] @ leaky(a["w_array_1"] @ leaky(a["w_array_0"] @ s[0] + a["b_array_0"]) + a["b_array_1"]) + a["b_array_2"]
    assert emulator.layout == "mlp"
    np.testing.assert_allclose(emulator.flux(labels)[0], expected, rtol=1e-5)


def test_label_names_are_required_when_unknown(tmp_path):
    path, _ = _mlp_file(tmp_path)
    with pytest.raises(PayneFormatError, match="label names"):
        PayneEmulator(path)


def test_not_a_payne_file(tmp_path):
    bad = tmp_path / "bad.npz"
    np.savez(bad, something=np.zeros(3))
    with pytest.raises(PayneFormatError, match="not a Payne network"):
        PayneEmulator(bad)
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"not a zip")
    with pytest.raises(PayneFormatError, match="not a readable"):
        PayneEmulator(garbage)
