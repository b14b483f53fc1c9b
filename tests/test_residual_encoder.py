"""The opt-in "residual" encoder z = h((x − g(cp)) / s(cp)): cp reaches z only through the decoder's
own mean spectrum and gain (the opacity decoder's inversion has its own tests in
test_opacity_decoder.py)."""
import numpy as np
import pytest
import torch

from ml.disentangle import Disentangler, DisentanglerConfig, DisentanglerTrainer
from tests.test_disentangler_model import config, toy_grid
from tests.test_modulated_decoder import _randomised


def _star_at(model: Disentangler, pattern: torch.Tensor, cp: torch.Tensor) -> torch.Tensor:
    """The spectrum (1, P) that the modulated decoder's mean and gain make of ``pattern`` at cp."""
    with torch.no_grad():
        mean, scale = model.decoder.modulation(cp)
    return mean + scale * pattern


def test_the_same_pattern_at_other_parameters_gives_the_same_latent():
    model = _randomised(Disentangler(16, config(decoder="modulated", encoder="residual"), n_classes=[4, 4]))
    model.decoder.gain_floor = 1e-4  # exact division (the random gains here come close to 0 on some pixels)
    pattern = torch.randn(1, 16)
    cp_a, cp_b = torch.tensor([[1.0, -0.5]]), torch.tensor([[-1.2, 0.8]])
    star_a, star_b = _star_at(model, pattern, cp_a), _star_at(model, pattern, cp_b)
    assert not torch.allclose(star_a, star_b, atol=0.1)  # the two spectra differ,
    with torch.no_grad():
        z_a, z_b = model.encode(star_a, cp_a), model.encode(star_b, cp_b)
        other = model.encode(_star_at(model, torch.randn(1, 16), cp_b), cp_b)
    torch.testing.assert_close(z_a, z_b, rtol=0.02, atol=0.02 * float(z_a.abs().max()))  # but their latents agree
    assert not torch.allclose(z_a, other, rtol=0.1, atol=0.1 * float(z_a.abs().max()))  # a different pattern moves z


def test_the_seed_encoder_sees_cp_directly():
    """The contrast: through E(x ⊕ cp) the same star at two cp lands at two latents."""
    model = _randomised(Disentangler(16, config(decoder="modulated"), n_classes=[4, 4]))
    pattern = torch.randn(1, 16)
    cp_a, cp_b = torch.tensor([[1.0, -0.5]]), torch.tensor([[-1.2, 0.8]])
    with torch.no_grad():
        z_a = model.encode(_star_at(model, pattern, cp_a), cp_a)
        z_b = model.encode(_star_at(model, pattern, cp_b), cp_b)
    assert not torch.allclose(z_a, z_b, rtol=0.1, atol=0.1 * float(z_a.abs().max()))


@pytest.mark.parametrize("decoder", ["modulated", "opacity"])
def test_the_encoder_cannot_move_the_decoders_modulation(decoder):
    """g and s (and the opacity decoder's b) are read detached: only reconstruction trains them, so
    the encoder cannot use them to pass Teff and logg into z."""
    model = _randomised(Disentangler(16, config(decoder=decoder, encoder="residual"), n_classes=[4, 4]))
    model.encode(torch.randn(8, 16), torch.randn(8, 2)).square().sum().backward()
    assert all(p.grad is None for p in model.decoder.modulator.parameters())
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in model.encoder.parameters())


@pytest.mark.parametrize("decoder", ["modulated", "opacity"])
def test_trains_saves_encodes_raw_and_generates(tmp_path, decoder):
    flux, params, _ = toy_grid()
    trainer = DisentanglerTrainer(config(decoder=decoder, encoder="residual", epochs=6), flux, params)
    losses = [epoch["val_reconstruction"] for epoch in trainer.fit().epochs]
    assert losses[-1] < losses[0]
    loaded = DisentanglerTrainer.load(trainer.save(tmp_path / "model.pt"), device="cpu")
    assert (loaded.config.decoder, loaded.config.encoder) == (decoder, "residual")
    z = loaded.encode(flux[:4], params[:4])
    np.testing.assert_allclose(z, trainer.encode(flux[:4], params[:4]), rtol=1e-6)
    np.testing.assert_allclose(loaded.encode_raw(flux[:4], params[:4]), z, rtol=1e-6)
    spectra = loaded.generate(z, params[4:8])
    assert spectra.shape == (4, 64) and np.all(np.abs(spectra - 1) < 1.0)


@pytest.mark.parametrize("settings, message", [
    ({"encoder": "residual"}, "set decoder: modulated or opacity"),
    ({"encoder": "inverse", "decoder": "modulated"}, "encoder must be one of"),
])
def test_bad_settings_are_refused(settings, message):
    with pytest.raises(ValueError, match=message):
        DisentanglerConfig(**settings)
