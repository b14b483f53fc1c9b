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
