"""`twin_generation_error`: how far a star's spectrum at its twin's parameters is from the twin's,
on hand-made spectra whose answers are known."""
import numpy as np
import pytest

from ml.evaluate import twin_generation_error

P = 4000


@pytest.fixture(scope="module")
def toy():
    """Two profiles, 100 stars each, half at t = −1 and half at t = +1: flux = 1 + 0.1·g·u + 0.05·t·v,
    with u and v of unit RMS. A twin (same g) is at the same t (difference 0) or at the opposite one
    (difference 0.1·v, RMS 0.1); a star of the other profile at the same t differs by exactly 0.1·u
    (RMS 0.1)."""
    rng = np.random.default_rng(0)
    u, v = rng.standard_normal(P), rng.standard_normal(P)
    u, v = u / np.sqrt(np.mean(u**2)), v / np.sqrt(np.mean(v**2))
    groups = np.array([0, 0, 1, 1] * 50)
    t = np.array([-1.0, 1.0, -1.0, 1.0] * 50)
    clean = 1.0 + 0.1 * groups[:, None] * u[None, :] + 0.05 * t[:, None] * v[None, :]
    parameters = t[:, None]
    return clean, parameters, groups, v


def test_reference_rows_and_an_exact_transfer_without_noise(toy):
    clean, parameters, groups, v = toy
    rows = np.arange(len(groups))
    exact = (lambda a, b: clean[a] + 0.05 * (parameters[b] - parameters[a]) * v[None, :], False)
    result = twin_generation_error(clean, None, parameters, groups, rows, {"exact": exact, "copy": (lambda a, b: clean[a], False)})
    assert 0.0 < result["twin as observed"] < 0.1
    assert result["copy"] == pytest.approx(result["twin as observed"])
    assert result["another star at the same parameters"] == pytest.approx(0.1, rel=1e-9)
    assert result["exact"] == pytest.approx(0.0, abs=1e-9)


def test_noise_is_removed_in_quadrature(toy):
    clean, parameters, groups, v = toy
    rng = np.random.default_rng(1)
    error = np.full_like(clean, 0.05)
    noisy = clean + error * rng.standard_normal(clean.shape)
    rows = np.arange(len(groups))
    exact = (lambda a, b: clean[a] + 0.05 * (parameters[b] - parameters[a]) * v[None, :], False)
    passes_noise = (lambda a, b: noisy[a] + 0.05 * (parameters[b] - parameters[a]) * v[None, :], True)
    result = twin_generation_error(noisy, error, parameters, groups, rows, {"exact": exact, "passes a's noise": passes_noise})
    # Without the correction these would read 0.05 and 0.071 (one and two noisy spectra).
    assert result["exact"] < 0.01
    assert result["passes a's noise"] < 0.01
    assert result["another star at the same parameters"] == pytest.approx(0.1, abs=0.005)


def test_rows_without_twins_are_an_error(toy):
    clean, parameters, groups, _ = toy
    with pytest.raises(ValueError, match="no star among these rows has a twin"):
        twin_generation_error(clean, None, parameters, groups, np.array([0, 2]), {})
