"""Where a model runs: the one place that turns a device preference into a ``torch.device``."""
from __future__ import annotations

import torch


def choose_device(preference: str = "auto") -> torch.device:
    """``"auto"`` → CUDA when a GPU is visible, else the CPU; ``"cpu"`` / ``"cuda"`` as given.

    Call it inside the task that trains or scores, never in a forked parent (CUDA cannot survive a
    fork)."""
    if preference == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(preference)
