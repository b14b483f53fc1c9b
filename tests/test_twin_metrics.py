"""Twin metrics and baselines give known answers on hand-made cases."""
import numpy as np
import pytest

from ml.evaluate import PolyDis, PolynomialResidual, collapsed, r2_probe, tsne_map, twin_metrics
from ml.evaluate.baselines import _monomials


def test_perfectly_separated_groups():
    features = np.array([[0.0], [0.1], [10.0], [10.1], [20.0], [20.1]])
    metrics = twin_metrics(features, np.array([0, 0, 1, 1, 2, 2]))
    assert metrics["recall_at_1"] == 1.0 and metrics["median_rank"] == 0.0
    assert metrics["pairwise_auc"] == 1.0


def test_known_ranks():
    # Star 0's twin (star 3) is farther than stars 1 and 2: rank 2. Star 3's nearest is star 2.
    features = np.array([[0.0], [1.0], [2.0], [3.0]])
    groups = np.array([0, 1, 2, 0])
    metrics = twin_metrics(features, groups)
    assert metrics["n_stars"] == 2  # stars 1 and 2 have no twin
    assert metrics["recall_at_1"] == 0.0 and metrics["median_rank"] == 2.0
    assert metrics["recall_at_10"] == 1.0
    assert metrics["pairwise_auc"] < 0.5


def test_a_constant_latent_finds_no_twin():
    # Every distance ties: a collapsed representation must score as useless, not as perfect.
    metrics = twin_metrics(np.zeros((40, 3)), np.repeat(np.arange(10), 4))
    assert metrics["recall_at_1"] == 0.0 and metrics["recall_at_10"] == 0.0
    assert metrics["median_rank"] == 36.0  # the 36 non-twins tie with the twins
    assert metrics["pairwise_auc"] == 0.5


def test_random_features_give_chance_auc():
    rng = np.random.default_rng(0)
    metrics = twin_metrics(rng.normal(size=(600, 5)), np.repeat(np.arange(30), 20))
    assert metrics["pairwise_auc"] == pytest.approx(0.5, abs=0.02)


def test_blocks_of_rows_and_of_pairs_give_the_whole_answer():
    """Ranks and AUC pairs are computed in blocks (raw spectra are 7214 wide); the block size
    must not change a single number."""
    rng = np.random.default_rng(4)
    groups = np.repeat(np.arange(30), 7)
    features = (rng.normal(size=(30, 12))[groups] + rng.normal(0, 1.5, (210, 12))).astype(np.float32)
    whole = twin_metrics(features, groups, n_pairs=5000, chunk=4096)
    assert twin_metrics(features, groups, n_pairs=5000, chunk=13) == whole
    assert 0.6 < whole["pairwise_auc"] < 1.0 and 0 < whole["recall_at_1"] < 1


def test_no_twins_is_an_error():
    with pytest.raises(ValueError, match="no star has a twin"):
        twin_metrics(np.zeros((3, 2)), np.array([0, 1, 2]))


def test_polydis_removes_the_parameters():
    rng = np.random.default_rng(0)
    parameters = rng.uniform(-1, 1, (400, 2))
    chemistry = rng.normal(size=(400, 1))
    flux = np.hstack([parameters**2 @ rng.normal(size=(2, 20)), chemistry @ rng.normal(size=(1, 20))])
    features = PolyDis(degree=2, n_components=3).fit(flux[:300], parameters[:300]).transform(flux[300:], parameters[300:])
    assert r2_probe(features[:50], parameters[300:350, 0], features[50:], parameters[350:, 0], repetitions=1) < 0.3
    assert abs(np.corrcoef(features[:, 0], chemistry[300:, 0])[0, 1]) > 0.9


def test_polynomial_residual_recovers_twins_hidden_by_the_parameters():
    # A latent = each profile's chemistry + a cubic trend in (Teff, logg) that dwarfs it: raw
    # distances find stars of similar Teff, the residual finds the twins.
    rng = np.random.default_rng(1)
    groups = np.repeat(np.arange(20), 50)
    chemistry = rng.normal(0, 1.0, (20, 4))[groups]
    parameters = rng.uniform(-1, 1, (1000, 2))
    trend = np.stack([parameters[:, 0] ** 3, parameters[:, 1] * parameters[:, 0], parameters[:, 1] ** 2,
                      parameters[:, 0]], axis=1) * 20.0
    latent = chemistry + trend
    residual = PolynomialResidual(degree=3).fit(latent, parameters).transform(latent, parameters)
    assert twin_metrics(latent, groups)["recall_at_1"] < 0.3
    assert twin_metrics(residual, groups)["recall_at_1"] == 1.0
    # A latent that is nothing but the trend leaves nothing behind.
    np.testing.assert_allclose(PolynomialResidual(degree=3).fit(trend, parameters).transform(trend, parameters), 0, atol=1e-9)


def test_polynomial_residual_fitted_in_blocks_is_the_least_squares_fit():
    """The block-wise QR fit (no float64 copy of the flux) gives lstsq's answer, including the
    minimum-norm one when a parameter is constant (a single-logg selection, say)."""
    rng = np.random.default_rng(3)
    parameters = np.stack([rng.uniform(3500, 5500, 1000), rng.uniform(0.5, 3.0, 1000)], axis=1)
    flux = rng.normal(1.0, 0.1, (1000, 40)).astype(np.float32)
    for columns in (parameters, np.stack([parameters[:, 0], np.full(1000, 2.0)], axis=1)):
        fitted = PolynomialResidual(degree=3, chunk=97).fit(flux, columns)
        design = _monomials(fitted.scaler.transform(columns), 3)
        expected = np.linalg.lstsq(design, flux.astype(np.float64), rcond=None)[0]
        np.testing.assert_allclose(fitted.coefficients, expected, rtol=1e-9, atol=1e-10)
        np.testing.assert_allclose(fitted.transform(flux, columns), flux - design @ expected, atol=1e-10)


def test_whitened_polydis_gives_unit_variance_components():
    rng = np.random.default_rng(0)
    parameters = rng.uniform(-1, 1, (300, 2))
    flux = parameters @ rng.normal(size=(2, 30)) + rng.normal(size=(300, 3)) * [5.0, 1.0, 0.2] @ rng.normal(size=(3, 30))
    plain = PolyDis(degree=1, n_components=3).fit(flux, parameters).transform(flux, parameters)
    whitened = PolyDis(degree=1, n_components=3, whiten=True).fit(flux, parameters).transform(flux, parameters)
    assert plain.std(axis=0)[0] > 10 * plain.std(axis=0)[2]
    np.testing.assert_allclose(whitened.std(axis=0, ddof=1), 1.0, rtol=1e-3)


def test_r2_probe_sees_a_linear_signal():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(500, 4))
    y = x[:, 0] * 2 + rng.normal(0, 0.1, 500)
    assert r2_probe(x[:400], y[:400], x[400:], y[400:], repetitions=1) > 0.9


def test_a_collapsed_latent_is_mapped_to_one_point_instead_of_crashing():
    # scikit-learn's Barnes–Hut t-SNE dies with a segmentation fault on identical points.
    latent = np.full((60, 25), 0.37, dtype=np.float32)
    assert collapsed(latent)
    np.testing.assert_array_equal(tsne_map(latent), np.zeros((60, 2)))
    tiny_but_real = latent + np.random.default_rng(0).normal(0, 1e-4, latent.shape).astype(np.float32)
    assert not collapsed(tiny_but_real)
    assert tsne_map(tiny_but_real).std() > 0
