"""Training configs are validated with errors that name the setting."""
import pytest

from catalog import services
from catalog.model_config import ConfigError, normalise
from tests.factories import TOY_TRAINING, toy_grid


@pytest.mark.parametrize("training", [
    {"preset": "paper"},
    {"preset": "twins", "epochs": 40},
    {"preset": "paper", "leak_limit": 0.3, "penalties": {"kernel": 0.02}},
])
def test_presets_and_product_settings_are_accepted(training):
    config = normalise("disentangler", {"training": training})
    assert config["training"] == training


def test_defaults_fill_in():
    config = normalise("disentangler", {})
    assert config["conditional"] == ["teff", "logg"] and config["training"] == {"preset": "twins"}
    assert config["activation"] == {"mode": "if_better", "metric": "twin_recall_at_10", "tolerance": 0.0}


@pytest.mark.parametrize("config, message", [
    ({"epochs": 3}, "unknown setting(s) in config: epochs"),
    ({"training": {"epoch": 3}}, "training: unknown disentangler setting(s): epoch"),
    ({"training": {"preset": "best"}}, "training: preset must be one of paper, twins"),
    ({"training": {"device": "cuda"}}, "training: device cannot be set here"),
    ({"selection": {"teff_min": 3}}, "unknown setting(s) in selection: teff_min"),
    ({"selection": {"teff": [5000, 4000]}}, "selection.teff: min 5000 is above max 4000"),
    ({"conditional": ["teff", "mass"]}, "conditional must be distinct names"),
    ({"training": {"variant": "XYZ"}}, "training: variant must be one of"),
    ({"training": {"decoder": "additive"}}, "training: decoder must be one of"),
    ({"training": {"encoder": "residual"}}, "training: retired research setting(s): encoder"),
    ({"training": {"independence": 0.01}}, "training: retired research setting(s): independence"),
    ({"training": {"noise_invariance": 0.1, "latent_noise": 0.3}},
     "training: retired research setting(s): latent_noise, noise_invariance"),
    ({"training": {"penalties": {"kernel": -0.1}}}, "training: penalties.kernel must be a number >= 0"),
    ({"training": {"penalties": {"mean": 0.1}}}, "training: penalties must be one of kernel"),
    ({"activation": {"metric": "accuracy"}}, "activation.metric must be one of"),
    ({"activation": {"mode": "sometimes"}}, "activation.mode must be one of"),
])
def test_bad_disentangler_configs(config, message):
    with pytest.raises(ConfigError) as error:
        normalise("disentangler", config)
    assert message in str(error.value)


def test_bad_bhb_configs():
    with pytest.raises(ConfigError, match="unknown setting.*in model: depth"):
        normalise("bhb", {"model": {"depth": 3}})
    with pytest.raises(ConfigError, match="model/training: spectrum_noise and image_colour_weight must be >= 0"):
        normalise("bhb", {"training": {"spectrum_noise": -0.5}})
    with pytest.raises(ConfigError, match="model/training: spectrum_patience must be a whole number of epochs >= 0"):
        normalise("bhb", {"training": {"spectrum_patience": -1}})
    with pytest.raises(ConfigError, match="model/training: patience must be a whole number of epochs >= 0.*not '8'"):
        normalise("bhb", {"training": {"patience": "8"}})
    with pytest.raises(ConfigError, match="model/training: colour_token must be true or false, not 'false'"):
        normalise("bhb", {"model": {"colour_token": "false"}})
    assert normalise("bhb", {})["training"]["spectrum_patience"] == 0  # the portal's default: VGG1D's whole schedule
    assert normalise("bhb", {})["model"]["colour_token"] is True  # the portal's default: the fusion reads the PSF colours
    assert normalise("bhb", {"model": {"colour_token": False}})["model"]["colour_token"] is False
    assert normalise("bhb", {"training": {"spectrum_patience": 3}})["training"]["spectrum_patience"] == 3
    with pytest.raises(ConfigError, match="unknown model kind"):
        normalise("gan", {})


@pytest.mark.django_db
def test_empty_selection_is_refused_before_anything_is_queued():
    toy_grid(n_groups=1, per_group=4)
    with pytest.raises(ConfigError, match="matches no apogee spectrum"):
        services.model_version_create(kind="disentangler", config={"selection": {"teff": [9000, 9500]}})
    with pytest.raises(ConfigError, match="no survey 'gaia_rvs'"):
        services.model_version_create(kind="disentangler", config={"survey": "gaia_rvs"})
    with pytest.raises(ConfigError, match="no star has an SDSS spectrum"):
        services.model_version_create(kind="bhb", config={})
    assert services.model_version_create(kind="disentangler", config={"training": TOY_TRAINING}).state == "queued"
