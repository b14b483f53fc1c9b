"""What a disentangler fits on its training split before training, and saves with its weights."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ml.data import Binner, JointBins, Standardiser


@dataclass
class Preprocessing:
    """Flux and parameter scalers, the parameters' bins, and the training range of each parameter."""

    flux: Standardiser
    parameters: Standardiser
    binners: list[Binner]
    joint: JointBins | None  # AT only: the joint bins seen in training
    parameter_range: dict[str, tuple[float, float]]  # {name: (min, max)} on the training split

    @classmethod
    def fit(cls, flux: np.ndarray, parameters: np.ndarray, conditional: tuple[str, ...], n_bins: int, binning: str,
            joint: bool) -> "Preprocessing":
        """Fit on training rows only: flux (N, P), parameters (N, C) in ``conditional`` order."""
        binners = [Binner.fit(parameters[:, k], n_bins, binning) for k in range(len(conditional))]
        bins = np.stack([b.transform(parameters[:, k]) for k, b in enumerate(binners)], axis=1)
        return cls(flux=Standardiser.fit(flux, per_feature=False), parameters=Standardiser.fit(parameters),
                   binners=binners, joint=JointBins.fit(bins, n_bins) if joint else None,
                   parameter_range={name: (float(parameters[:, k].min()), float(parameters[:, k].max()))
                                    for k, name in enumerate(conditional)})

    @property
    def n_classes(self) -> list[int]:
        """Classes of each discriminator."""
        return [self.joint.n_classes] if self.joint is not None else [b.n_bins for b in self.binners]

    def targets(self, parameters: np.ndarray) -> np.ndarray:
        """Class targets (N, n_discriminators) for the raw parameters (N, C)."""
        bins = np.stack([b.transform(parameters[:, k]) for k, b in enumerate(self.binners)], axis=1)
        return self.joint.transform(bins)[:, None] if self.joint is not None else bins

    def state(self) -> dict:
        return {"flux": self.flux.state(), "parameters": self.parameters.state(),
                "binners": [b.state() for b in self.binners], "joint": None if self.joint is None else self.joint.state(),
                "parameter_range": {k: list(v) for k, v in self.parameter_range.items()}}

    @classmethod
    def from_state(cls, state: dict) -> "Preprocessing":
        return cls(flux=Standardiser.from_state(state["flux"]), parameters=Standardiser.from_state(state["parameters"]),
                   binners=[Binner.from_state(b) for b in state["binners"]],
                   joint=None if state["joint"] is None else JointBins.from_state(state["joint"]),
                   parameter_range={k: tuple(v) for k, v in state["parameter_range"].items()})
