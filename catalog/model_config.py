"""The configuration of a model version: what to train on, how, and when to activate it.

A ModelVersion stores the *normalised* config returned by :func:`normalise`, so a version can be
retrained from its own config, and the dataset it saw can be rebuilt exactly.

Disentangler::

    {"survey": "apogee",                  # Survey.code of the spectra
     "label_source": "grid",              # Labels.source giving the conditional parameters
     "conditional": ["teff", "logg"],     # any of teff, logg, fe_h, alpha_fe
     "selection": {"snr_min": 50, "teff": [3500, 5500], "logg": null, "max_spectra": null},
     "training": {"preset": "twins", "epochs": 200, ...},   # DisentanglerConfig: a preset + overrides
     "evaluation": {"abundances": ["Mg_Fe"], "probe_train_size": 4000, "map_sample": 3000},
     "activation": {"mode": "if_better", "metric": "twin_recall_at_10", "tolerance": 0.0}}

BHB (BATMM)::

    {"catalogue": "synthetic",            # BHBLabel.catalogue giving the truth
     "model": {"width": 0.25, "d_model": 128, ...},             # BATMMConfig
     "training": {"epochs_encoder": 20, "epochs_fusion": 30, ...}, # BHBTrainingConfig
     "activation": {"mode": "if_better", "metric": "f1_macro", "tolerance": 0.0}}

``activation.mode``: ``always`` activates when the version is complete, ``if_better`` only when
``metric`` is no worse than the active version's by more than ``tolerance``, ``never`` leaves it
ready for an admin to activate.
"""
from __future__ import annotations

import copy
from dataclasses import fields

from ml.batmm import BATMMConfig
from ml.bhb_train import BHBTrainingConfig
from ml.disentangler import DisentanglerConfig

PARAMETERS = ("teff", "logg", "fe_h", "alpha_fe")
ACTIVATION_MODES = ("always", "if_better", "never")
# metric name → True when higher is better
DISENTANGLER_METRICS = {"twin_recall_at_1": True, "twin_recall_at_10": True, "twin_pairwise_auc": True,
                        "far_recall_at_10": True, "far_auc": True, "val_reconstruction": False, "leak_r2_max": False}
BHB_METRICS = {"f1_macro": True, "f1_bhb": True, "roc_auc": True, "pr_auc": True}


class ConfigError(ValueError):
    """A config that cannot be trained; the message says which setting and why."""


DISENTANGLER_DEFAULTS = {
    "survey": "apogee",
    "label_source": "grid",
    "conditional": ["teff", "logg"],
    "selection": {"snr_min": None, "teff": None, "logg": None, "max_spectra": None},
    "training": {"preset": "twins"},
    "evaluation": {"abundances": [], "probe_train_size": 4000, "probe_test_size": 2000, "map_sample": 3000},
    "activation": {"mode": "if_better", "metric": "twin_recall_at_10", "tolerance": 0.0},
}
BHB_DEFAULTS = {
    "catalogue": "synthetic",
    # The fusion reads the cutouts' PSF colours as one more image token (docs/research/bhb.md).
    "model": {"width": 0.25, "d_model": 128, "n_layers": 4, "n_heads": 8, "colour_token": True},
    # VGG1D runs its whole schedule: early stopping cut it inside its high-learning-rate swing
    # (docs/research/bhb.md); the other stages keep BHBTrainingConfig's patience.
    "training": {"spectrum_patience": 0},
    "activation": {"mode": "if_better", "metric": "f1_macro", "tolerance": 0.0},
}


def _merge(defaults: dict, given: dict, where: str) -> dict:
    """defaults ⊕ given, one level of nesting; unknown keys are errors (typos must not pass)."""
    if not isinstance(given, dict):
        raise ConfigError(f"{where or 'config'} must be an object, not {type(given).__name__}")
    unknown = sorted(set(given) - set(defaults))
    if unknown:
        raise ConfigError(f"unknown setting(s) in {where or 'config'}: {', '.join(unknown)}; "
                          f"known: {', '.join(sorted(defaults))}")
    merged = copy.deepcopy(defaults)
    for key, value in given.items():
        if isinstance(defaults[key], dict) and defaults[key] and key not in ("training", "model"):
            merged[key] = _merge(defaults[key], value, f"{where}.{key}" if where else key)
        elif key in ("training", "model"):
            if not isinstance(value, dict):
                raise ConfigError(f"{key} must be an object")
            merged[key] = {**defaults[key], **value}
        else:
            merged[key] = value
    return merged


def _dataclass_check(cls, values: dict, where: str, reserved: tuple[str, ...] = ()) -> None:
    names = {f.name for f in fields(cls)} - set(reserved)
    unknown = sorted(set(values) - names)
    if unknown:
        raise ConfigError(f"unknown setting(s) in {where}: {', '.join(unknown)}; known: {', '.join(sorted(names))}")


def _range(value, name: str):
    if value is None:
        return None
    if not (isinstance(value, (list, tuple)) and len(value) == 2 and all(isinstance(v, (int, float)) for v in value)):
        raise ConfigError(f"selection.{name} must be [min, max] or null")
    if value[0] > value[1]:
        raise ConfigError(f"selection.{name}: min {value[0]} is above max {value[1]}")
    return [float(value[0]), float(value[1])]


def _activation(activation: dict, metrics: dict) -> None:
    if activation["mode"] not in ACTIVATION_MODES:
        raise ConfigError(f"activation.mode must be one of {', '.join(ACTIVATION_MODES)}")
    if activation["metric"] not in metrics:
        raise ConfigError(f"activation.metric must be one of {', '.join(metrics)}")
    if not isinstance(activation["tolerance"], (int, float)) or activation["tolerance"] < 0:
        raise ConfigError("activation.tolerance must be a number >= 0")


def normalise(kind: str, config: dict | None) -> dict:
    """The complete, validated config for ``kind`` ("disentangler" or "bhb"); raises ConfigError."""
    config = {} if config is None else config
    if kind == "disentangler":
        merged = _merge(DISENTANGLER_DEFAULTS, config, "")
        conditional = merged["conditional"]
        if not conditional or any(p not in PARAMETERS for p in conditional) or len(set(conditional)) != len(conditional):
            raise ConfigError(f"conditional must be distinct names from {', '.join(PARAMETERS)}")
        selection = merged["selection"]
        selection["teff"], selection["logg"] = _range(selection["teff"], "teff"), _range(selection["logg"], "logg")
        for key in ("snr_min", "max_spectra"):
            value = selection[key]
            if value is not None and (not isinstance(value, (int, float)) or value < 0):
                raise ConfigError(f"selection.{key} must be a number >= 0 or null")
        reserved = sorted({"conditional", "device"} & set(merged["training"]))
        if reserved:
            raise ConfigError(f"training: {', '.join(reserved)} cannot be set here (conditional is top-level; "
                              "the worker chooses the device)")
        try:
            DisentanglerConfig.from_dict({**merged["training"], "conditional": conditional})
        except (TypeError, ValueError) as error:
            raise ConfigError(f"training: {error}") from None
        abundances = merged["evaluation"]["abundances"]
        if not isinstance(abundances, list) or not all(isinstance(a, str) for a in abundances):
            raise ConfigError("evaluation.abundances must be a list of names such as 'Mg_Fe'")
        _activation(merged["activation"], DISENTANGLER_METRICS)
        return merged
    if kind == "bhb":
        merged = _merge(BHB_DEFAULTS, config, "")
        _dataclass_check(BATMMConfig, merged["model"], "model")
        _dataclass_check(BHBTrainingConfig, merged["training"], "training", reserved=("model", "device"))
        try:
            BHBTrainingConfig(model=BATMMConfig(**merged["model"]), **merged["training"])
        except (TypeError, ValueError) as error:
            raise ConfigError(f"model/training: {error}") from None
        if not isinstance(merged["catalogue"], str) or not merged["catalogue"]:
            raise ConfigError("catalogue must name a BHB label catalogue")
        _activation(merged["activation"], BHB_METRICS)
        return merged
    raise ConfigError(f"unknown model kind {kind!r}; use 'disentangler' or 'bhb'")


def is_better(kind: str, metric: str, candidate: float | None, active: float | None, tolerance: float) -> bool:
    """Whether ``candidate`` passes the gate against ``active`` (no active value: it passes)."""
    if active is None:
        return True
    if candidate is None:
        return False
    higher = (DISENTANGLER_METRICS if kind == "disentangler" else BHB_METRICS)[metric]
    return candidate >= active - tolerance if higher else candidate <= active + tolerance
