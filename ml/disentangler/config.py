"""The disentangler's settings and its two presets.

A preset is a named starting point; any field may still be overridden:

* ``paper``: the seed's GANDALF model (Santoveña, Dafonte & Manteiga): a joint decoder D(z ⊕ cp)
  against one discriminator per conditioned parameter (mdAT), the epoch kept on the validation
  objective. For reproducing the seed's tables.
* ``twins`` (the product's default): the same networks, but the kept epoch must also pass a fresh
  probe of the conditioned parameters from z (R² ≤ 0.2, ``ml.disentangler.selection``). It won the
  far-twin table on both generators under a 20-minute budget (``docs/research/disentangler.md``).

A new variant is one new module that registers a decoder (``ml.disentangler.decoders.DECODERS``)
or a penalty (``ml.disentangler.losses.PENALTIES``) and, once the evidence adopts it, a preset here.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields

VARIANTS = ("noAT", "AT", "mdAT")
BINNINGS = ("uniform", "quantile")
PRESETS: dict[str, dict] = {
    "paper": {"decoder": "joint", "penalties": {}, "leak_limit": 0.0},
    "twins": {"decoder": "joint", "penalties": {}, "leak_limit": 0.2},
}
DEFAULT_PRESET = "paper"


class ConfigError(ValueError):
    """A setting that cannot be trained; the message names it."""


@dataclass
class DisentanglerConfig:
    """Every hyperparameter of one disentangler. Architecture defaults are the seed's (§3); the
    field defaults are the ``paper`` preset. Build a preset with :meth:`from_preset` or
    :meth:`from_dict`, which apply its settings (``preset`` alone only names it)."""

    preset: str = DEFAULT_PRESET  # the named starting point the other fields were taken from
    conditional: tuple[str, ...] = ("teff", "logg")  # parameters removed from z (K, dex)
    variant: str = "mdAT"  # "mdAT" (one discriminator per parameter), "AT" (joint bins), "noAT" (λ = 0)
    latent_dim: int = 25
    encoder_hidden: tuple[int, ...] = (512, 256)
    decoder_hidden: tuple[int, ...] = (256, 512)  # the joint decoder's MLP
    discriminator_hidden: tuple[int, ...] = (64, 32)
    n_bins: int = 10  # classes per conditioned parameter
    binning: str = "uniform"  # or "quantile"
    lambdas: tuple[float, ...] = (0.01,)  # adversarial weight, one per discriminator (or one for all)
    disc_steps: int = 5  # discriminator updates per autoencoder update
    decoder: str = "joint"  # a name in ml.disentangler.decoders.DECODERS
    penalties: dict[str, float] = field(default_factory=dict)  # {name in losses.PENALTIES: weight}; AT/mdAT only
    epochs: int = 200
    batch_size: int = 50
    lr_autoencoder: float = 1e-3
    lr_discriminator: float = 1e-3
    validation: float = 0.1  # fractions of the stars held out
    test: float = 0.1
    patience: int = 20  # epochs without a new kept epoch before stopping; 0 = never stop early
    leak_limit: float = 0.0  # the kept epoch's fresh-probe R² of the conditioned parameters must not exceed it (0 = off)
    seed: int = 0
    device: str = "auto"  # "auto", "cpu", "cuda"
    amp: bool = True  # bf16 autocast on CUDA only

    def __post_init__(self):
        from ml.disentangler.decoders import DECODERS
        from ml.disentangler.losses import PENALTIES

        self.conditional = tuple(self.conditional)
        self.encoder_hidden, self.decoder_hidden = tuple(self.encoder_hidden), tuple(self.decoder_hidden)
        self.discriminator_hidden = tuple(self.discriminator_hidden)
        lambdas = self.lambdas if isinstance(self.lambdas, (list, tuple)) else [self.lambdas]
        self.lambdas = tuple(float(v) for v in lambdas)
        self.penalties = dict(self.penalties or {})
        _one_of("preset", self.preset, tuple(PRESETS))
        _one_of("variant", self.variant, VARIANTS)
        _one_of("binning", self.binning, BINNINGS)
        _one_of("decoder", self.decoder, tuple(DECODERS))
        for name, weight in self.penalties.items():
            _one_of("penalties", name, tuple(PENALTIES))
            if not isinstance(weight, (int, float)) or isinstance(weight, bool) or weight < 0:
                raise ConfigError(f"penalties.{name} must be a number >= 0, not {weight!r}")
        self.penalties = {name: float(weight) for name, weight in self.penalties.items()}
        if not self.conditional:
            raise ConfigError("conditional: at least one parameter is needed")
        if self.batch_size < 2 or self.epochs < 1 or self.latent_dim < 1:
            raise ConfigError("batch_size >= 2, epochs >= 1 and latent_dim >= 1 are required")
        if not 0 <= self.leak_limit <= 1:
            raise ConfigError(f"leak_limit must be an R² between 0 (off) and 1, not {self.leak_limit!r}")
        if len(self.lambdas) not in (1, self.n_discriminators):
            raise ConfigError(f"lambdas: give one λ or one per discriminator ({self.n_discriminators})")

    @property
    def n_discriminators(self) -> int:
        return 1 if self.variant == "AT" else len(self.conditional)

    def lambda_for(self, index: int) -> float:
        """λ of discriminator ``index`` as applied (0 for noAT)."""
        if self.variant == "noAT":
            return 0.0
        return self.lambdas[0] if len(self.lambdas) == 1 else self.lambdas[index]

    @property
    def kept_epoch_leak_limit(self) -> float | None:
        """The probe limit as applied: none for noAT (a baseline that keeps the parameters) or when 0."""
        return None if self.variant == "noAT" or not self.leak_limit else self.leak_limit

    def penalty_weights(self) -> dict[str, float]:
        """The penalties as applied: noAT is the λ = 0 baseline, so it feels no push on z at all."""
        return {} if self.variant == "noAT" else {k: v for k, v in self.penalties.items() if v}

    @classmethod
    def field_names(cls) -> set[str]:
        return {f.name for f in fields(cls)}

    @classmethod
    def from_preset(cls, preset: str = DEFAULT_PRESET, **overrides) -> "DisentanglerConfig":
        """The preset's settings with ``overrides`` on top; unknown names are refused by name."""
        return cls.from_dict({**overrides, "preset": preset})

    @classmethod
    def from_dict(cls, data: dict, *, saved: bool = False) -> "DisentanglerConfig":
        """A config from JSON-like settings: ``preset`` (default ``paper``) first, the rest on top.

        ``saved=True`` reads a config stored by an older Doppel (an artifact or a checkpoint): the
        research settings it used to carry are accepted at their neutral values and dropped, and a
        model that relied on one of them is refused with the reason."""
        data = dict(data)
        if saved:
            data = _drop_retired(data)
        unknown = set(data) - cls.field_names()
        if unknown:
            retired = sorted(unknown & set(RETIRED))
            if retired:
                raise ConfigError(f"retired research setting(s): {', '.join(retired)}; the product offers the presets "
                                  f"{', '.join(PRESETS)} (docs/research/disentangler.md)")
            raise ConfigError(f"unknown disentangler setting(s): {', '.join(sorted(unknown))}")
        preset = data.get("preset", DEFAULT_PRESET)
        _one_of("preset", preset, tuple(PRESETS))
        return cls(**{**PRESETS[preset], **data})


def _one_of(name: str, value, allowed: tuple) -> None:
    if value not in allowed:
        raise ConfigError(f"{name} must be one of {', '.join(map(str, allowed))}, not {value!r}")


# Settings of the research variants that left the product (git tag research-2026-12), with the
# value at which each one did nothing.
RETIRED = {"adversarial": "bounded", "standardise_latent": False, "latent_noise": 0.0, "encoder": "joint",
           "mean_independence": 0.0, "noise_invariance": 0.0, "independence": 0.0, "species_map": None,
           "n_species": None, "species_rank": None, "modulator_hidden": None}


def _drop_retired(data: dict) -> dict:
    """A saved config without the retired settings, or ConfigError if the model used one."""
    data = dict(data)
    kernel = data.pop("independence", 0.0)
    data.setdefault("penalties", {"kernel": kernel} if kernel else {})
    older = "species_map" in data  # written before presets
    species_map, n_species = data.pop("species_map", None), data.pop("n_species", None)
    data.pop("species_rank", None), data.pop("modulator_hidden", None)  # the species decoder's own (research)
    if older and data.get("decoder") == "species":
        if species_map != "identity" or (n_species is not None and n_species != data.get("latent_dim", 25)):
            raise ConfigError("this model uses the retired linear species map (species_map 'linear'); retrain it "
                              "with the 'twins' preset")
    for name in ("adversarial", "standardise_latent", "latent_noise", "encoder", "mean_independence", "noise_invariance"):
        if name in data and data.pop(name) != RETIRED[name]:
            raise ConfigError(f"this model uses the retired research setting {name!r}; retrain it with a preset "
                              f"({', '.join(PRESETS)})")
    if "preset" not in data:  # saved before presets: name it by what it is
        data["preset"] = "species" if data.get("decoder") == "species" else "paper"
    return data
