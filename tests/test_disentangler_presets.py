"""The product's two disentangler presets, the retired research settings refused by name, models
saved by older code, and the inference handle serving the kept epoch."""
from dataclasses import asdict

import numpy as np
import pytest
import torch

from ml.disentangler import PRESETS, ConfigError, DisentanglerConfig, DisentanglerTrainer, TrainedDisentangler
from tests.test_disentangler_model import config, toy_grid


def test_presets_are_the_seed_model_and_the_twin_model():
    assert set(PRESETS) == {"paper", "twins"}
    paper = DisentanglerConfig.from_preset("paper")
    assert paper.decoder == "joint" and paper.penalties == {} and paper.variant == "mdAT"
    twins = DisentanglerConfig.from_preset("twins", epochs=7)
    assert twins.preset == "twins" and twins.decoder == "species" and twins.penalties == {"kernel": 0.01}
    assert twins.epochs == 7 and twins.lambdas == (0.01,)
    assert DisentanglerConfig.from_dict({"preset": "twins", "penalties": {}}).penalties == {}  # overrides win
    assert DisentanglerConfig.from_dict({}).preset == "paper"


@pytest.mark.parametrize("name, value", [("adversarial", "raw"), ("latent_noise", 0.3), ("encoder", "residual"),
                                         ("mean_independence", 0.1), ("noise_invariance", 0.05),
                                         ("standardise_latent", True), ("species_map", "linear")])
def test_retired_research_settings_are_refused_by_name(name, value):
    with pytest.raises(ConfigError, match=f"retired research setting.*{name}"):
        DisentanglerConfig.from_dict({name: value})


def test_unknown_preset_and_setting_are_named():
    with pytest.raises(ConfigError, match="preset must be one of paper, twins, not 'best'"):
        DisentanglerConfig.from_dict({"preset": "best"})
    with pytest.raises(ConfigError, match="unknown disentangler setting.*epoch"):
        DisentanglerConfig.from_dict({"epoch": 3})


def _saved_by_older_code(trainer: DisentanglerTrainer, path, **old_fields):
    """Save, then rewrite the artifact's config as the code before presets wrote it."""
    trainer.save(path)
    state = torch.load(path, weights_only=False)
    state["config"].pop("preset")
    penalties = state["config"].pop("penalties")
    state["config"].update({"adversarial": "bounded", "standardise_latent": False, "latent_noise": 0.0,
                            "encoder": "joint", "mean_independence": 0.0, "noise_invariance": 0.0,
                            "independence": penalties.get("kernel", 0.0), "species_map": "linear", "n_species": 25,
                            **old_fields})
    torch.save(state, path)


def test_models_saved_before_presets_still_load(tmp_path):
    flux, params, _ = toy_grid()
    paper = DisentanglerTrainer(config(), flux, params)
    paper.fit()
    _saved_by_older_code(paper, tmp_path / "paper.pt")
    loaded = TrainedDisentangler.load(tmp_path / "paper.pt", device="cpu")
    assert loaded.config.preset == "paper" and loaded.config.penalties == {}
    np.testing.assert_allclose(loaded.encode(flux, params), paper.trained().encode(flux, params), rtol=1e-6)

    twins = DisentanglerTrainer(config(decoder="species", penalties={"kernel": 0.01}), flux, params)
    twins.fit()
    _saved_by_older_code(twins, tmp_path / "twins.pt", species_map="identity", n_species=5)
    loaded = TrainedDisentangler.load(tmp_path / "twins.pt", device="cpu")
    assert loaded.config.preset == "twins" and loaded.config.penalties == {"kernel": 0.01}
    np.testing.assert_allclose(loaded.encode(flux, params), twins.trained().encode(flux, params), rtol=1e-6)


def test_a_model_of_a_retired_variant_is_refused_with_the_reason(tmp_path):
    flux, params, _ = toy_grid()
    trainer = DisentanglerTrainer(config(), flux, params)
    trainer.fit()
    _saved_by_older_code(trainer, tmp_path / "noisy.pt", latent_noise=0.6, standardise_latent=True)
    with pytest.raises(ConfigError, match="retired research setting"):
        TrainedDisentangler.load(tmp_path / "noisy.pt", device="cpu")


def test_the_inference_handle_serves_the_kept_epoch_not_the_last(tmp_path):
    """fit → trained() → encode must use the kept weights, whatever the trainer's current weights are."""
    flux, params, _ = toy_grid()
    trainer = DisentanglerTrainer(config(epochs=3), flux, params)
    trainer.fit()
    kept = trainer.trained()
    expected = kept.encode(flux, params)
    with torch.no_grad():  # a later, worse epoch: the trainer's own weights move on
        for parameter in trainer.model.encoder.parameters():
            parameter.add_(torch.randn_like(parameter))
    current = trainer.model.eval().encode(torch.as_tensor(kept.preprocessing.flux.transform(flux)),
                                          torch.as_tensor(kept.preprocessing.parameters.transform(params)))
    assert not np.allclose(current.detach().numpy(), expected, atol=1e-3)  # the current weights do differ
    np.testing.assert_array_equal(trainer.trained().encode(flux, params), expected)
    np.testing.assert_array_equal(TrainedDisentangler.load(trainer.save(tmp_path / "m.pt"), "cpu").encode(flux, params),
                                  expected)
    assert kept.kept_epoch == trainer.history.best_epoch >= 1
    assert asdict(kept.config) == asdict(trainer.config)
