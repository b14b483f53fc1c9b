"""``epochs_image``: the image encoder's own number of epochs (None = ``epochs_encoder``)."""
from collections import Counter

import numpy as np
import pytest

from ml.batmm import BATMMConfig
from ml.bhb_train import BHBTrainer, BHBTrainingConfig
from ml.synth.bhb import bhb_sample

TINY = BATMMConfig(width=0.0625, d_model=32, n_layers=1, n_heads=4, dropout=0.0, spectrum_components=0)


def _epochs_run(**training) -> Counter:
    sample = bhb_sample(16, 16, np.random.default_rng(3))
    epochs = Counter()
    config = BHBTrainingConfig(model=TINY, epochs_encoder=3, epochs_fusion=1, batch_size=16, patience=0, amp=False,
                               image_colour_weight=0.0, spectrum_noise=0.0, **training)
    BHBTrainer(config, sample.flux, sample.images, sample.is_bhb.astype(int),
               on_epoch=lambda record: epochs.update([record["stage"]])).run(ablations=False)
    return epochs


def test_the_image_encoder_runs_its_own_epochs():
    epochs = _epochs_run(epochs_image=1)
    assert epochs["VGG1D"] == 3 and epochs["ResNet+SE"] == 1


def test_without_epochs_image_both_encoders_run_epochs_encoder():
    epochs = _epochs_run()
    assert epochs["VGG1D"] == 3 and epochs["ResNet+SE"] == 3


@pytest.mark.parametrize("value", [0, -1, 2.5, True, "3"])
def test_epochs_image_must_be_a_positive_whole_number(value):
    with pytest.raises(ValueError, match="^epochs_image must be a whole number of epochs >= 1"):
        BHBTrainingConfig(model=TINY, epochs_image=value)
