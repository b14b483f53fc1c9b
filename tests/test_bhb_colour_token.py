"""The fusion's colour token: the PSF colours measured on the cutouts enter the fusion as one more
image token, standardised with the training split's statistics, and reach a saved model's scores."""
import numpy as np
import pytest
import torch
from torch.nn import functional as F

from ml.batmm import BATMMConfig, ColourToken, FusionTransformer
from ml.bhb_train import BHBTrainer, BHBTrainingConfig, load_model, save_model
from ml.photometry import psf_colours
from ml.synth.bhb import bhb_sample
from ml.workflows import BHBScorer

TINY = BATMMConfig(width=0.0625, d_model=16, n_layers=1, n_heads=2, dropout=0.0, colour_token=True)


def test_the_colour_token_is_one_more_image_token_and_is_required():
    fusion = FusionTransformer(TINY).eval()
    seen = []
    fusion.blocks[0].register_forward_hook(lambda module, inputs, output: seen.append(inputs[1].shape))
    logits = fusion(torch.randn(3, 16, 16), torch.randn(3, 7, 16), torch.randn(3, 5))
    assert logits.shape == (3, 2) and seen == [(3, 17, 16)]
    with pytest.raises(ValueError, match="pass colours"):
        fusion(torch.randn(3, 16, 16), torch.randn(3, 7, 16))
    assert FusionTransformer(BATMMConfig(**{**TINY.__dict__, "colour_token": False})).colour is None


def test_calibrate_standardises_and_refuses_bad_statistics():
    torch.manual_seed(0)
    token = ColourToken(8)
    mean, scale = torch.tensor([1.0, 0.2, 0.1, 0.0, 17.0]), torch.tensor([0.3, 0.1, 0.1, 0.1, 1.0])
    token.calibrate(mean, scale)
    torch.testing.assert_close(token(mean[None] + scale[None]), token.embed(torch.ones(1, 1, 5)))
    with pytest.raises(ValueError, match="positive scales"):
        token.calibrate(mean, torch.zeros(5))
    with pytest.raises(ValueError, match="5 means"):
        token.calibrate(mean[:4], scale[:4])
    torch.testing.assert_close(token.mean, mean)  # a refused calibration changes nothing


def test_the_fusion_learns_a_class_carried_by_the_colours_alone():
    """Tokens are noise; only u−g tells the classes apart. With the colour token the fusion learns
    it; without one it cannot (the same training)."""
    generator = torch.Generator().manual_seed(0)
    labels = torch.arange(256) % 2
    colours = torch.randn(256, 5, generator=generator) * 0.3 + torch.tensor([1.0, 0.3, 0.1, 0.0, 17.0])
    colours[:, 0] += 1.5 * labels  # u−g: a Balmer jump, 5σ apart
    image, spectrum = torch.randn(256, 16, 16, generator=generator), torch.randn(256, 7, 16, generator=generator)

    def accuracy_after_training(colour_token: bool) -> float:
        torch.manual_seed(0)
        fusion = FusionTransformer(BATMMConfig(**{**TINY.__dict__, "colour_token": colour_token, "spectrum_skip": False}))
        if colour_token:
            fusion.colour.calibrate(colours.mean(0), colours.std(0))
        optimiser = torch.optim.AdamW(fusion.parameters(), lr=3e-3)
        for _ in range(60):
            loss = F.cross_entropy(fusion(image, spectrum, colours if colour_token else None), labels)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
        with torch.no_grad():
            fresh = torch.randn(256, 16, 16, generator=generator), torch.randn(256, 7, 16, generator=generator)
            predicted = fusion.eval()(*fresh, colours if colour_token else None).argmax(1)
        return float((predicted == labels).float().mean())

    assert accuracy_after_training(True) > 0.9
    assert accuracy_after_training(False) < 0.7


@pytest.fixture(scope="module")
def trained():
    sample = bhb_sample(24, 24, np.random.default_rng(5))
    config = BHBTrainingConfig(model=TINY, epochs_encoder=1, epochs_fusion=2, batch_size=16, lr=3e-3, patience=0,
                               image_colour_weight=0.0, spectrum_noise=0.0)
    trainer = BHBTrainer(config, sample.flux, sample.images, sample.is_bhb.astype(int))
    trainer.run(ablations=False)
    return trainer, sample


def test_the_trainer_calibrates_the_token_on_the_training_split(trained):
    trainer, sample = trained
    train = psf_colours(sample.images)[trainer.split["train"]]
    colour = trainer.fusion["BATMM"].colour
    np.testing.assert_allclose(colour.mean.numpy(), train.mean(0), rtol=1e-5)
    np.testing.assert_allclose(colour.scale.numpy(), train.std(0), rtol=1e-5)


def test_a_saved_colour_token_model_scores_with_the_colours_of_the_cutouts(trained, tmp_path):
    trainer, sample = trained
    model = trainer.model("BATMM")
    torch.nn.init.normal_(model.fusion.head.weight, std=0.3)  # the [CLS] classifier may still be at its zero start
    save_model(model, tmp_path / "bhb.pt", extra={"image_scale": trainer.image_scale.tolist()})
    loaded, _ = load_model(tmp_path / "bhb.pt")
    assert loaded.config.colour_token and torch.equal(loaded.fusion.colour.mean, model.fusion.colour.mean)
    scores = BHBScorer(tmp_path / "bhb.pt", device="cpu").score(sample.flux[:6], sample.images[:6])
    with torch.no_grad():
        logits = model(torch.as_tensor(sample.flux[:6], dtype=torch.float32), trainer._images(np.arange(6)),
                       trainer.psf_colours[:6])["logits"]
    np.testing.assert_allclose(scores, torch.softmax(logits, 1)[:, 1].numpy(), rtol=1e-5, atol=1e-6)
    # the scorer really passes the colours: other colours give other logits
    with torch.no_grad():
        other = model(torch.as_tensor(sample.flux[:6], dtype=torch.float32), trainer._images(np.arange(6)),
                      trainer.psf_colours[:6] + 1.0)["logits"]
    assert not torch.allclose(logits, other)
