"""HDBSCAN groups recover planted clusters in a toy latent space and leave scattered stars out;
the Price-Jones & Bovy metrics score known cases exactly."""
import numpy as np

from ml.groups import chemical_groups, group_recovery


def test_planted_clusters_are_recovered():
    rng = np.random.default_rng(1)
    centres = rng.normal(0, 10, (4, 25))
    members = np.vstack([c + rng.normal(0, 0.3, (60, 25)) for c in centres])
    scattered = rng.uniform(-40, 40, (10, 25))
    latents = np.vstack([members, scattered])
    truth = np.r_[np.repeat(np.arange(4), 60), np.arange(100, 110)]
    groups = chemical_groups(latents, min_cluster_size=15)
    assert groups.n_groups == 4
    assert (groups.labels[240:] == -1).all() and (groups.probabilities[240:] == 0).all()
    recovery = group_recovery(groups.labels[:240], truth[:240])
    assert recovery["efficiency"] == 1.0 and recovery["completeness"] > 0.95 and recovery["matched"] == 1.0


def test_recovery_metrics_on_known_labels():
    truth = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    found = np.array([5, 5, 5, 6, 6, 6, -1, -1])  # group 5 pure; group 6 half and half
    recovery = group_recovery(found, truth)
    assert recovery["efficiency"] == 0.5 and recovery["n_groups"] == 2
    assert recovery["completeness"] == 3 / 4 and recovery["matched"] == 0.5  # profile 1 has no pure group
    assert recovery["unassigned"] == 0.25
    merged = group_recovery(np.zeros(8, int), truth)  # one group of everything: complete for nobody
    assert merged["efficiency"] == 0.0 and merged["completeness"] == 0.0 and merged["matched"] == 0.0


def test_too_few_stars_make_no_group():
    groups = chemical_groups(np.zeros((5, 3)), min_cluster_size=10)
    assert groups.n_groups == 0 and (groups.labels == -1).all()
