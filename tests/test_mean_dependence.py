"""The opt-in conditional-mean penalty ρ · mean_dependence(z, cp): what it measures, and that training lowers it."""
import pytest
import torch

from ml.disentangle import DisentanglerConfig, mean_dependence
from tests.test_kernel_dependence import dependence_after_training


def _cp(n: int = 50) -> torch.Tensor:
    return torch.randn(n, 2, generator=torch.Generator().manual_seed(1))


def test_unrelated_latents_score_chance_and_shifted_ones_more():
    cp = _cp()
    unrelated = torch.randn(50, 25, generator=torch.Generator().manual_seed(2))
    chance = mean_dependence(unrelated, cp).item()
    assert 0.03 < chance < 0.2  # about (M − 1)/(B − 1) = 5/49
    trend = torch.stack([cp[:, 0], cp[:, 0] * cp[:, 1] - cp[:, 1] ** 2], dim=1) @ torch.randn(2, 25)
    assert mean_dependence(unrelated + 0.5 * trend, cp).item() > chance + 0.1  # z's mean moves with cp
    assert mean_dependence(trend, cp).item() == pytest.approx(1.0, abs=1e-5)  # a quadratic in cp, all explained


def test_it_is_blind_to_each_latents_scale_and_sees_only_the_mean():
    cp = _cp(400)
    z = torch.randn(400, 25, generator=torch.Generator().manual_seed(3)) + 0.3 * cp[:, :1]
    scaled = z * torch.logspace(-2, 2, 25)
    assert mean_dependence(scaled, cp).item() == pytest.approx(mean_dependence(z, cp).item(), rel=1e-4)
    spread_only = torch.randn(400, 25, generator=torch.Generator().manual_seed(4)) * (1 + cp[:, :1].abs())
    assert mean_dependence(spread_only, cp).item() < 0.05  # Teff in how z spreads escapes it (documented)


def test_gradient_reaches_the_latent_and_tiny_batches_score_zero():
    cp = _cp()
    z = (torch.randn(50, 25) + cp[:, :1]).requires_grad_()
    mean_dependence(z, cp).backward()
    assert z.grad is not None and z.grad.abs().sum() > 0
    assert mean_dependence(torch.randn(8, 25), cp[:8]).item() == 0.0  # 8 stars cannot fit 6 terms meaningfully


def test_training_with_the_penalty_takes_the_mean_trend_out_of_z():
    dependence = dependence_after_training("mean_independence", mean_dependence)
    assert dependence[1.0] < dependence[0.0] - 0.1


def test_the_no_adversary_baseline_ignores_it_and_negative_weights_are_refused():
    assert DisentanglerConfig(variant="noAT", mean_independence=0.5).mean_independence_weight == 0.0
    assert DisentanglerConfig(variant="mdAT", mean_independence=0.5).mean_independence_weight == 0.5
    assert DisentanglerConfig().mean_independence == 0.0  # the seed's objective by default
    with pytest.raises(ValueError, match="mean_independence must be >= 0"):
        DisentanglerConfig(mean_independence=-0.1)
