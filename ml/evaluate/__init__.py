"""Evaluation of representations: R² probes, near- and far-twin metrics, the supervised ceiling,
baselines and t-SNE maps.

All functions take plain arrays: features (N, D), labels (N,), groups (N,) (the chemical-profile id
of a synthetic grid: stars with the same group are true twins). Chemistry labels serve evaluation
only; no model trains on them.
"""
from ml.evaluate.baselines import PolyDis, PolynomialResidual, pca_features
from ml.evaluate.ceiling import Ceiling, supervised_ceiling
from ml.evaluate.generation import twin_generation_error
from ml.evaluate.maps import collapsed, tsne_map
from ml.evaluate.probes import r2_probe, r2_table
from ml.evaluate.twins import far_twin_metrics, far_twins, twin_metrics

__all__ = ["Ceiling", "PolyDis", "PolynomialResidual", "collapsed", "far_twin_metrics", "far_twins", "pca_features", "r2_probe",
           "r2_table", "supervised_ceiling", "tsne_map", "twin_generation_error", "twin_metrics"]
