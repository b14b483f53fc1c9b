"""Far twins (a same-profile star ≥ 800 K or ≥ 1 dex away) and the supervised ceiling, on toy cases
with known answers."""
import numpy as np
import pytest

from ml.evaluate import far_twin_metrics, far_twins, supervised_ceiling


def toy_catalogue(n_groups=6, seed=0):
    """Each profile at every (Teff, logg) of a 4 × 3 grid: Teff 4000–5800 K (600 K apart), logg 1–3."""
    teff, logg = np.meshgrid(np.linspace(4000, 5800, 4), np.linspace(1.0, 3.0, 3))
    teff, logg = np.tile(teff.ravel(), n_groups), np.tile(logg.ravel(), n_groups)
    groups = np.repeat(np.arange(n_groups), 12)
    return teff, logg, groups


def test_a_far_twin_is_the_same_profile_far_away_or_none():
    teff, logg, groups = toy_catalogue()
    far = far_twins(teff, logg, groups, seed=3)
    assert (far >= 0).all()  # on this grid every star has one
    assert (groups[far] == groups).all() and (far != np.arange(len(far))).all()
    assert ((np.abs(teff[far] - teff) >= 800) | (np.abs(logg[far] - logg) >= 1.0)).all()
    np.testing.assert_array_equal(far, far_twins(teff, logg, groups, seed=3))  # fixed by the seed
    near = far_twins(np.array([5000.0, 5100.0, 5000.0]), np.array([2.0, 2.5, 2.0]), np.array([0, 0, 1]))
    assert near.tolist() == [-1, -1, -1]  # 100 K and 0.5 dex apart: no far twin


def test_a_representation_of_the_chemistry_finds_every_far_twin():
    teff, logg, groups = toy_catalogue()
    far = far_twins(teff, logg, groups)
    chemistry = np.eye(6)[groups] + 0.01 * np.random.default_rng(0).normal(size=(len(groups), 6))
    perfect = far_twin_metrics(chemistry, groups, far)
    assert perfect["far_recall_at_1"] == 1.0 and perfect["far_auc"] == 1.0 and perfect["far_median_rank"] == 0
    assert perfect["far_n_stars"] == len(groups) and perfect["far_coverage"] == 1.0


def test_a_representation_of_teff_and_logg_finds_none():
    """The far twin is ≥ 800 K or 1 dex away, while other profiles sit at the star's own grid point."""
    teff, logg, groups = toy_catalogue()
    far = far_twins(teff, logg, groups)
    parameters = np.stack([teff / 600, logg], axis=1)
    result = far_twin_metrics(parameters, groups, far)
    assert result["far_recall_at_1"] == 0.0 and result["far_recall_at_10"] == 0.0 and result["far_auc"] < 0.5


def test_ties_count_against_and_random_sits_at_one_half():
    teff, logg, groups = toy_catalogue(n_groups=20)
    far = far_twins(teff, logg, groups)
    constant = far_twin_metrics(np.zeros((len(groups), 3)), groups, far)
    assert constant["far_recall_at_1"] == 0.0 and constant["far_auc"] == 0.0
    noise = far_twin_metrics(np.random.default_rng(1).normal(size=(len(groups), 5)), groups, far)
    assert noise["far_auc"] == pytest.approx(0.5, abs=0.05)


def test_no_far_twin_at_all_is_an_error():
    with pytest.raises(ValueError, match="no star has a far twin"):
        far_twin_metrics(np.zeros((3, 2)), np.array([0, 0, 1]), np.array([-1, -1, -1]))


def toy_spectra(n_groups=30, seed=0):
    """Spectra whose lines answer the chemistry more strongly at high Teff, on the toy grid."""
    rng = np.random.default_rng(seed)
    teff, logg, groups = toy_catalogue(n_groups, seed)
    chemistry = rng.normal(size=(n_groups, 2))[groups]
    t, g = (teff - 4900) / 700, (logg - 2.0)
    lines, shape = rng.normal(size=(2, 80)), rng.normal(size=(2, 80))
    flux = 1 + 0.05 * ((1 + 0.5 * t)[:, None] * (chemistry @ lines)) + 0.2 * (np.stack([t, g], 1) @ shape)
    return flux + rng.normal(0, 0.002, flux.shape), np.stack([teff, logg], 1), groups, chemistry


def test_the_ceiling_reads_the_chemistry_of_profiles_it_never_saw():
    flux, teff_logg, groups, chemistry = toy_spectra()
    predicted = supervised_ceiling(flux, teff_logg, groups, chemistry, n_components=10)
    assert predicted.shape == chemistry.shape
    for k in range(2):
        assert np.corrcoef(predicted[:, k], chemistry[:, k])[0, 1] > 0.95
    far = far_twins(teff_logg[:, 0], teff_logg[:, 1], groups)
    assert far_twin_metrics(predicted, groups, far)["far_auc"] > 0.95


def test_the_ceiling_is_cross_fitted_by_profile():
    """Labels unrelated to the spectra: a model that had seen a star's own profile could memorise
    them; fitted on the other half only, it predicts nothing."""
    flux, teff_logg, groups, _ = toy_spectra()
    unrelated = np.random.default_rng(5).normal(size=(30, 1))[groups]
    predicted = supervised_ceiling(flux, teff_logg, groups, unrelated, n_components=10)
    assert abs(np.corrcoef(predicted[:, 0], unrelated[:, 0])[0, 1]) < 0.3
    with pytest.raises(ValueError, match="two chemical profiles"):
        supervised_ceiling(flux[:12], teff_logg[:12], groups[:12], unrelated[:12])
