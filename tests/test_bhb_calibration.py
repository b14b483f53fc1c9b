"""Calibration and the BHB hunter's report, on problems with known answers: temperature scaling
recovers the temperature of an overconfident score and brings its ECE down; purity and
completeness by magnitude and the 95 %-purity threshold are counted as by hand."""
import numpy as np
import pytest

from ml.bhb_report import by_magnitude, threshold_for_purity
from ml.calibration import expected_calibration_error, fit_temperature, reliability, sigmoid


def _known_probabilities(n=20_000, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(0.0, 1.0, n)
    truth = sigmoid(2.0 * x)  # the true P(1 | x)
    labels = (rng.random(n) < truth).astype(int)
    return x, truth, labels


def test_temperature_scaling_recovers_an_overconfident_score():
    x, truth, labels = _known_probabilities()
    overconfident = 6.0 * x  # the same ranking, logits three times too large
    temperature = fit_temperature(overconfident, labels)
    assert temperature == pytest.approx(3.0, rel=0.08)
    calibrated = sigmoid(overconfident / temperature)
    assert expected_calibration_error(labels, sigmoid(overconfident)) > 0.08
    assert expected_calibration_error(labels, calibrated) < 0.02
    assert np.abs(calibrated - truth).max() < 0.06


def test_a_calibrated_score_keeps_temperature_one_and_reliability_follows_the_diagonal():
    x, truth, labels = _known_probabilities(seed=1)
    assert fit_temperature(2.0 * x, labels) == pytest.approx(1.0, rel=0.08)
    rows = reliability(labels, truth)
    assert sum(row["count"] for row in rows) == len(labels)
    assert all(abs(row["observed"] - row["predicted"]) < 0.05 for row in rows if row["count"] > 500)
    assert fit_temperature(np.ones(5), np.ones(5)) == 1.0  # one class: nothing to fit


def test_purity_and_completeness_by_magnitude():
    labels = np.array([1, 1, 0, 1, 0, 0, 1, 0])
    score = np.array([0.9, 0.8, 0.7, 0.6, 0.3, 0.1, 0.2, 0.95])
    g_mag = np.array([16.0, 17.5, 17.2, 18.5, 16.5, 20.0, 19.5, 19.8])
    rows = {row["bin"]: row for row in by_magnitude(labels, score, g_mag)}
    assert list(rows) == ["g < 17", "17–18", "18–19", "g > 19", "all"]
    assert rows["g < 17"]["purity"] == 1.0 and rows["g < 17"]["completeness"] == 1.0
    assert rows["17–18"]["purity"] == 0.5 and rows["17–18"]["completeness"] == 1.0
    assert rows["g > 19"]["purity"] == 0.0 and rows["g > 19"]["completeness"] == 0.0 and rows["g > 19"]["f1"] is None
    assert rows["all"]["selected"] == 5 and rows["all"]["purity"] == 0.6 and rows["all"]["completeness"] == 0.75


def test_the_threshold_for_95_percent_purity():
    labels = np.array([1, 1, 0, 1, 0, 0, 1, 0])
    score = np.array([0.9, 0.8, 0.7, 0.6, 0.3, 0.1, 0.2, 0.95])
    assert threshold_for_purity(labels, score, 0.95)["threshold"] is None  # the top score is not a BHB
    found = threshold_for_purity(labels, score, 0.6)  # 0.1: 4/8, 0.2: 4/7, 0.3: 3/6, 0.6: 3/5 ✓
    assert found["threshold"] == 0.6 and found["purity"] == 0.6 and found["completeness"] == 0.75


def test_the_xue_cuts_measured_on_the_spectra_select_mostly_bhbs():
    from ml.bhb_report import xue_selection
    from ml.synth.bhb import bhb_sample

    sample = bhb_sample(30, 30, np.random.default_rng(3))
    chosen, measured = xue_selection(sample.flux, sample.error)
    assert len(measured) == len(chosen) == 60
    assert set(np.unique(chosen)) <= {0.0, 1.0}
    assert chosen[sample.is_bhb].mean() > chosen[~sample.is_bhb].mean() + 0.3
