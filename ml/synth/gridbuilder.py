"""Grids like the seed's: N chemical profiles, each placed on a parameter grid.

* APOGEE-like: Teff 3200–6000 K step 200 × logg 0–2.6 step 0.2 (15 × 14 = 210 stars per
  profile); the conditioned parameters are Teff and logg.
* RVS-like: Teff × logg × [Fe/H] × [α/Fe]; the conditioned parameters are all four, and a
  profile fixes the remaining [X/Fe] pattern (its α elements follow the grid's [α/Fe]).

Each star records its profile id (``group``), so twins are known. Spectra come from any model
with the :class:`SpectrumModel` call signature: the analytic model (default) or a Payne emulator.
Grids are produced in batches, so a 40k × 7214 grid never has to sit in memory at once.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Iterator, Protocol

import numpy as np

from ml.synth.chemistry import ALPHA_GAIN, X_FE_ELEMENTS, draw_profiles, x_h_matrix


class SpectrumModel(Protocol):
    band: str
    wavelength: np.ndarray

    def __call__(self, teff, logg, x_h, snr=None, rng=None, return_error=False): ...


def _axis(start: float, stop: float, step: float) -> list[float]:
    count = int(round((stop - start) / step)) + 1
    return [round(start + k * step, 6) for k in range(count)]


@dataclass
class GridSpec:
    """What to generate. Ranges are inclusive (start, stop, step); units K and dex."""

    band: str = "apogee"
    n_profiles: int = 200
    teff: tuple[float, float, float] = (3200.0, 6000.0, 200.0)
    logg: tuple[float, float, float] = (0.0, 2.6, 0.2)
    fe_h: list[float] | None = None  # grid axis (RVS-like); None = from the profile
    alpha_fe: list[float] | None = None
    snr: float | None = None  # None = noiseless (S/N ∞)
    seed: int = 0
    prefix: str = ""
    # Peculiar stars: this many stars (drawn at random) get one element enhanced by a uniform draw
    # from peculiar_dex, on top of their profile; they then have no twin (group -1) and their
    # designations end in "P".
    peculiar: int = 0
    peculiar_dex: tuple[float, float] = (0.3, 1.0)
    peculiar_elements: tuple[str, ...] = ("Mn", "V", "Co", "Ce")

    def __post_init__(self):
        if self.n_profiles < 1:
            raise ValueError("n_profiles must be at least 1")
        if not 0 <= self.peculiar <= len(self):
            raise ValueError(f"peculiar must be between 0 and the {len(self)} stars of the grid")
        unknown = [e for e in self.peculiar_elements if e not in X_FE_ELEMENTS]
        if unknown:
            raise ValueError(f"peculiar elements {unknown} are not modelled; choose from {', '.join(X_FE_ELEMENTS)}")
        if self.snr is not None and self.snr <= 0:
            raise ValueError("snr must be positive (or None for noiseless)")
        for name in ("teff", "logg"):
            start, stop, step = getattr(self, name)
            if step <= 0 or stop < start:
                raise ValueError(f"{name} range must have start <= stop and a positive step")

    @property
    def conditional(self) -> list[str]:
        names = ["teff", "logg"]
        if self.fe_h is not None:
            names.append("fe_h")
        if self.alpha_fe is not None:
            names.append("alpha_fe")
        return names

    def points(self) -> list[tuple[float, ...]]:
        axes = [_axis(*self.teff), _axis(*self.logg)]
        if self.fe_h is not None:
            axes.append(list(self.fe_h))
        if self.alpha_fe is not None:
            axes.append(list(self.alpha_fe))
        return list(itertools.product(*axes))

    def __len__(self) -> int:
        return self.n_profiles * len(self.points())


APOGEE_LIKE = GridSpec()
RVS_LIKE = GridSpec(band="gaia_rvs", teff=(4000.0, 6000.0, 400.0), logg=(1.0, 3.5, 0.5),
                    fe_h=[-1.0, -0.5, 0.0], alpha_fe=[0.0, 0.2, 0.4])


@dataclass
class GridBatch:
    """B consecutive stars of a grid."""

    designation: list[str]
    group: np.ndarray  # (B,) profile id
    ra: np.ndarray  # (B,) deg
    dec: np.ndarray  # (B,) deg
    labels: dict[str, np.ndarray]  # teff, logg, fe_h, alpha_fe, and X_Fe for 18 elements, (B,) each
    flux: np.ndarray  # (B, P) continuum-normalised
    error: np.ndarray | None  # (B, P) or None when noiseless
    snr: float | None = None
    extra: dict = field(default_factory=dict)


def iter_grid(spec: GridSpec, model: SpectrumModel, batch_size: int = 256) -> Iterator[GridBatch]:
    """Yield the grid in batches, profile by profile, deterministically from ``spec.seed``."""
    rng = np.random.default_rng(spec.seed)
    profiles = draw_profiles(spec.n_profiles, rng)
    points = np.asarray(spec.points(), dtype=np.float32)  # (K, n_conditional)
    names = spec.conditional
    n_points = len(points)
    # One sky position per star, clustered loosely by profile (dissolved-cluster-like).
    centre_ra = rng.uniform(0, 360, spec.n_profiles)
    centre_dec = np.degrees(np.arcsin(rng.uniform(-1, 1, spec.n_profiles)))
    noise_rng = np.random.default_rng(spec.seed + 1)
    prefix = spec.prefix or {"apogee": "SYNA", "gaia_rvs": "SYNR"}.get(spec.band, "SYN")
    total = spec.n_profiles * n_points
    peculiar_rng = np.random.default_rng(spec.seed + 2)  # its own stream: the grid is unchanged without it
    peculiar_index = np.sort(peculiar_rng.choice(total, size=spec.peculiar, replace=False))
    peculiar_element = peculiar_rng.choice(list(spec.peculiar_elements), size=spec.peculiar)
    peculiar_boost = peculiar_rng.uniform(*spec.peculiar_dex, size=spec.peculiar)
    for start in range(0, total, batch_size):
        index = np.arange(start, min(start + batch_size, total))
        group, point = index // n_points, index % n_points
        chosen = {key: value[group] for key, value in profiles.items()}
        grid_values = {name: points[point, k] for k, name in enumerate(names)}
        if "alpha_fe" in grid_values:  # α elements follow the grid's [α/Fe], keeping their own scatter
            for element, gain in ALPHA_GAIN.items():
                chosen[f"{element}_Fe"] = chosen[f"{element}_Fe"] + gain * (grid_values["alpha_fe"] - chosen["alpha_fe"])
        chosen.update({name: value for name, value in grid_values.items() if name in ("fe_h", "alpha_fe")})
        group = group.astype(np.int64)
        peculiar = np.zeros(len(index), bool)
        for position in np.flatnonzero(np.isin(index, peculiar_index)):
            k = int(np.searchsorted(peculiar_index, index[position]))
            chosen[f"{peculiar_element[k]}_Fe"][position] += peculiar_boost[k]
            group[position], peculiar[position] = -1, True
        flux, error = model(grid_values["teff"], grid_values["logg"], x_h_matrix(chosen), snr=spec.snr,
                            rng=noise_rng, return_error=True)
        labels = {"teff": grid_values["teff"], "logg": grid_values["logg"],
                  "fe_h": chosen["fe_h"], "alpha_fe": chosen["alpha_fe"]}
        labels.update({f"{element}_Fe": chosen[f"{element}_Fe"] for element in X_FE_ELEMENTS})
        profile = index // n_points  # the star's own profile (its sky region), whatever its group
        ra = (centre_ra[profile] + noise_rng.normal(0, 2.0, len(index))) % 360.0
        dec = np.clip(centre_dec[profile] + noise_rng.normal(0, 2.0, len(index)), -90, 90)
        yield GridBatch(
            designation=[f"{prefix}-{spec.seed:03d}-{g:04d}-{p:04d}{'P' if odd else ''}"
                         for g, p, odd in zip(profile, point, peculiar)],
            group=group, ra=ra, dec=dec,
            labels={key: np.asarray(value, dtype=np.float32) for key, value in labels.items()},
            flux=flux, error=error, snr=spec.snr,
        )


def build_grid(spec: GridSpec, model: SpectrumModel, batch_size: int = 256) -> GridBatch:
    """The whole grid as one batch (fine up to a few ×10⁴ spectra)."""
    batches = list(iter_grid(spec, model, batch_size))
    return GridBatch(
        designation=[name for batch in batches for name in batch.designation],
        group=np.concatenate([batch.group for batch in batches]),
        ra=np.concatenate([batch.ra for batch in batches]),
        dec=np.concatenate([batch.dec for batch in batches]),
        labels={key: np.concatenate([batch.labels[key] for batch in batches]) for key in batches[0].labels},
        flux=np.concatenate([batch.flux for batch in batches]),
        error=None if batches[0].error is None else np.concatenate([batch.error for batch in batches]),
        snr=spec.snr,
    )
