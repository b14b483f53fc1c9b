"""The disentangler: shapes, determinism, exact resume, the adversarial push, the kept epoch, generation."""
import math

import numpy as np
import pytest
import torch

from ml.data import Binner, JointBins, Standardiser, split_indices
from ml.disentangler import DisentanglerConfig, DisentanglerTrainer, TrainedDisentangler
from ml.disentangler.losses import adversarial_term, chance_cross_entropy
from ml.disentangler.model import Disentangler


def toy_grid(n_groups=12, seed=0, pixels=64, noise=0.005, smoothing=0.0):
    """Spectra whose 'chemistry' (group) and parameters both shape the flux; parameters dominate.
    ``noise``: σ of the Gaussian pixel noise (the star-to-star spread is about 0.1). ``smoothing``
    > 0 makes each spectral pattern smooth over that many pixels (a Gaussian filter, rescaled to the
    same spread), so that DER_SNR reads the noise it was given."""
    rng = np.random.default_rng(seed)
    teff = np.tile(np.repeat(np.linspace(4000, 5000, 5), 4), n_groups)
    logg = np.tile(np.tile(np.linspace(1.0, 2.5, 4), 5), n_groups)
    group = np.repeat(np.arange(n_groups), 20)
    chemistry = rng.normal(size=(n_groups, 3))[group]
    basis_p = rng.normal(size=(2, pixels))
    basis_c = rng.normal(size=(3, pixels))
    if smoothing:
        basis_p, basis_c = (_smooth(basis, smoothing) for basis in (basis_p, basis_c))
    basis_c = 0.3 * basis_c
    parameters = np.stack([(teff - 4500) / 400, (logg - 1.75) / 0.6], axis=1)
    flux = 1 + 0.1 * (parameters @ basis_p + chemistry @ basis_c) + rng.normal(0, noise, (len(teff), pixels))
    return flux.astype(np.float32), np.stack([teff, logg], axis=1).astype(np.float32), group


def _smooth(patterns, width):
    """Each row filtered with a Gaussian of ``width`` pixels, then rescaled to unit spread."""
    from scipy.ndimage import gaussian_filter1d

    smooth = gaussian_filter1d(patterns, width, axis=1)
    return smooth / smooth.std(axis=1, keepdims=True)


def config(**kwargs):
    base = dict(epochs=3, batch_size=16, patience=0, encoder_hidden=(32, 16), decoder_hidden=(16, 32),
                discriminator_hidden=(16, 8), latent_dim=5, n_bins=4)
    base.update(kwargs)
    return DisentanglerConfig(**base)


def test_seed_defaults():
    default = DisentanglerConfig()
    assert default.encoder_hidden == (512, 256) and default.decoder_hidden == (256, 512)
    assert default.discriminator_hidden == (64, 32) and default.latent_dim == 25 and default.n_bins == 10
    assert default.variant == "mdAT" and default.conditional == ("teff", "logg")
    assert default.preset == "paper" and default.decoder == "joint" and default.penalties == {}


def test_shapes_through_the_networks():
    model = Disentangler(7214, DisentanglerConfig(), n_classes=[10, 10])
    x, cp = torch.zeros(3, 7214), torch.zeros(3, 2)
    z = model.encode(x, cp)
    assert z.shape == (3, 25)
    assert model.decode(z, cp).shape == (3, 7214)
    assert [d(z).shape for d in model.discriminators] == [(3, 10), (3, 10)]


def test_at_uses_one_discriminator_over_the_joint_bins_seen_in_training():
    flux, params, _ = toy_grid()
    trainer = DisentanglerTrainer(config(variant="AT", n_bins=4), flux, params)
    assert len(trainer.model.discriminators) == 1
    assert trainer.model.discriminators[0][-1].out_features == trainer.preprocessing.joint.n_classes <= 16


@pytest.mark.parametrize("settings", [
    {},
    {"leak_limit": 0.2, "penalties": {"kernel": 0.5}},  # the twins preset's rule, with a penalty on z
], ids=["paper", "leak_limit_and_penalty"])
def test_same_seed_same_model(settings):
    flux, params, _ = toy_grid()
    a = DisentanglerTrainer(config(seed=3, **settings), flux, params)
    b = DisentanglerTrainer(config(seed=3, **settings), flux, params)
    a.fit(), b.fit()
    for p, q in zip(a.model.parameters(), b.model.parameters()):
        assert torch.equal(p, q)
    other = DisentanglerTrainer(config(seed=4, **settings), flux, params)
    other.fit()
    assert not torch.equal(next(a.model.encoder.parameters()), next(other.model.encoder.parameters()))


@pytest.mark.parametrize("settings", [{}, {"leak_limit": 0.5, "penalties": {"kernel": 0.5}}], ids=["paper", "twins"])
def test_resume_from_a_checkpoint_continues_exactly(tmp_path, settings):
    flux, params, _ = toy_grid()
    settings = dict(epochs=4, **settings)
    straight = DisentanglerTrainer(config(**settings), flux, params)
    straight.fit()
    checkpoint = tmp_path / "run.pt"
    first = DisentanglerTrainer(config(**settings), flux, params)
    first.fit(epochs=2, checkpoint=checkpoint)
    torch.manual_seed(12345)  # whatever the new process's RNG state, the checkpoint restores it
    resumed = DisentanglerTrainer(config(**settings), flux, params)  # a new process, say
    resumed.fit(checkpoint=checkpoint)
    assert resumed.epoch == 4 and len(resumed.history.epochs) == 4
    for p, q in zip(straight.model.parameters(), resumed.model.parameters()):
        assert torch.equal(p, q)
    assert resumed.history.best_epoch == straight.history.best_epoch


def test_training_is_unchanged_by_what_happens_between_epochs():
    """A probe between epochs encodes (which leaves the model in eval mode, where the BatchNorms use
    running statistics) and may reseed torch's global RNG, and so may another task in the same
    worker; the training must come out the same."""
    flux, params, _ = toy_grid()
    straight = DisentanglerTrainer(config(epochs=4), flux, params)
    straight.fit()
    interrupted = DisentanglerTrainer(config(epochs=4), flux, params)
    interrupted.fit(epochs=2)
    interrupted.trained().encode(flux, params)
    interrupted.evaluate(interrupted.split["validation"])
    torch.manual_seed(12345)
    interrupted.fit(epochs=4)
    for p, q in zip(straight.model.parameters(), interrupted.model.parameters()):
        assert torch.equal(p, q)


def test_adversarial_gradient_flows_through_z_into_the_encoder():
    model = Disentangler(8, config(), n_classes=[4])
    x, cp = torch.randn(6, 8), torch.randn(6, 2)
    target = torch.zeros(6, dtype=torch.long)
    with torch.no_grad():  # a discriminator that already reads the parameter (CE below chance)
        model.discriminators[0][-1].bias.copy_(torch.tensor([3.0, 0.0, 0.0, 0.0]))
    z = model.encode(x, cp)
    adversarial_term(model.discriminators[0](z), target).backward()
    first_layer = model.encoder[0].weight.grad
    assert first_layer is not None and first_layer.abs().sum() > 0


def test_adversarial_term_is_bounded_at_three_times_chance_and_flat_beyond():
    logits = torch.tensor([[30.0, -30.0, -30.0, -30.0]], requires_grad=True)  # confidently wrong: CE ≈ 60
    term = adversarial_term(logits, torch.tensor([1]))
    assert term.item() == pytest.approx(-3 * math.log(4))
    term.backward()
    assert logits.grad.abs().sum() == 0  # no reward for being ever more confidently wrong
    near_chance = torch.zeros(1, 4, requires_grad=True)
    adversarial_term(near_chance, torch.tensor([1])).backward()
    assert near_chance.grad.abs().sum() > 0  # below the bound it pushes


def test_model_selection_counts_what_discriminators_read_but_never_rewards_them_being_wrong():
    flux, params, _ = toy_grid()
    trainer = DisentanglerTrainer(config(variant="mdAT", lambdas=(0.5,)), flux, params)
    validation = trainer.split["validation"]
    with torch.no_grad():
        for discriminator in trainer.model.discriminators:
            discriminator[-1].weight.zero_()
            discriminator[-1].bias.copy_(torch.tensor([0.0, 0.0, 0.0, 50.0]))  # always bin 3, confidently
    wrong = trainer.evaluate(validation)
    assert min(wrong["disc_ce"]) > 3 * math.log(4)  # far above chance ...
    assert wrong["leak"] == 0.0 and wrong["objective"] == pytest.approx(wrong["reconstruction"])  # ... earns nothing
    assert wrong["adversarial"] < 0  # while the training loss would have rewarded it
    targets = trainer.targets[torch.as_tensor(validation)]
    with torch.no_grad():  # a discriminator that reads Teff perfectly: the leak is λ · H(Teff bins)
        trainer.model.discriminators[0] = _Oracle(targets[:, 0], n_classes=4)
    reading = trainer.evaluate(validation)
    _, counts = np.unique(trainer.targets[torch.as_tensor(trainer.split["train"]), 0].numpy(), return_counts=True)
    entropy = -(counts / counts.sum() * np.log(counts / counts.sum())).sum()
    assert reading["leak"] == pytest.approx(0.5 * entropy, rel=1e-3)
    assert reading["objective"] == pytest.approx(reading["reconstruction"] + reading["leak"])


def test_chance_is_the_entropy_of_the_occupied_bins():
    # Three occupied bins of ten (a grid with three [Fe/H] values), and unlabelled AT rows ignored.
    targets = np.array([[0], [4], [9], [0], [4], [9], [JointBins.IGNORE]])
    assert chance_cross_entropy(targets) == pytest.approx([math.log(3)])


class _Oracle(torch.nn.Module):
    """Returns confident logits for known targets, whatever z is (one validation pass, in order)."""

    def __init__(self, targets, n_classes):
        super().__init__()
        self.logits = torch.nn.functional.one_hot(targets, n_classes).float() * 100.0

    def forward(self, z):
        return self.logits[: len(z)]


@pytest.mark.slow
def test_adversarial_training_lowers_the_discriminators_accuracy():
    flux, params, _ = toy_grid(n_groups=30)
    kwargs = dict(epochs=40, batch_size=32, n_bins=4, lr_autoencoder=2e-3)
    no_at = DisentanglerTrainer(config(variant="noAT", **kwargs), flux, params)
    md_at = DisentanglerTrainer(config(variant="mdAT", lambdas=(2.0,), **kwargs), flux, params)
    no_at.fit(), md_at.fit()
    accuracy = lambda t: np.mean(t.evaluate(t.split["test"], model=t.kept_network())["disc_accuracy"])  # noqa: E731
    assert accuracy(md_at) < accuracy(no_at) - 0.1


def test_generation_shape_range_and_flags():
    flux, params, _ = toy_grid()
    trainer = DisentanglerTrainer(config(epochs=5), flux, params)
    trainer.fit()
    model = trainer.trained()
    z = model.encode(flux[:3], params[:3])
    other = np.array([[4200.0, 1.2], [4800.0, 2.4], [7000.0, 1.5]], dtype=np.float32)
    spectra, outside = model.generate(z, other), model.outside_training_range(other)
    assert spectra.shape == (3, 64)
    assert np.all(np.abs(spectra - 1) < 1.0)  # plausible normalised flux
    assert outside.tolist() == [False, False, True]


@pytest.mark.parametrize("preset", ["paper", "twins"])
def test_artifact_round_trip(tmp_path, preset):
    flux, params, _ = toy_grid()
    trainer = DisentanglerTrainer(config(preset=preset, leak_limit=0.2 if preset == "twins" else 0.0), flux, params)
    trainer.fit()
    loaded = TrainedDisentangler.load(trainer.save(tmp_path / "model.pt"), device="cpu")
    assert loaded.config.preset == preset and loaded.kept_epoch == trainer.history.best_epoch
    np.testing.assert_allclose(loaded.encode(flux[:5], params[:5]), trainer.trained().encode(flux[:5], params[:5]), rtol=1e-6)


def test_bad_config_and_data_are_rejected():
    with pytest.raises(ValueError, match="variant"):
        DisentanglerConfig(variant="ATX")
    with pytest.raises(ValueError, match="decoder must be one of joint"):
        DisentanglerConfig(decoder="modulated")
    with pytest.raises(ValueError, match="penalties must be one of kernel"):
        DisentanglerConfig(penalties={"mean": 0.1})
    with pytest.raises(ValueError, match="penalties.kernel must be a number >= 0"):
        DisentanglerConfig(penalties={"kernel": -1})
    with pytest.raises(ValueError, match="unknown disentangler setting"):
        DisentanglerConfig.from_dict({"epoch": 3})
    with pytest.raises(ValueError, match="one λ or one per discriminator"):
        DisentanglerConfig(lambdas=(1.0, 2.0, 3.0))
    flux, params, _ = toy_grid()
    flux[0, 0] = np.nan
    with pytest.raises(ValueError, match="finite"):
        DisentanglerTrainer(config(), flux, params)


def test_scalers_are_fitted_on_the_training_split_only():
    flux, params, _ = toy_grid()
    params[-1, 0] = 99999.0  # an outlier ...
    split = split_indices(len(flux), 0.1, 0.1, seed=0)
    split["test"] = np.append(split["test"][split["test"] != len(flux) - 1], len(flux) - 1)  # ... in the test split
    split["train"] = split["train"][split["train"] != len(flux) - 1]
    split["validation"] = split["validation"][split["validation"] != len(flux) - 1]
    trainer = DisentanglerTrainer(config(), flux, params, split=split)
    assert trainer.preprocessing.parameter_range["teff"][1] == 5000.0
    assert trainer.preprocessing.parameters.mean[0] < 5000


def test_binning_and_joint_bins():
    values = np.array([0.0, 1.0, 2.0, 3.0, 10.0])
    assert Binner.fit(values, 2, "uniform").transform(values).tolist() == [0, 0, 0, 0, 1]
    assert Binner.fit(values, 2, "quantile").transform(values).tolist() == [0, 0, 1, 1, 1]
    joint = JointBins.fit(np.array([[0, 1], [1, 1]]), n_bins=2)
    assert joint.transform(np.array([[1, 1], [0, 0]])).tolist() == [1, JointBins.IGNORE]
    scaler = Standardiser.fit(np.array([[1.0], [3.0]]))
    assert scaler.inverse(scaler.transform(np.array([[2.0]])))[0, 0] == pytest.approx(2.0)


def test_raw_input_encoder_matches_encode():
    """The fill's fused encoder (standardisation folded into the first layer) gives the same z."""
    flux, params, _ = toy_grid()
    trainer = DisentanglerTrainer(config(), flux, params)
    trainer.fit()
    model = trainer.trained()
    expected = model.encode(flux, params)
    fused = model.encode_raw(flux, params, batch_size=37)
    np.testing.assert_allclose(fused, expected, rtol=1e-4, atol=1e-4 * np.abs(expected).max())
    assert not np.allclose(model.encode_raw(flux, params[::-1].copy()), expected, atol=1e-3)  # parameters matter
