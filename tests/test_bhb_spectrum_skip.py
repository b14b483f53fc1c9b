"""The fusion starts from the spectrum encoder's own decision (a frozen skip readout), learns a
correction to it, and is kept only if some epoch beats the untrained start on validation. (Models
saved before the skip existed: tests/test_bhb_token_order.py.)"""
import copy

import numpy as np
import pytest
import torch
from torch import nn

from ml.batmm import BATMMConfig, FusionTransformer
from ml.bhb_train import BHBTrainer, BHBTrainingConfig, spectrum_head
from ml.synth.bhb import bhb_sample

TINY = BATMMConfig(width=0.0625, d_model=32, n_layers=2, n_heads=4, dropout=0.0)


def _anchored(config: BATMMConfig) -> tuple[FusionTransformer, nn.Module]:
    torch.manual_seed(0)
    head = spectrum_head(config)
    nn.init.normal_(head.head.weight, std=0.3)  # a decided spectrum classifier, not a near-zero one
    fusion = FusionTransformer(config)
    fusion.anchor_spectrum(head.head)
    return fusion.eval(), head


@pytest.mark.parametrize("variant", [{}, {"cross_attention": False}, {"modality_embeddings": False}])
def test_an_untrained_fusion_decides_exactly_as_the_spectrum_encoder(variant):
    fusion, head = _anchored(BATMMConfig(**{**TINY.__dict__, **variant}))
    image, spectrum = torch.randn(5, 16, 32), torch.randn(5, 7, 32)
    with torch.no_grad():
        torch.testing.assert_close(fusion(image, spectrum), head.head(head.features(spectrum)))


def test_without_the_skip_the_fusion_has_no_readout_and_refuses_an_anchor():
    fusion = FusionTransformer(BATMMConfig(**{**TINY.__dict__, "spectrum_skip": False}))
    assert fusion.spectrum_readout is None and fusion.head.weight.abs().sum() > 0
    with pytest.raises(ValueError, match="no spectrum skip"):
        fusion.anchor_spectrum(nn.Linear(7 * 32, 2))


@pytest.fixture(scope="module")
def trainer():
    sample = bhb_sample(40, 40, np.random.default_rng(7))
    config = BHBTrainingConfig(model=TINY, epochs_encoder=1, epochs_fusion=3, batch_size=16, lr=3e-3, patience=0,
                               image_colour_weight=0.0, spectrum_noise=0.0)
    return BHBTrainer(config, sample.flux, sample.images, sample.is_bhb.astype(int))


def _token_inputs(trainer):
    generator = torch.Generator().manual_seed(1)
    n = len(trainer.labels)
    image, spectrum = torch.randn(n, 16, 32, generator=generator), torch.randn(n, 7, 32, generator=generator)
    return lambda index: (image[index], spectrum[index])


def test_training_moves_the_cls_classifier_and_never_the_skip_readout(trainer):
    fusion, head = _anchored(TINY)
    start = copy.deepcopy(fusion.state_dict())
    trained = trainer._train(fusion, _token_inputs(trainer), 2, "probe")  # no keep_start: the last best epoch
    torch.testing.assert_close(trained.spectrum_readout.weight, head.head.weight)
    torch.testing.assert_close(trained.spectrum_readout.bias, head.head.bias)
    assert not torch.equal(trained.head.weight, start["head.weight"])  # zero at the start, learned since
    assert not torch.equal(trained.blocks[0].ffn[0].weight, start["blocks.0.ffn.0.weight"])  # the transformer learns too


@pytest.mark.parametrize("keep_start", [True, False])
def test_keep_start_keeps_the_untrained_model_when_no_epoch_beats_it(trainer, monkeypatch, keep_start):
    fusion, _ = _anchored(TINY)
    start = copy.deepcopy(fusion.state_dict())
    validation = trainer.labels[trainer.split["validation"]].numpy().astype(float)
    calls = []

    def scores(model, inputs, index):  # the first scoring is perfect, every later one wrong
        calls.append(index)
        return validation if len(calls) == 1 else 1.0 - validation

    monkeypatch.setattr(trainer, "_scores", scores)
    trained = trainer._train(fusion, _token_inputs(trainer), 2, "probe", keep_start=keep_start)
    unchanged = all(torch.equal(trained.state_dict()[key], value) for key, value in start.items())
    assert len(calls) == (3 if keep_start else 2)
    assert unchanged is keep_start  # without keep_start the start is never scored, epoch 1 is kept


@pytest.mark.slow
def test_the_fusion_learns_from_the_image_what_the_spectrum_cannot_tell():
    """Spectra carry no class information here (the same star for every label), images do (a bright
    centre): VGG1D is at chance, so whatever BATMM gets right it learned through the fusion."""
    sample = bhb_sample(100, 100, np.random.default_rng(0))  # 20 test stars (12 left the image branch at 0.83–0.91)
    labels = sample.is_bhb.astype(int)
    rng = np.random.default_rng(1)
    spectra = sample.flux[0] * (1.0 + 0.01 * rng.standard_normal(sample.flux.shape))
    images = sample.images.copy()
    images[labels == 1, :, 28:36, 28:36] += 50.0
    config = BHBTrainingConfig(model=TINY, epochs_encoder=8, epochs_fusion=12, batch_size=16, lr=3e-3, patience=0,
                               image_colour_weight=0.0, spectrum_noise=0.0)
    trainer = BHBTrainer(config, spectra, images, labels)
    results = trainer.run(ablations=False)
    assert results["VGG1D (spectrum)"]["f1_macro"] < 0.75
    assert results["ResNet-50+SE (image)"]["f1_macro"] > 0.9
    assert results["BATMM"]["f1_macro"] > 0.9
