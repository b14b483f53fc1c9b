"""BATMM training under bf16 autocast, as on a GPU: every stage runs, the image encoder's auxiliary
colour head included (its loss once ran outside autocast and met a bf16 input with float32 weights,
which stopped every GPU training of the default config). CI has no GPU, so the test runs the same
autocast on the CPU."""
from dataclasses import replace

import numpy as np
import pytest
import torch

from ml.bhb_train import BHBTrainer, BHBTrainingConfig
from tests.test_bhb_training import TINY, separable_set

pytestmark = pytest.mark.slow


def test_every_stage_trains_under_bf16_autocast(monkeypatch):
    spectra, images, labels = separable_set()
    config = BHBTrainingConfig(model=replace(TINY, colour_token=True), epochs_encoder=1,
                               epochs_fusion=1, batch_size=32, lr=1e-3, image_colour_weight=1.0, device="cpu")
    trainer = BHBTrainer(config, spectra, images, labels)
    entered = []

    def cpu_autocast():
        entered.append(True)
        return torch.autocast("cpu", dtype=torch.bfloat16)

    monkeypatch.setattr(trainer, "_autocast", cpu_autocast)
    results = trainer.run()
    assert entered, "the trainer no longer asks for its autocast context"
    assert np.isfinite(results["BATMM"]["f1_macro"]) and 0.0 <= results["BATMM"]["ece"] <= 1.0
