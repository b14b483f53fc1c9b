"""A version's twin metrics are measured among the test stars whose chemical group is known: a few
stars without one (a catalog's injected peculiar stars) leave the others scored, and are counted."""
import numpy as np

from ml.disentangler import DisentanglerTrainer
from ml.workflows import evaluate_disentangler
from tests.test_disentangler_model import config, toy_grid

EVALUATION = {"abundances": [], "probe_train_size": 4000, "probe_test_size": 2000}


def _evaluate(groups):
    flux, parameters, _ = toy_grid()
    trainer = DisentanglerTrainer(config(epochs=2, seed=1), flux, parameters)
    trainer.fit()
    labels = {"teff": parameters[:, 0].astype(np.float64), "logg": parameters[:, 1].astype(np.float64)}
    return trainer, evaluate_disentangler(trainer, trainer.trained(), flux, parameters, groups, labels,
                                          ["teff", "logg"], EVALUATION)


def test_stars_without_a_group_leave_the_twins_measured_among_the_others():
    _, _, groups = toy_grid()
    trainer, everyone = _evaluate(groups)
    test = trainer.split["test"]
    ungrouped = groups.copy()
    ungrouped[test[:3]] = -1  # three test stars of no known group
    _, some = _evaluate(ungrouped)
    assert everyone["twin_stars_without_group"] == 0 and everyone["twin_stars"] == len(test)
    assert some["twin_stars_without_group"] == 3 and some["twin_stars"] == len(test) - 3
    for metrics in (everyone, some):
        assert 0.0 <= metrics["twin_recall_at_10"] <= 1.0 and 0.0 <= metrics["far_auc"] <= 1.0


def test_no_grouped_twins_means_no_twin_metrics():
    _, _, groups = toy_grid()
    _, metrics = _evaluate(np.full_like(groups, -1))
    assert "twin_recall_at_10" not in metrics and "far_auc" not in metrics
