"""The one cache of loaded model artifacts, for the web processes and the workers alike.

An artifact path names one immutable file (a version's artifact is never rewritten), so a model is
loaded once per process and device and kept while it is used (the last few stay loaded).
"""
from __future__ import annotations

import functools


@functools.lru_cache(maxsize=4)
def disentangler(artifact: str, device: str = "cpu"):
    """The ``ml.disentangler.TrainedDisentangler`` saved at ``artifact`` (kept epoch)."""
    from ml.disentangler import TrainedDisentangler

    return TrainedDisentangler.load(artifact, device=device)


@functools.lru_cache(maxsize=4)
def bhb_scorer(artifact: str, device: str = "cpu"):
    """The ``ml.workflows.BHBScorer`` of the BATMM saved at ``artifact``."""
    from ml.workflows import BHBScorer

    return BHBScorer(artifact, device=device)
