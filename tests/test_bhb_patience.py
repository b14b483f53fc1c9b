"""Early stopping per stage: ``patience`` stops a stage after that many epochs without a better
validation F1; ``spectrum_patience`` overrides it for VGG1D alone (0 = run the whole schedule)."""
from collections import Counter

import numpy as np
import pytest

from ml.batmm import BATMMConfig
from ml.bhb_train import BHBTrainer, BHBTrainingConfig
from ml.synth.bhb import bhb_sample

TINY = BATMMConfig(width=0.0625, d_model=32, n_layers=1, n_heads=4, dropout=0.0, spectrum_components=0)


@pytest.fixture(scope="module")
def sample():
    return bhb_sample(24, 24, np.random.default_rng(2))


def _epochs_run(sample, **training) -> Counter:
    """Epochs each stage ran. lr 0 freezes every model, so no epoch after the first can improve the
    validation F1, and each stage stops exactly ``patience`` epochs after its first."""
    epochs = Counter()
    config = BHBTrainingConfig(model=TINY, epochs_encoder=5, epochs_fusion=4, batch_size=16, lr=0.0, amp=False,
                               image_colour_weight=0.0, spectrum_noise=0.0, **training)
    trainer = BHBTrainer(config, sample.flux, sample.images, sample.is_bhb.astype(int),
                         on_epoch=lambda record: epochs.update([record["stage"]]))
    trainer.run(ablations=False)
    return epochs


def test_spectrum_patience_lets_vgg1d_run_its_whole_schedule_and_no_other_stage(sample):
    epochs = _epochs_run(sample, patience=1, spectrum_patience=0)
    assert epochs["VGG1D"] == 5
    assert epochs["ResNet+SE"] == 2  # epoch 1 improves on nothing, epoch 2 does not improve: stop
    assert epochs["BATMM"] == 1  # the fusion's untrained start is its epoch 0


def test_without_spectrum_patience_vgg1d_stops_like_every_stage(sample):
    epochs = _epochs_run(sample, patience=2)
    assert epochs["VGG1D"] == 3 and epochs["ResNet+SE"] == 3 and epochs["BATMM"] == 2


@pytest.mark.parametrize("setting", [{"spectrum_patience": -1}, {"patience": -2}, {"patience": "5"},
                                     {"spectrum_patience": 2.5}, {"spectrum_patience": True}])
def test_a_patience_that_is_not_a_whole_number_of_epochs_is_refused(setting):
    name = next(iter(setting))
    with pytest.raises(ValueError, match=f"^{name} must be a whole number of epochs >= 0"):
        BHBTrainingConfig(model=TINY, **setting)
