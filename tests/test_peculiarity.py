"""The peculiarity score finds a planted outlier in a toy latent space, is not fooled by a sparse
but ordinary region, and the exact neighbour search matches brute force."""
import numpy as np
import pytest

from ml.peculiar import nearest_neighbours, peculiarity, peculiarity_scores, precision_at


@pytest.fixture
def toy():
    """Two clusters in 25-d: a dense one (σ 0.1) and a sparse one (σ 1.0, its stars about 5 from its
    centre), 200 stars each, and one star planted 15 from the sparse cluster's centre."""
    rng = np.random.default_rng(0)
    dense = rng.normal(0.0, 0.1, (200, 25))
    sparse = rng.normal(0.0, 1.0, (200, 25)) + 20.0
    lonely = np.full((1, 25), 20.0 + 3.0)  # 3 per axis: 15 from the centre
    return np.vstack([dense, sparse, lonely]).astype(np.float32)


def test_neighbours_match_brute_force(toy):
    distances, indices = nearest_neighbours(toy, k=5, batch=64)
    points = toy.astype(np.float64)
    full = np.linalg.norm(points[:, None, :] - points[None, :, :], axis=2)
    np.fill_diagonal(full, np.inf)
    np.testing.assert_allclose(distances, np.sort(full, axis=1)[:, :5], rtol=1e-9)  # the 5 smallest, in order
    np.testing.assert_allclose(np.take_along_axis(full, indices, axis=1), distances, rtol=1e-9)  # of those rows
    assert not (indices == np.arange(len(toy))[:, None]).any()


def test_the_planted_star_scores_highest_and_the_sparse_cluster_is_ordinary(toy):
    scores = peculiarity_scores(toy, k=10)
    assert int(np.argmax(scores)) == 400 and scores[400] > 2.0
    # raw isolation would put the whole sparse cluster above the dense one; the ratio does not
    assert np.median(scores[:200]) == pytest.approx(1.0, abs=0.15) and np.median(scores[200:400]) == pytest.approx(1.0, abs=0.15)
    truth = np.zeros(len(toy), bool)
    truth[400] = True
    assert precision_at(scores, truth, 1) == 1.0


def test_duplicates_and_bad_k():
    same = np.zeros((5, 3), np.float32)
    assert np.all(peculiarity(*nearest_neighbours(same, 2)) == 1.0)
    with pytest.raises(ValueError, match="k must be between 1 and n - 1 = 4"):
        nearest_neighbours(same, 5)


def test_a_star_beside_collapsed_latents_gets_a_finite_score():
    rng = np.random.default_rng(2)
    spread_out = rng.normal(0, 1, (100, 5))
    collapsed = np.zeros((30, 5))  # thirty latents on one point, far from the rest
    collapsed[:, 0] = 50.0
    beside = np.array([[50.5, 0, 0, 0, 0]])
    scores = peculiarity_scores(np.vstack([spread_out, collapsed, beside]), k=10)
    assert np.isfinite(scores).all() and int(np.argmax(scores)) == 130


def test_a_residual_basis_keeps_rare_elements_and_the_score_finds_their_stars():
    """Residuals of 1,000 stars: noise (σ 0.005 to 0.05 per pixel along the spectrum), a misfit
    every star shares in some measure, and ten stars (1 %) each with one of five elements' ten lines
    too deep by 0.05–0.15. On the basis fitted to every other star (a sample that holds some of
    them, as a 5,000-spectrum sample of a catalog does), those ten score highest."""
    from ml.peculiar import ResidualBasis

    rng = np.random.default_rng(3)
    noise = np.linspace(0.005, 0.05, 400)
    residuals = rng.normal(0.0, 1.0, (1000, 400)) * noise
    residuals += rng.normal(0.0, 0.02, (1000, 1)) * np.sin(np.linspace(0, 6, 400))  # the shared misfit
    peculiar = np.arange(4, 1000, 100)
    for number, star in enumerate(peculiar):
        lines = np.concatenate([np.arange(centre, centre + 3) for centre in range(10 + 8 * (number % 5), 400, 40)])
        residuals[star, lines] -= rng.uniform(0.05, 0.15)
    basis = ResidualBasis.fit(residuals[::2], n_components=10)
    assert basis.components.shape == (10, 400) and np.allclose(basis.components @ basis.components.T, np.eye(10), atol=1e-4)
    assert basis.scale[-1] > 5 * basis.scale[0]  # each pixel in units of its own spread
    scores = peculiarity_scores(basis.project(residuals), k=10)
    assert precision_at(scores, np.isin(np.arange(1000), peculiar), 10) >= 0.9


def test_a_residual_basis_needs_two_spectra():
    from ml.peculiar import ResidualBasis

    with pytest.raises(ValueError, match="at least 2 residual spectra"):
        ResidualBasis.fit(np.zeros((1, 30)))
