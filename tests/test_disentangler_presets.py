"""The product's two disentangler presets, the retired research settings refused by name, models
saved by older code, and the inference handle serving the kept epoch."""
from dataclasses import asdict

import numpy as np
import pytest
import torch

from ml import artifacts
from ml.disentangler import PRESETS, ConfigError, DisentanglerConfig, DisentanglerTrainer, TrainedDisentangler
from tests.test_disentangler_model import config, toy_grid


def test_the_product_offers_two_presets_and_imports_no_research():
    """In a fresh interpreter (research tests register their variants in this one)."""
    import subprocess
    import sys

    from tests.conftest import ROOT

    code = ("import sys, ml.disentangler as d; print(sorted(d.PRESETS), sorted(d.decoders.DECODERS), "
            "any(m.startswith('research') for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['paper', 'twins'] ['joint'] False"


def test_presets_are_the_seed_model_and_the_twin_model():
    assert {"paper", "twins"} <= set(PRESETS)
    paper = DisentanglerConfig.from_preset("paper")
    assert paper.decoder == "joint" and paper.penalties == {} and paper.variant == "mdAT"
    assert paper.kept_epoch_leak_limit is None  # the seed's rule: the validation objective alone
    twins = DisentanglerConfig.from_preset("twins", epochs=7)
    assert twins.preset == "twins" and twins.decoder == "joint" and twins.kept_epoch_leak_limit == 0.2
    assert twins.epochs == 7 and twins.lambdas == (0.01,)
    assert DisentanglerConfig.from_dict({"preset": "twins", "leak_limit": 0.1}).leak_limit == 0.1  # overrides win
    assert DisentanglerConfig.from_dict({}).preset == "paper"


@pytest.mark.parametrize("name, value", [("adversarial", "raw"), ("latent_noise", 0.3), ("encoder", "residual"),
                                         ("mean_independence", 0.1), ("noise_invariance", 0.05),
                                         ("standardise_latent", True), ("species_map", "linear")])
def test_retired_research_settings_are_refused_by_name(name, value):
    with pytest.raises(ConfigError, match=f"retired research setting.*{name}"):
        DisentanglerConfig.from_dict({name: value})


def test_unknown_preset_and_setting_are_named():
    with pytest.raises(ConfigError, match="preset must be one of paper, twins.*not 'best'"):
        DisentanglerConfig.from_dict({"preset": "best"})
    with pytest.raises(ConfigError, match="unknown disentangler setting.*epoch"):
        DisentanglerConfig.from_dict({"epoch": 3})


def _saved_by_older_code(trainer: DisentanglerTrainer, path, **old_fields):
    """Save, then rewrite the artifact as the code before presets wrote it (a pickled dict)."""
    trainer.save(path)
    state = artifacts.load(path)
    state["config"].pop("preset")
    state["config"].pop("leak_limit")
    penalties = state["config"].pop("penalties")
    state["config"].update({"adversarial": "bounded", "standardise_latent": False, "latent_noise": 0.0,
                            "encoder": "joint", "mean_independence": 0.0, "noise_invariance": 0.0,
                            "independence": penalties.get("kernel", 0.0), "species_map": "linear", "n_species": 25,
                            "species_rank": 16, "modulator_hidden": [64, 256],
                            **old_fields})
    torch.save(state, path)


def test_models_saved_before_presets_still_load(tmp_path):
    flux, params, _ = toy_grid()
    paper = DisentanglerTrainer(config(), flux, params)
    paper.fit()
    _saved_by_older_code(paper, tmp_path / "paper.pt")
    with pytest.raises(artifacts.LegacyArtifact, match="convert it once with `python manage.py convert_artifacts`"):
        TrainedDisentangler.load(tmp_path / "paper.pt", device="cpu")  # never unpickled by a load
    assert artifacts.convert_legacy(tmp_path / "paper.pt") and not artifacts.convert_legacy(tmp_path / "paper.pt")
    loaded = TrainedDisentangler.load(tmp_path / "paper.pt", device="cpu")
    assert loaded.config.preset == "paper" and loaded.config.penalties == {}
    np.testing.assert_allclose(loaded.encode(flux, params), paper.trained().encode(flux, params), rtol=1e-6)

    penalised = DisentanglerTrainer(config(penalties={"kernel": 0.01}), flux, params)
    penalised.fit()
    _saved_by_older_code(penalised, tmp_path / "kernel.pt")
    artifacts.convert_legacy(tmp_path / "kernel.pt")
    loaded = TrainedDisentangler.load(tmp_path / "kernel.pt", device="cpu")  # "independence" read as the kernel penalty
    assert loaded.config.preset == "paper" and loaded.config.penalties == {"kernel": 0.01}
    np.testing.assert_allclose(loaded.encode(flux, params), penalised.trained().encode(flux, params), rtol=1e-6)


def test_a_model_of_a_retired_variant_is_refused_with_the_reason(tmp_path):
    flux, params, _ = toy_grid()
    trainer = DisentanglerTrainer(config(), flux, params)
    trainer.fit()
    _saved_by_older_code(trainer, tmp_path / "noisy.pt", latent_noise=0.6, standardise_latent=True)
    artifacts.convert_legacy(tmp_path / "noisy.pt")
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
