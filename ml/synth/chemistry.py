"""Chemical profiles: correlated abundance vectors drawn like a Galactic disc population.

A profile is [Fe/H], [α/Fe] and [X/Fe] for every other element in ``lines.ELEMENTS``:

* [Fe/H] ~ N(−0.25, 0.30) clipped to [−1.5, 0.45] dex;
* [α/Fe] follows two sequences: the low-α thin disc (0.03 ± 0.04) and, for a fraction that grows
  as [Fe/H] falls, the high-α thick disc (0.25 ± 0.05);
* α elements (O, Mg, Si, S, Ca, Ti) track [α/Fe] with element-specific gains; every [X/Fe] also
  gets correlated scatter (α elements, odd-Z elements, iron peak and C–N each share a factor;
  N anti-correlates with C, as mixing on the giant branch does).

The values are synthetic; the structure (two α sequences, correlated families) is what matters for
chemical tagging, because twins must be found among stars that share most abundances.
"""
from __future__ import annotations

import numpy as np

from ml.synth.lines import ELEMENTS

ALPHA_GAIN = {"O": 1.0, "Mg": 1.0, "Si": 0.8, "S": 0.8, "Ca": 0.6, "Ti": 0.6}
FAMILY = {
    "O": "alpha", "Mg": "alpha", "Si": "alpha", "S": "alpha", "Ca": "alpha", "Ti": "alpha",
    "Na": "oddz", "Al": "oddz", "K": "oddz", "Cu": "oddz",
    "V": "peak", "Cr": "peak", "Mn": "peak", "Co": "peak", "Ni": "peak",
    "C": "cn", "N": "cn", "Ce": "s",
}
SCATTER = {"C": 0.12, "N": 0.15, "O": 0.06, "Na": 0.10, "Mg": 0.05, "Al": 0.08, "Si": 0.05, "S": 0.08,
           "K": 0.08, "Ca": 0.05, "Ti": 0.06, "V": 0.08, "Cr": 0.05, "Mn": 0.06, "Co": 0.07, "Ni": 0.04,
           "Cu": 0.10, "Ce": 0.12}
X_FE_ELEMENTS = tuple(e for e in ELEMENTS if e != "Fe")  # 18 elements with an [X/Fe]


def draw_profiles(n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """n chemical profiles: {'fe_h': (n,), 'alpha_fe': (n,), 'C_Fe': (n,), ...} in dex."""
    fe_h = np.clip(rng.normal(-0.25, 0.30, n), -1.5, 0.45)
    thick = rng.random(n) < 1.0 / (1.0 + np.exp((fe_h + 0.45) / 0.15))
    alpha_fe = np.where(thick, rng.normal(0.25, 0.05, n), rng.normal(0.03, 0.04, n))
    family_factor = {family: rng.standard_normal(n) for family in sorted(set(FAMILY.values()))}  # sorted: set order follows PYTHONHASHSEED
    profile = {"fe_h": fe_h.astype(np.float32), "alpha_fe": alpha_fe.astype(np.float32)}
    for element in X_FE_ELEMENTS:
        shared = family_factor[FAMILY[element]] * (-1.0 if element == "N" else 1.0)
        own = rng.standard_normal(n)
        scatter = SCATTER[element] * (0.6 * shared + 0.8 * own)
        x_fe = ALPHA_GAIN.get(element, 0.0) * alpha_fe + scatter
        if element == "Mn":
            x_fe = x_fe + 0.15 * np.clip(fe_h, -1, 0.4)  # Mn rises with metallicity (SN Ia)
        profile[f"{element}_Fe"] = x_fe.astype(np.float32)
    return profile


def x_h_matrix(profile: dict[str, np.ndarray]) -> np.ndarray:
    """[X/H] for every element of ``lines.ELEMENTS``, shape (n, 19): [Fe/H] + [X/Fe]."""
    fe_h = np.asarray(profile["fe_h"], dtype=np.float32)
    columns = [fe_h if element == "Fe" else fe_h + np.asarray(profile[f"{element}_Fe"]) for element in ELEMENTS]
    return np.stack(columns, axis=1).astype(np.float32)
