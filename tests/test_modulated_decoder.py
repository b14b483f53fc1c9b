"""The opt-in "modulated" decoder x̂ = g(cp) + s(cp) ⊙ f(z): z acts through one cp-free pattern."""
import numpy as np
import pytest
import torch

from ml.disentangle import Disentangler, DisentanglerConfig, DisentanglerTrainer, ModulatedDecoder
from tests.test_disentangler_model import config, toy_grid


def _randomised(model: Disentangler) -> Disentangler:
    """The modulator starts at g = 0, s = 1; give it weights so that cp really acts."""
    torch.manual_seed(1)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.normal_(0, 0.3)
    return model


def _pattern_ratios(model: Disentangler, cp_a: torch.Tensor, cp_b: torch.Tensor) -> list[torch.Tensor]:
    """For two pairs of latents: (x̂(z1, A) − x̂(z2, A)) / (x̂(z1, B) − x̂(z2, B)), per pixel."""
    torch.manual_seed(2)
    ratios = []
    for _ in range(2):
        z1, z2 = torch.randn(1, 5), torch.randn(1, 5)
        with torch.no_grad():
            ratios.append((model.decode(z1, cp_a) - model.decode(z2, cp_a)) / (model.decode(z1, cp_b) - model.decode(z2, cp_b)))
    return ratios


def test_cp_only_rescales_each_pixels_response_to_z():
    model = _randomised(Disentangler(16, config(decoder="modulated"), n_classes=[4, 4]))
    cp_a, cp_b = torch.tensor([[1.0, -0.5]]), torch.tensor([[-1.2, 0.8]])
    first, second = _pattern_ratios(model, cp_a, cp_b)
    torch.testing.assert_close(first, second, rtol=1e-4, atol=1e-4)  # the same s(A)/s(B) whatever the stars
    assert not torch.allclose(first, torch.ones_like(first), atol=1e-2)  # and cp does rescale them


def test_the_seed_joint_decoder_lets_cp_reshape_the_response():
    """The property above is the modulated decoder's: the seed's D(z ⊕ cp) does not have it."""
    model = _randomised(Disentangler(16, config(), n_classes=[4, 4]))
    first, second = _pattern_ratios(model, torch.tensor([[1.0, -0.5]]), torch.tensor([[-1.2, 0.8]]))
    assert not torch.allclose(first, second, rtol=1e-2, atol=1e-2)


def test_starts_as_the_pattern_alone():
    decoder = ModulatedDecoder(16, 2, config(decoder="modulated"))
    z, cp = torch.randn(3, 5), torch.randn(3, 2)
    torch.testing.assert_close(decoder(z, cp), decoder.pattern(z))


def test_trains_saves_and_generates(tmp_path):
    flux, params, _ = toy_grid()
    trainer = DisentanglerTrainer(config(decoder="modulated", epochs=6), flux, params)
    history = trainer.fit()
    losses = [epoch["val_reconstruction"] for epoch in history.epochs]
    assert losses[-1] < losses[0]
    loaded = DisentanglerTrainer.load(trainer.save(tmp_path / "model.pt"), device="cpu")
    assert loaded.config.decoder == "modulated"
    z = loaded.encode(flux[:4], params[:4])
    np.testing.assert_allclose(z, trainer.encode(flux[:4], params[:4]), rtol=1e-6)
    np.testing.assert_allclose(loaded.encode_raw(flux[:4], params[:4]), z, rtol=1e-4, atol=1e-5)
    spectra = loaded.generate(z, params[4:8])
    assert spectra.shape == (4, 64) and np.all(np.abs(spectra - 1) < 1.0)


def test_unknown_decoder_is_rejected():
    with pytest.raises(ValueError, match="decoder must be one of"):
        DisentanglerConfig(decoder="additive")
