"""The grid builder places chemical profiles on a parameter grid, deterministically."""
import os
import subprocess
import sys

import numpy as np
import pytest

from ml.synth.gridbuilder import APOGEE_LIKE, RVS_LIKE, GridSpec, build_grid, iter_grid
from ml.synth.stellar import StellarSpectrumModel
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def apogee():
    return StellarSpectrumModel("apogee")


def test_seed_like_apogee_grid_has_210_points_per_profile():
    assert len(APOGEE_LIKE.points()) == 15 * 14
    assert len(APOGEE_LIKE) == 200 * 210
    assert APOGEE_LIKE.conditional == ["teff", "logg"]
    teff = sorted({p[0] for p in APOGEE_LIKE.points()})
    assert teff[0] == 3200 and teff[-1] == 6000 and teff[1] - teff[0] == 200


def test_rvs_like_grid_also_varies_metallicity_and_alpha():
    assert RVS_LIKE.conditional == ["teff", "logg", "fe_h", "alpha_fe"]
    assert RVS_LIKE.band == "gaia_rvs"


def test_grid_records_profiles_and_labels(apogee):
    spec = GridSpec(n_profiles=2, teff=(4000, 4400, 200), logg=(1.0, 1.4, 0.2), seed=3)
    grid = build_grid(spec, apogee)
    assert grid.flux.shape == (18, 7214)
    assert grid.group.tolist() == [0] * 9 + [1] * 9
    assert len(set(grid.designation)) == 18
    # Chemistry is constant within a profile, parameters vary.
    for key in ("fe_h", "Mg_Fe", "Ni_Fe"):
        assert np.ptp(grid.labels[key][:9]) == 0
    assert grid.labels["fe_h"][0] != grid.labels["fe_h"][9]
    assert sorted(set(grid.labels["teff"])) == [4000, 4200, 4400]
    assert len([k for k in grid.labels if k.endswith("_Fe") and k != "alpha_fe"]) >= 15


def test_rvs_grid_alpha_elements_follow_the_grid_alpha():
    spec = GridSpec(band="gaia_rvs", n_profiles=1, teff=(5000, 5000, 1), logg=(2, 2, 1), fe_h=[0.0], alpha_fe=[0.0, 0.4])
    grid = build_grid(spec, StellarSpectrumModel("gaia_rvs"))
    assert grid.labels["alpha_fe"].tolist() == [0.0, pytest.approx(0.4)]
    assert grid.labels["Mg_Fe"][1] - grid.labels["Mg_Fe"][0] == pytest.approx(0.4, abs=1e-5)
    assert grid.labels["Ni_Fe"][1] == grid.labels["Ni_Fe"][0]


def test_same_seed_same_grid(apogee):
    spec = GridSpec(n_profiles=1, teff=(4000, 4200, 200), logg=(1.0, 1.0, 0.2), snr=50, seed=5)
    a, b = build_grid(spec, apogee), build_grid(spec, apogee)
    np.testing.assert_array_equal(a.flux, b.flux)
    c = build_grid(GridSpec(n_profiles=1, teff=(4000, 4200, 200), logg=(1.0, 1.0, 0.2), snr=50, seed=6), apogee)
    assert not np.array_equal(a.flux, c.flux)


def test_same_seed_same_abundances_in_every_process():
    # Python randomises string hashing per process; the profiles must not depend on it.
    script = ("import numpy as np; from ml.synth.chemistry import draw_profiles; "
              "p = draw_profiles(5, np.random.default_rng(0)); print([round(float(p['Mg_Fe'][0]), 6), round(float(p['C_Fe'][0]), 6)])")
    outputs = {subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=ROOT,
                              env={**os.environ, "PYTHONHASHSEED": str(hash_seed)}).stdout for hash_seed in range(6)}
    assert len(outputs) == 1, outputs


def test_batches_cover_the_grid_in_order(apogee):
    spec = GridSpec(n_profiles=3, teff=(4000, 4200, 200), logg=(1.0, 1.2, 0.2))
    sizes = [len(batch.designation) for batch in iter_grid(spec, apogee, batch_size=5)]
    assert sizes == [5, 5, 2]


@pytest.mark.parametrize("kwargs, message", [
    ({"n_profiles": 0}, "n_profiles"), ({"snr": -1}, "snr"), ({"teff": (5000, 4000, 100)}, "teff"),
])
def test_bad_specs_are_rejected(kwargs, message):
    with pytest.raises(ValueError, match=message):
        GridSpec(**kwargs)


def test_noise_helper_is_shared_and_validates():
    from ml.synth.noise import add_noise

    flux, error = add_noise(np.ones((2, 5), np.float32), None)
    assert error is None
    with pytest.raises(ValueError, match="snr must be positive"):
        add_noise(np.ones((2, 5), np.float32), 0)
