"""Payne-format spectrum emulators, read from an ``.npz`` path the user gives.

Two layouts (see ``shared/data/payne/README.md``), detected from the array shapes:

* **per-pixel (2018, "binspec")**: ``w_array_0`` (P, H, L), ``b_array_0`` (P, H), ``w_array_1``
  (P, H), ``b_array_1`` (P,). Each pixel p has its own one-hidden-layer network:
  flux[p] = Σ_k w1[p,k] σ(Σ_l w0[p,k,l] s_l + b0[p,k]) + b1[p], σ the logistic sigmoid.
* **MLP (2019+)**: ``w_array_0`` (H, L), ``w_array_1`` (H, H), ``w_array_2`` (P, H) and biases;
  flux = W2 g(W1 g(W0 s + b0) + b1) + b2 with g the leaky ReLU (slope 0.01).

Labels are scaled as s_j = (x_j − x_min_j) / (x_max_j − x_min_j) − 0.5. ``x_min``/``x_max``
come from the file, or from the user when the file lacks them. Label names come from the file's
``label_names`` array when present, else from the user, else the documented defaults for the
two known label counts (5: the binspec dwarf network; 25: the 2019 Kurucz network).

The emulator also implements the grid builder's :class:`~ml.synth.gridbuilder.SpectrumModel`
call, mapping (Teff, logg, [X/H]) onto its labels by name: ``teff``, ``logg``, ``fe_h``,
``X_H`` (e.g. ``Mg_H``), ``X_Fe`` / ``alpha_fe`` (= [Mg/Fe]), and fixed values for anything
else (``vmacro``, ``vturb``, ``c12_c13``; see ``fixed``).
"""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from ml import surveys
from ml.synth.lines import ELEMENTS
from ml.synth.noise import add_noise

DEFAULT_LABELS = {
    5: ["teff", "logg", "fe_h", "Mg_Fe", "vmacro"],
    25: ["teff", "logg", "vturb", "C_H", "N_H", "O_H", "Na_H", "Mg_H", "Al_H", "Si_H", "P_H", "S_H", "K_H",
         "Ca_H", "Ti_H", "V_H", "Cr_H", "Mn_H", "fe_h", "Co_H", "Ni_H", "Cu_H", "Ge_H", "c12_c13", "vmacro"],
}
DEFAULT_FIXED = {"vmacro": 5.0, "vturb": 1.0, "c12_c13": 20.0}


class PayneFormatError(ValueError):
    """The file is not a Payne emulator of either layout."""


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))  # overflow-free logistic


def _leaky_relu(z: np.ndarray) -> np.ndarray:
    return np.where(z > 0, z, 0.01 * z)


class PayneEmulator:
    """A trained Payne network. ``emulator.flux(labels)`` takes (N, L) labels in physical units."""

    def __init__(self, path: str | Path, label_names: list[str] | None = None, x_min=None, x_max=None,
                 fixed: dict[str, float] | None = None, band: str = "apogee",
                 wavelength: np.ndarray | None = None, continuum_pixels: np.ndarray | None = None):
        path = Path(path)
        try:
            with np.load(path, allow_pickle=False) as archive:
                arrays = {key: archive[key] for key in archive.files}
        except (OSError, ValueError) as error:
            raise PayneFormatError(f"{path}: not a readable .npz file ({error})") from None
        if "w_array_0" not in arrays or "b_array_0" not in arrays:
            raise PayneFormatError(f"{path}: no w_array_0/b_array_0, so not a Payne network")
        w0 = arrays["w_array_0"]
        if w0.ndim == 3:
            self.layout = "per-pixel"
            self.n_labels = w0.shape[2]
            self.n_pixels = w0.shape[0]
        elif w0.ndim == 2 and "w_array_2" in arrays:
            self.layout = "mlp"
            self.n_labels = w0.shape[1]
            self.n_pixels = arrays["w_array_2"].shape[0]
        else:
            raise PayneFormatError(f"{path}: w_array_0 of shape {w0.shape} fits neither Payne layout")
        self.arrays = {key: value.astype(np.float64) for key, value in arrays.items() if key.startswith(("w_", "b_"))}
        self.x_min = np.asarray(x_min if x_min is not None else arrays.get("x_min"), dtype=np.float64)
        self.x_max = np.asarray(x_max if x_max is not None else arrays.get("x_max"), dtype=np.float64)
        if self.x_min.shape != (self.n_labels,) or self.x_max.shape != (self.n_labels,):
            raise PayneFormatError(f"{path}: x_min/x_max must be given for {self.n_labels} labels")
        if "label_names" in arrays:
            names = [str(name) for name in arrays["label_names"]]
        else:
            names = label_names or DEFAULT_LABELS.get(self.n_labels)
        if names is None or len(names) != self.n_labels:
            raise PayneFormatError(f"{path}: give {self.n_labels} label names (label_names=...)")
        self.label_names = list(names)
        self.fixed = {**DEFAULT_FIXED, **(fixed or {})}
        self.band = band
        if wavelength is not None:
            self.wavelength = np.asarray(wavelength)
        elif self.n_pixels == surveys.APOGEE_N_PIXELS:
            self.wavelength = surveys.apogee_wavelength()
        else:
            self.wavelength = np.arange(self.n_pixels, dtype=np.float64)
        self.path = path
        # Optional continuum normalisation (for networks trained on un-normalised spectra): a
        # boolean (P,) mask of continuum pixels, applied per APOGEE chip after the forward pass.
        self.continuum_pixels = None if continuum_pixels is None else np.asarray(continuum_pixels, dtype=bool)
        if self.continuum_pixels is not None and self.continuum_pixels.shape != (self.n_pixels,):
            raise PayneFormatError(f"continuum mask has {self.continuum_pixels.shape} values, expected ({self.n_pixels},)")

    def scale(self, labels: np.ndarray) -> np.ndarray:
        return (labels - self.x_min) / (self.x_max - self.x_min) - 0.5

    def outside_training_range(self, labels: np.ndarray) -> np.ndarray:
        """(N,) True where any label lies outside [x_min, x_max]."""
        labels = np.atleast_2d(labels)
        return np.any((labels < self.x_min) | (labels > self.x_max), axis=1)

    def flux(self, labels) -> np.ndarray:
        """Labels (N, L) in physical units → flux (N, P) float32."""
        labels = np.atleast_2d(np.asarray(labels, dtype=np.float64))
        if labels.shape[1] != self.n_labels:
            raise ValueError(f"expected {self.n_labels} labels {self.label_names}, got {labels.shape[1]}")
        s = self.scale(labels)  # (N, L)
        a = self.arrays
        if self.layout == "per-pixel":
            hidden = _sigmoid(np.einsum("pkl,nl->npk", a["w_array_0"], s) + a["b_array_0"][None])  # (N, P, H)
            flux = np.einsum("pk,npk->np", a["w_array_1"], hidden) + a["b_array_1"][None]
        else:
            hidden = _leaky_relu(s @ a["w_array_0"].T + a["b_array_0"])
            hidden = _leaky_relu(hidden @ a["w_array_1"].T + a["b_array_1"])
            flux = hidden @ a["w_array_2"].T + a["b_array_2"]
        return flux.astype(np.float32)

    # ------------------------------------------------------------ SpectrumModel interface

    def labels_for(self, teff, logg, x_h) -> np.ndarray:
        """Map (Teff, logg, [X/H] in ELEMENTS order) to this network's label vector, (N, L)."""
        teff = np.asarray(teff, dtype=np.float64).ravel()
        logg = np.asarray(logg, dtype=np.float64).ravel()
        x_h = np.asarray(x_h, dtype=np.float64)
        fe = x_h[:, ELEMENTS.index("Fe")]
        columns = []
        for name in self.label_names:
            if name == "teff":
                columns.append(teff)
            elif name == "logg":
                columns.append(logg)
            elif name == "fe_h":
                columns.append(fe)
            elif name == "alpha_fe":
                columns.append(x_h[:, ELEMENTS.index("Mg")] - fe)
            elif name.endswith("_H") and name[:-2] in ELEMENTS:
                columns.append(x_h[:, ELEMENTS.index(name[:-2])])
            elif name.endswith("_Fe") and name[:-3] in ELEMENTS:
                columns.append(x_h[:, ELEMENTS.index(name[:-3])] - fe)
            elif name.endswith("_H") and name not in self.fixed:
                columns.append(fe)  # an element the analytic chemistry lacks (P, Ge): scale with iron
            elif name in self.fixed:
                columns.append(np.full_like(teff, self.fixed[name]))
            else:
                raise ValueError(f"no value for label {name!r}; pass it in fixed={{...}}")
        return np.stack(columns, axis=1)

    def __call__(self, teff, logg, x_h, snr=None, rng=None, return_error=False):
        labels = self.labels_for(teff, logg, x_h)
        outside = self.outside_training_range(labels)
        if outside.any():
            warnings.warn(f"{int(outside.sum())} of {len(labels)} stars lie outside the emulator's training range "
                          f"{dict(zip(self.label_names, zip(self.x_min.round(3), self.x_max.round(3))))}",
                          stacklevel=2)
        flux = self.flux(labels)
        if self.continuum_pixels is not None:
            from ml.continuum import continuum_normalise

            chips = surveys.apogee_chip_slices() if self.n_pixels == surveys.APOGEE_N_PIXELS else [slice(0, self.n_pixels)]
            flux = np.stack([continuum_normalise(row, None, chips, self.continuum_pixels)[0] for row in flux]).astype(np.float32)
        flux, error = add_noise(flux, snr, rng)
        return (flux, error) if return_error else flux
