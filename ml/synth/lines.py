"""A compact line list for the APOGEE H band (15100–17000 Å) and the Gaia RVS band (8460–8700 Å).

Each atomic line has an element, an ionisation stage (1 = neutral, 2 = singly ionised), a vacuum
wavelength (Å), a lower-level excitation potential χ (eV) and a reference strength
``log_eta`` = log10 of the line-centre opacity relative to the continuum at the reference
atmosphere (Teff 4500 K, logg 2.0, solar abundances). Well-known lines are listed by hand with
their approximate wavelengths (e.g. the Mg I 15740–15766 Å triplet, the Al I 16719–16763 Å
lines, the Ca II 8498/8542/8662 Å triplet); each species is then filled out with weaker lines at
seeded pseudo-random positions, so the spectra have the line density of real ones without
claiming to be a real line list. Molecular bands (CO, OH, CN) are pseudo-lines whose strength
follows the molecules' dissociation energies. Hydrogen (Brackett in H, Paschen in RVS) is
treated separately because of its huge excitation energy and Stark wings.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# First ionisation potentials, eV.
IONISATION_EV = {
    "C": 11.26, "N": 14.53, "O": 13.62, "Na": 5.14, "Mg": 7.65, "Al": 5.99, "Si": 8.15, "S": 10.36,
    "K": 4.34, "Ca": 6.11, "Ti": 6.83, "V": 6.75, "Cr": 6.77, "Mn": 7.43, "Fe": 7.90, "Co": 7.88,
    "Ni": 7.64, "Cu": 7.73, "Ce": 5.54,
}
ATOMIC_MASS = {
    "H": 1.0, "C": 12.0, "N": 14.0, "O": 16.0, "Na": 23.0, "Mg": 24.3, "Al": 27.0, "Si": 28.1,
    "S": 32.1, "K": 39.1, "Ca": 40.1, "Ti": 47.9, "V": 50.9, "Cr": 52.0, "Mn": 54.9, "Fe": 55.8,
    "Co": 58.9, "Ni": 58.7, "Cu": 63.5, "Ce": 140.1,
}
ELEMENTS = tuple(IONISATION_EV)  # the 19 elements whose abundances the model responds to

# (element, stage, wavelength Å, χ eV, log_eta) — prominent lines at approximately real positions.
_H_BAND = [
    ("K", 1, 15163.1, 2.67, 0.6), ("K", 1, 15168.4, 2.67, 0.8),
    ("Mn", 1, 15159.0, 4.89, 0.3), ("Mn", 1, 15217.7, 4.89, 0.5), ("Mn", 1, 15262.5, 4.89, 0.3),
    ("Fe", 1, 15207.5, 5.39, 0.9), ("Fe", 1, 15294.6, 5.31, 0.8), ("Fe", 1, 15621.7, 5.54, 1.0),
    ("Fe", 1, 16040.7, 5.87, 0.5), ("Fe", 1, 16153.2, 5.35, 0.7), ("Fe", 2, 15508.7, 5.30, -0.3),
    ("Fe", 2, 16788.0, 6.21, -0.5),
    ("Mg", 1, 15740.7, 5.93, 1.6), ("Mg", 1, 15748.9, 5.93, 1.8), ("Mg", 1, 15765.8, 5.93, 2.0),
    ("Mg", 1, 15954.5, 6.59, 0.9),
    ("Al", 1, 16718.9, 4.09, 1.6), ("Al", 1, 16750.6, 4.09, 1.8), ("Al", 1, 16763.4, 4.09, 1.2),
    ("Si", 1, 15888.4, 5.08, 1.0), ("Si", 1, 15960.1, 5.98, 1.2), ("Si", 1, 16060.0, 5.95, 0.9),
    ("Si", 1, 16094.8, 5.96, 1.0), ("Si", 2, 16906.0, 12.84, -0.6),
    ("Ca", 1, 16150.8, 4.53, 0.8), ("Ca", 1, 16155.2, 4.53, 0.9), ("Ca", 1, 16157.4, 4.55, 0.7),
    ("Ca", 2, 16595.3, 7.51, -0.8),
    ("Ti", 1, 15543.8, 1.88, 0.6), ("Ti", 1, 15602.8, 2.27, 0.5), ("Ti", 1, 15715.6, 1.87, 0.7),
    ("Ti", 2, 15912.0, 3.12, 0.2),
    ("Cr", 1, 15680.1, 4.70, 0.3), ("Cr", 1, 15860.2, 4.70, 0.3),
    ("Ni", 1, 16673.7, 6.03, 0.6), ("Ni", 1, 16815.5, 5.30, 0.5),
    ("Co", 1, 16757.6, 3.41, 0.3), ("V", 1, 15925.0, 2.14, 0.2), ("Cu", 1, 16006.6, 5.35, 0.0),
    ("Na", 1, 16373.9, 3.75, 0.4), ("Na", 1, 16388.9, 3.75, 0.3),
    ("S", 1, 15469.8, 8.05, 0.3), ("S", 1, 15478.5, 8.05, 0.4),
    ("C", 1, 16021.7, 9.63, 0.2), ("C", 1, 16890.4, 9.00, 0.3),
    ("N", 1, 15582.0, 11.76, -0.4), ("O", 1, 15399.0, 9.15, -0.5),
    ("Ce", 2, 15784.8, 0.32, 0.1), ("Ce", 2, 16376.5, 0.12, 0.0),
]
_RVS_BAND = [
    ("Ca", 2, 8500.4, 1.69, 2.6), ("Ca", 2, 8544.4, 1.70, 3.0), ("Ca", 2, 8664.5, 1.69, 2.8),
    ("Fe", 1, 8516.4, 2.83, 1.1), ("Fe", 1, 8528.9, 5.28, 0.6), ("Fe", 1, 8614.0, 2.85, 0.8),
    ("Fe", 1, 8623.8, 4.20, 0.6), ("Fe", 1, 8690.9, 2.99, 1.0), ("Fe", 2, 8492.0, 9.86, -0.5),
    ("Si", 1, 8558.9, 5.86, 0.5), ("Si", 1, 8650.8, 6.21, 0.4),
    ("Ti", 1, 8520.7, 1.88, 0.4), ("Ti", 2, 8674.0, 3.12, -0.3),
    ("Ni", 1, 8581.4, 4.15, 0.4), ("Cr", 1, 8550.0, 3.01, 0.2), ("Mg", 1, 8738.0, 5.95, 0.9),
    ("Mg", 1, 8473.0, 5.93, 0.4), ("Al", 1, 8775.9, 4.02, 0.3), ("S", 1, 8696.9, 7.87, 0.2),
    ("N", 1, 8685.8, 10.34, -0.5), ("Mn", 1, 8675.0, 4.43, 0.1), ("Co", 1, 8595.0, 3.63, 0.0),
    ("V", 1, 8631.0, 1.95, -0.1), ("K", 1, 8502.0, 3.06, -0.5), ("Na", 1, 8651.0, 3.19, -0.2),
    ("C", 1, 8668.0, 7.68, -0.2), ("O", 1, 8448.0, 9.52, -0.4), ("Cu", 1, 8594.0, 5.10, -0.5),
    ("Ce", 2, 8560.0, 0.50, -0.5), ("Ca", 1, 8635.0, 2.52, 0.2),
]
# Weaker filler lines per element and band: (n_lines, χ range eV, log_eta range).
_FILL = {
    "Fe": (140, (2.0, 6.5), (-1.4, 0.4)), "Ni": (25, (3.5, 6.5), (-1.4, 0.0)),
    "Si": (25, (4.9, 7.0), (-1.3, 0.2)), "Mg": (10, (5.0, 7.0), (-1.2, 0.2)),
    "Ti": (30, (0.8, 3.0), (-1.3, 0.0)), "Ca": (15, (2.5, 5.0), (-1.2, 0.0)),
    "Cr": (15, (2.5, 5.0), (-1.5, -0.3)), "Mn": (10, (4.0, 6.0), (-1.5, -0.3)),
    "Co": (10, (2.0, 5.0), (-1.5, -0.4)), "V": (10, (1.0, 3.0), (-1.5, -0.4)),
    "Al": (5, (4.0, 5.5), (-1.0, 0.0)), "Na": (5, (3.5, 5.0), (-1.2, -0.3)),
    "K": (3, (2.5, 3.5), (-1.2, -0.5)), "S": (5, (7.5, 9.0), (-1.2, -0.3)),
    "C": (8, (7.5, 10.0), (-1.2, -0.2)), "O": (4, (9.0, 11.0), (-1.4, -0.6)),
    "N": (4, (10.0, 12.0), (-1.5, -0.7)), "Cu": (3, (3.5, 6.0), (-1.6, -0.8)),
    "Ce": (6, (0.1, 1.0), (-1.4, -0.4)),
}
# Molecules: (name, constituent elements, dissociation energy eV, n_pseudo_lines, log_eta range).
_MOLECULES = {
    "apogee": [("CO", ("C", "O"), 11.09, 500, (-1.3, 0.5)),
               ("OH", ("O",), 4.39, 250, (-1.2, 0.6)),
               ("CN", ("C", "N"), 7.72, 350, (-1.6, 0.0))],
    "gaia_rvs": [("CN", ("C", "N"), 7.72, 200, (-1.6, -0.2)),
                 ("TiO", ("Ti", "O"), 6.87, 150, (-1.8, 0.2))],
}
# Hydrogen: Brackett (n→4) in H, Paschen (n→3) in RVS; vacuum Å.
_HYDROGEN = {
    "apogee": [(1.0 / (1.0967758e-3 * (1 / 16 - 1 / n**2)), 12.75, 4) for n in range(11, 21)],
    "gaia_rvs": [(1.0 / (1.0967758e-3 * (1 / 9 - 1 / n**2)), 12.09, 3) for n in range(13, 18)],
}


@dataclass(frozen=True)
class LineList:
    """Column arrays for L lines. ``kind`` 0 = atomic, 1 = molecular, 2 = hydrogen."""

    wavelength: np.ndarray  # (L,) Å
    element_index: np.ndarray  # (L,) index into ELEMENTS (atomic), -1 otherwise
    stage: np.ndarray  # (L,) 1 or 2 (atomic), 0 otherwise
    excitation: np.ndarray  # (L,) eV (atomic, hydrogen) or dissociation energy (molecular)
    log_eta: np.ndarray  # (L,) reference line-centre opacity, log10
    mass: np.ndarray  # (L,) amu, for thermal broadening
    kind: np.ndarray  # (L,)
    molecule_elements: np.ndarray  # (L, 2) indices into ELEMENTS, -1 when unused

    def __len__(self) -> int:
        return len(self.wavelength)


def named_lines(band: str) -> list[tuple[str, float]]:
    """The band's identified atomic lines as (label, vacuum Å), e.g. ("Mn I", 15159.0): what a
    feature of an APOGEE ('apogee') or Gaia RVS ('gaia_rvs') spectrum is named after."""
    named = {"apogee": _H_BAND, "gaia_rvs": _RVS_BAND}.get(band)
    if named is None:
        raise ValueError(f"unknown band {band!r}; expected 'apogee' or 'gaia_rvs'")
    return [(f"{element} {'I' * stage}", wavelength) for element, stage, wavelength, _chi, _eta in named]


def line_list(band: str, wavelength_min: float, wavelength_max: float, seed: int = 20180101) -> LineList:
    """The lines of ``band`` ('apogee' or 'gaia_rvs') that fall inside [min, max] Å."""
    if band not in _MOLECULES:
        raise ValueError(f"unknown band {band!r}; expected 'apogee' or 'gaia_rvs'")
    rng = np.random.default_rng(seed)
    rows = []  # (λ, element index, stage, χ, log_eta, mass, kind, mol_a, mol_b)
    named = _H_BAND if band == "apogee" else _RVS_BAND
    for element, stage, wavelength, chi, log_eta in named:
        rows.append((wavelength, ELEMENTS.index(element), stage, chi, log_eta, ATOMIC_MASS[element], 0, -1, -1))
    for element, (count, chi_range, eta_range) in _FILL.items():
        if band == "gaia_rvs":
            count = max(2, count // 3)  # the RVS window is 8x narrower than the H band
        for _ in range(count):
            stage = 2 if rng.random() < 0.12 else 1
            chi = rng.uniform(*chi_range) + (IONISATION_EV[element] * 0.2 if stage == 2 else 0.0)
            rows.append((rng.uniform(wavelength_min, wavelength_max), ELEMENTS.index(element), stage, chi,
                         rng.uniform(*eta_range), ATOMIC_MASS[element], 0, -1, -1))
    for _name, constituents, energy, count, eta_range in _MOLECULES[band]:
        a = ELEMENTS.index(constituents[0])
        b = ELEMENTS.index(constituents[1]) if len(constituents) > 1 else -1
        mass = sum(ATOMIC_MASS[c] for c in constituents)
        for _ in range(count):
            rows.append((rng.uniform(wavelength_min, wavelength_max), -1, 0, energy, rng.uniform(*eta_range),
                         mass, 1, a, b))
    for wavelength, chi, _lower in _HYDROGEN[band]:
        rows.append((wavelength, -1, 0, chi, 1.2, 1.0, 2, -1, -1))
    table = np.array(rows, dtype=np.float64)
    keep = (table[:, 0] >= wavelength_min - 5.0) & (table[:, 0] <= wavelength_max + 5.0)
    table = table[keep]
    return LineList(
        wavelength=table[:, 0], element_index=table[:, 1].astype(int), stage=table[:, 2].astype(int),
        excitation=table[:, 3], log_eta=table[:, 4], mass=table[:, 5], kind=table[:, 6].astype(int),
        molecule_elements=table[:, 7:9].astype(int),
    )
