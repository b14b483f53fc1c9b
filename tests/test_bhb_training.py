"""BATMM training on tiny data: it learns a separable set, runs no research baseline, and its artifacts round-trip."""
import numpy as np
import pytest
import torch

from ml.batmm import BATMMConfig
from ml.bhb_train import BHBTrainer, BHBTrainingConfig, load_model, metrics, save_model
from ml.synth.bhb import bhb_sample

pytestmark = pytest.mark.slow
TINY = BATMMConfig(width=0.0625, d_model=32, n_layers=2, n_heads=4, dropout=0.0)


def separable_set():
    """Easy classes: BHB spectra get a strong extra dip, BHB images a bright centre.
    Returns spectra (120, 3522), images (120, 5, 64, 64), labels (120,) with 1 = BHB."""
    sample = bhb_sample(60, 60, np.random.default_rng(0))
    spectra, images = sample.flux.copy(), sample.images.copy()
    spectra[sample.is_bhb, 1500:1600] *= 0.2
    images[sample.is_bhb, :, 28:36, 28:36] += 50.0
    return spectra, images, sample.is_bhb.astype(int)


@pytest.fixture(scope="module")
def separable():
    return separable_set()


def test_classifier_learns_a_separable_set(separable):
    spectra, images, labels = separable
    losses = []
    # Without the noise augmentation: on 84 training stars a 4-channel VGG1D at lr 3e-3 then learned
    # the dip in 2 of 4 seeds on one thread (in all on two); the augmentation is tested on its own.
    # 16 encoder epochs: behind the segment denoiser (fitted on those 84 stars) a 12-epoch schedule
    # found the dip only at epoch 10 and missed one of the 12 test stars.
    config = BHBTrainingConfig(model=TINY, epochs_encoder=16, epochs_fusion=12, batch_size=16, lr=3e-3, patience=0,
                               spectrum_noise=0.0)
    trainer = BHBTrainer(config, spectra, images, labels, log=losses.append)
    results = trainer.run(ablations=False)
    assert results["VGG1D (spectrum)"]["f1_macro"] > 0.9
    assert results["BATMM"]["f1_macro"] > 0.9
    # production training runs BATMM and scores each encoder alone, nothing else
    assert set(results) == {"VGG1D (spectrum)", "ResNet-50+SE (image)", "BATMM"}
    first, last = (float(line.split("F1 ")[1].split()[0]) for line in (losses[0], losses[15]))
    assert last >= first  # validation F1 rises over the encoder's epochs
    batmm = results["BATMM"]  # calibrated on the validation split, reported by magnitude
    assert batmm["temperature"] > 0 and 0 <= batmm["ece"] <= 1 and batmm["reliability"]
    assert [row["bin"] for row in batmm["by_magnitude"]] == ["g < 17", "17–18", "18–19", "g > 19", "all"]
    assert sum(row["n"] for row in batmm["by_magnitude"][:-1]) == len(trainer.split["test"])
    assert "by_magnitude" in results["VGG1D (spectrum)"] and "purity_95" in batmm
    assert [row["bin"] for row in trainer.xue_by_magnitude][-1] == "all"  # the classical cuts beside them
    weights = trainer.explanation
    assert sum(weights["segment_weights"]) == pytest.approx(1.0, abs=1e-4)
    assert sum(weights["band_weights"]) == pytest.approx(1.0, abs=1e-4)


def test_checkpoint_round_trip(separable, tmp_path):
    spectra, images, labels = separable
    trainer = BHBTrainer(BHBTrainingConfig(model=TINY, epochs_encoder=1, epochs_fusion=1, batch_size=16), spectra, images, labels)
    trainer.run(ablations=False)
    model = trainer.model()
    save_model(model, tmp_path / "batmm.pt", {"image_scale": trainer.image_scale})
    loaded, state = load_model(tmp_path / "batmm.pt")
    spectrum = torch.as_tensor(spectra[:3])
    image = torch.asinh(torch.as_tensor(images[:3]) / state["image_scale"][None, :, None, None])
    with torch.no_grad():
        torch.testing.assert_close(loaded(spectrum, image)["logits"], model(spectrum, image)["logits"])


def test_metrics():
    m = metrics(np.array([0, 0, 1, 1]), np.array([0.1, 0.6, 0.7, 0.9]))
    assert m["precision_bhb"] == pytest.approx(2 / 3) and m["recall_bhb"] == 1.0 and m["confusion"] == [[1, 1], [0, 2]]
    assert m["roc_auc"] == 1.0


def test_a_seed_gives_the_same_models_every_time(separable):
    """Initial weights come from the config's seed, not from torch's per-process start-up seed."""
    spectra, images, labels = separable

    def scores():
        config = BHBTrainingConfig(model=TINY, epochs_encoder=1, epochs_fusion=1, batch_size=16, seed=3)
        trainer = BHBTrainer(config, spectra, images, labels)
        trainer.run(ablations=False)
        return trainer.test_scores["BATMM"]

    first = scores()
    torch.manual_seed(12345)  # a different global state must not matter
    np.testing.assert_array_equal(first, scores())
