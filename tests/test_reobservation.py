"""The opt-in re-observation term ν · reobservation_ratio: what it measures, and that training lowers it."""
import numpy as np
import pytest
import torch

from ml.disentangle import DisentanglerConfig, DisentanglerTrainer, reobservation_ratio
from tests.test_disentangler_model import config, toy_grid


def test_ratio_is_zero_for_a_steady_latent_and_one_for_pure_noise():
    torch.manual_seed(0)
    z = torch.randn(4000, 6)
    assert reobservation_ratio(z, z).item() == 0.0
    assert reobservation_ratio(z, torch.randn(4000, 6)).item() == pytest.approx(1.0, abs=0.05)


def test_ratio_ignores_each_dimensions_scale():
    torch.manual_seed(1)
    signal = torch.randn(500, 4)
    z, z_again = signal + 0.1 * torch.randn(500, 4), signal + 0.1 * torch.randn(500, 4)
    scales = torch.tensor([1e-3, 1.0, 30.0, 1e4])
    assert reobservation_ratio(z * scales, z_again * scales).item() == pytest.approx(
        reobservation_ratio(z, z_again).item(), rel=1e-4)
    assert reobservation_ratio(z, z_again).item() == pytest.approx(0.01, rel=0.2)  # noise 0.1 on unit signal


def _test_ratio(trainer, flux, params, seed=0):
    """The ratio on the test stars, each re-observed with fresh noise at its own DER_SNR level."""
    test = trainer.split["test"]
    rng = np.random.default_rng(seed)
    noise = trainer.noise_level(flux[test])
    again = flux[test] + noise[:, None] * rng.standard_normal(flux[test].shape).astype(np.float32)
    z, z_again = (torch.as_tensor(trainer.encode(f, params[test])) for f in (flux[test], again))
    return reobservation_ratio(z, z_again).item()


def test_noise_level_is_the_spectrums_own():
    flux, _, _ = toy_grid(pixels=128, noise=0.05, smoothing=4)
    assert np.median(DisentanglerTrainer.noise_level(flux)) == pytest.approx(0.05, rel=0.1)


@pytest.mark.parametrize("seed", [0, 1])
def test_training_with_the_term_keeps_z_steady_under_new_noise(seed):
    flux, params, _ = toy_grid(n_groups=20, seed=seed, pixels=128, noise=0.5, smoothing=4)  # low S/N
    ratio = {}
    for weight in (0.0, 1.0):  # noAT: the term is the only push on z besides reconstruction
        settings = dict(variant="noAT", epochs=15, batch_size=32, latent_dim=8, noise_invariance=weight, seed=seed)
        trainer = DisentanglerTrainer(config(**settings), flux, params)
        trainer.fit()
        ratio[weight] = _test_ratio(trainer, flux, params)
    assert ratio[1.0] < 0.5 * ratio[0.0]


def test_same_seed_same_model_with_the_term():
    flux, params, _ = toy_grid()
    trained = [DisentanglerTrainer(config(seed=2, noise_invariance=0.5), flux, params) for _ in range(2)]
    for trainer in trained:
        trainer.fit()
    for a, b in zip(trained[0].model.parameters(), trained[1].model.parameters()):
        assert torch.equal(a, b)
    plain = DisentanglerTrainer(config(seed=2), flux, params)
    plain.fit()
    assert not torch.equal(next(plain.model.encoder.parameters()), next(trained[0].model.encoder.parameters()))


def test_negative_weight_is_rejected_and_off_by_default():
    with pytest.raises(ValueError, match="noise_invariance"):
        DisentanglerConfig(noise_invariance=-0.1)
    assert DisentanglerConfig().noise_invariance == 0.0  # the seed's objective by default


def test_resume_continues_exactly_with_the_term(tmp_path):
    flux, params, _ = toy_grid()
    settings = dict(epochs=4, noise_invariance=0.5)
    straight = DisentanglerTrainer(config(**settings), flux, params)
    straight.fit()
    first = DisentanglerTrainer(config(**settings), flux, params)
    first.fit(epochs=2, checkpoint=tmp_path / "run.ckpt")
    resumed = DisentanglerTrainer(config(**settings), flux, params)
    resumed.fit(checkpoint=tmp_path / "run.ckpt")
    assert resumed.epoch == 4
    for a, b in zip(straight.model.parameters(), resumed.model.parameters()):
        assert torch.equal(a, b)
