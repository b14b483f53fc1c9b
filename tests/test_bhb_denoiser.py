"""The spectrum encoder's segment denoiser: a projection of each normalised segment onto its leading
principal components, fitted on the training split only, saved with the model."""
import numpy as np
import pytest
import torch

from catalog.model_config import ConfigError, normalise
from ml.batmm import BATMM, N_PIXELS, N_SEGMENTS, SEGMENT_PIXELS, BATMMConfig, SegmentDenoiser, VGG1D, minmax_normalise
from ml.bhb_train import BHBTrainer, BHBTrainingConfig, load_model, save_model
from ml.synth.bhb import bhb_sample

TINY = BATMMConfig(width=0.0625, d_model=32, n_layers=2, n_heads=4, dropout=0.0, spectrum_components=4)


def _low_rank_spectra(n: int, rank: int, noise: float, generator: torch.Generator):
    """Clean spectra in a rank-``rank`` subspace per segment, and the same plus white noise, (n, 3522)."""
    modes = torch.randn(N_SEGMENTS, rank, SEGMENT_PIXELS, generator=generator).cumsum(-1) / 20  # smooth modes
    weights = torch.randn(n, N_SEGMENTS, rank, generator=generator)
    clean = 0.5 + torch.einsum("nsr,srp->nsp", weights, modes).reshape(n, -1) / 10
    clean = torch.cat([clean, torch.full((n, 1), 0.5)], dim=1)
    return clean, clean + noise * torch.randn(clean.shape, generator=generator)


def test_fitted_on_low_rank_spectra_it_removes_most_of_the_noise_and_keeps_the_signal():
    generator = torch.Generator().manual_seed(0)
    clean, noisy = _low_rank_spectra(600, rank=4, noise=0.02, generator=generator)
    denoiser = SegmentDenoiser(components=4)
    denoiser.fit(noisy[:500])
    new_clean, new_noisy = clean[500:], noisy[500:]  # stars it was not fitted on
    before = (new_noisy - new_clean)[:, :-1].pow(2).mean().sqrt()
    after = (denoiser(new_noisy) - new_clean)[:, :-1].pow(2).mean().sqrt()
    assert after < 0.15 * before  # √(4/503) ≈ 0.09 of the noise survives the projection
    torch.testing.assert_close(denoiser(new_noisy)[:, -1], new_noisy[:, -1])  # the dropped last pixel passes


def test_unfitted_it_is_the_identity_and_fitted_it_is_a_projection():
    spectra = torch.rand(40, N_PIXELS)
    denoiser = SegmentDenoiser(components=3)
    torch.testing.assert_close(denoiser(spectra), spectra)
    denoiser.fit(spectra)
    once = denoiser(spectra)
    assert not torch.allclose(once, spectra)
    torch.testing.assert_close(denoiser(once), once, atol=1e-5, rtol=0)
    with pytest.raises(ValueError, match="at least as many spectra"):
        SegmentDenoiser(components=50).fit(spectra)


def test_the_trainer_fits_it_on_the_training_split_only():
    sample = bhb_sample(30, 30, np.random.default_rng(3), with_images=True)
    config = BHBTrainingConfig(model=TINY, epochs_encoder=1, epochs_fusion=1, batch_size=16, lr=3e-3, patience=0,
                               image_colour_weight=0.0, spectrum_noise=0.0)
    trainer = BHBTrainer(config, sample.flux, sample.images, sample.is_bhb.astype(int))
    trainer.run(ablations=False)
    denoiser = trainer.spectrum_head.encoder.denoiser
    assert bool(denoiser.fitted) and denoiser.basis.shape == (N_SEGMENTS, SEGMENT_PIXELS, 4)
    scaled = minmax_normalise(torch.as_tensor(sample.flux, dtype=torch.float32))[:, : N_SEGMENTS * SEGMENT_PIXELS]
    segments = scaled.reshape(len(scaled), N_SEGMENTS, SEGMENT_PIXELS)
    torch.testing.assert_close(denoiser.mean, segments[trainer.split["train"]].mean(0), atol=1e-5, rtol=0)
    assert not torch.allclose(denoiser.mean, segments.mean(0), atol=1e-5, rtol=0)  # not all stars


def test_a_saved_model_keeps_its_fitted_denoiser(tmp_path):
    model = BATMM(TINY)
    spectra = torch.rand(20, N_PIXELS) + torch.linspace(0, 1, N_PIXELS)
    model.spectrum_encoder.fit_denoiser(spectra)
    save_model(model, tmp_path / "model.pt")
    loaded, _ = load_model(tmp_path / "model.pt")
    assert bool(loaded.spectrum_encoder.denoiser.fitted)
    images = torch.randn(3, 5, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(loaded(spectra[:3], images)["logits"], model.eval()(spectra[:3], images)["logits"])


def test_without_components_there_is_no_denoiser():
    assert VGG1D(BATMMConfig(**{**TINY.__dict__, "spectrum_components": 0})).denoiser is None


@pytest.mark.parametrize("components", [-1, 504, 2.5, True])
def test_a_bad_component_count_is_a_config_error(components):
    with pytest.raises(ConfigError, match="spectrum_components must be a whole number from 0"):
        normalise("bhb", {"model": {"spectrum_components": components}})
