"""The BATMM paper's baselines run on BATMM's own splits: SVM and XGBoost on the spectra, early
fusion on a trained BHBTrainer's encoders, and the summary over seeds."""
import pytest

from ml.bhb_train import BHBTrainer, BHBTrainingConfig
from ml.data import split_indices
from research.bhb_baselines import classical_baselines, early_fusion, summarise
from tests.test_bhb_training import TINY, separable  # noqa: F401  (fixture)

pytestmark = pytest.mark.slow


def test_svm_and_xgboost_run_on_the_same_splits(separable):  # noqa: F811
    spectra, _, labels = separable
    split = split_indices(len(labels), validation=0.2, test=0.3, seed=0)
    results = classical_baselines(spectra, labels, split)
    assert set(results) == {"SVM (spectrum)", "XGBoost (spectrum)"}
    assert all(result["f1_macro"] > 0.8 for result in results.values())


def test_early_fusion_reads_the_trained_encoders(separable):  # noqa: F811
    spectra, images, labels = separable
    config = BHBTrainingConfig(model=TINY, epochs_encoder=16, epochs_fusion=1, batch_size=16, lr=3e-3, patience=0,
                               spectrum_noise=0.0)
    trainer = BHBTrainer(config, spectra, images, labels)
    trainer.run()
    results = early_fusion(trainer)
    assert set(results) == {"early add", "early concat"}
    assert results["early concat"]["f1_macro"] > 0.9  # the spectrum encoder's features separate the dip


def test_summary_is_mean_and_sample_sigma():
    summary = summarise([{"A": {"f1_macro": 0.8}}, {"A": {"f1_macro": 0.9}}])
    assert summary["A"]["f1_macro"]["mean"] == pytest.approx(0.85)
    assert summary["A"]["f1_macro"]["std"] == pytest.approx(0.05 * 2**0.5)
    assert summarise([{"A": {"f1_macro": 0.8}}])["A"]["f1_macro"]["std"] == 0.0
