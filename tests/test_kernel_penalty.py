"""The kernel dependence penalty μ · CKA(z, cp) (``penalties: {kernel: μ}``): what it measures, and that training lowers it."""
import pytest
import torch

from ml.disentangler import ConfigError, DisentanglerConfig, DisentanglerTrainer
from ml.disentangler.losses import kernel_dependence
from tests.test_disentangler_model import config, toy_grid


def test_measures_dependence_whatever_the_latents_scale():
    torch.manual_seed(0)
    cp = torch.randn(200, 2)
    independent = torch.randn(200, 25)
    hiding = torch.cat([independent[:, :23], cp], dim=1)  # cp kept in two of 25 dims
    free, leaking = kernel_dependence(independent, cp).item(), kernel_dependence(hiding, cp).item()
    assert 0 <= free < 0.1 < leaking <= 1
    assert kernel_dependence(100 * hiding, cp).item() == pytest.approx(leaking, rel=1e-4)
    assert kernel_dependence(cp @ torch.randn(2, 25), cp).item() > 0.9


def test_gradient_reaches_the_latent():
    cp = torch.randn(50, 2)
    z = torch.cat([torch.randn(50, 20), cp.repeat(1, 2), cp[:, :1]], dim=1).requires_grad_()
    kernel_dependence(z, cp).backward()
    assert z.grad is not None and z.grad.abs().sum() > 0


def dependence_after_training(penalty: str, measure) -> dict[float, float]:
    """``measure(z, cp)`` on the toy grid's test stars after mdAT with λ = 0 (so the penalty named
    ``penalty`` is the only push on z), for that penalty's weight 0 and 1."""
    flux, params, _ = toy_grid(n_groups=20)
    dependence = {}
    for weight in (0.0, 1.0):
        settings = {"variant": "mdAT", "lambdas": (0.0,), "epochs": 15, "batch_size": 32, "penalties": {penalty: weight}}
        trainer = DisentanglerTrainer(config(**settings), flux, params)
        trainer.fit()
        test = trainer.split["test"]
        z = torch.as_tensor(trainer.trained().encode(flux[test], params[test]))
        cp = torch.as_tensor(trainer.preprocessing.parameters.transform(params[test]), dtype=torch.float32)
        dependence[weight] = measure(z, cp).item()
    return dependence


def test_training_with_the_penalty_takes_the_parameters_out_of_z():
    dependence = dependence_after_training("kernel", kernel_dependence)
    assert dependence[1.0] < dependence[0.0] - 0.1


def test_the_no_adversary_baseline_ignores_it():
    assert DisentanglerConfig(variant="noAT", penalties={"kernel": 0.5}).penalty_weights() == {}
    assert DisentanglerConfig(variant="mdAT", penalties={"kernel": 0.5}).penalty_weights() == {"kernel": 0.5}
    flux, params, _ = toy_grid()
    trained = [DisentanglerTrainer(config(variant="noAT", penalties={"kernel": weight}), flux, params) for weight in (0.0, 5.0)]
    for trainer in trained:
        trainer.fit()
    for plain, with_weight in zip(trained[0].model.parameters(), trained[1].model.parameters()):
        assert torch.equal(plain, with_weight)


def test_negative_weight_is_rejected():
    with pytest.raises(ConfigError, match="penalties.kernel"):
        DisentanglerConfig(penalties={"kernel": -1.0})
    assert DisentanglerConfig().penalties == {}  # the seed's objective by default
