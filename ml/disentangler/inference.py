"""A trained disentangler ready to use: load, encode, generate. What the portal and workers hold.

It always holds the *kept* epoch's weights (the one the trainer's rule chose), never whatever
epoch training happened to stop at.
"""
from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch

from ml import artifacts
from ml.device import choose_device
from ml.disentangler.config import DisentanglerConfig
from ml.disentangler.model import Disentangler, RawInputEncoder
from ml.disentangler.preprocessing import Preprocessing

CODE_VERSION = "disentangler-1"


class TrainedDisentangler:
    """Weights, scalers and config of one trained model. Flux is continuum-normalised, (N, P);
    parameters are raw values of ``config.conditional`` (K, dex), (N, C); latents are (N, L)."""

    def __init__(self, config: DisentanglerConfig, model: Disentangler, preprocessing: Preprocessing,
                 history: dict | None = None, device: str = "auto"):
        self.config, self.preprocessing = config, preprocessing
        self.history = history or {}
        self.device = choose_device(device)
        self.model = model.to(self.device).eval()
        self._raw_encoder: RawInputEncoder | None = None

    @property
    def n_pixels(self) -> int:
        return self.model.n_pixels

    @property
    def kept_epoch(self) -> int:
        """The epoch whose weights these are (-1 when unknown)."""
        return int(self.history.get("best_epoch", -1))

    def save(self, path: str | Path) -> Path:
        """One file, written atomically and read weights-only (``ml.artifacts``): weights,
        preprocessing, config, code version, history."""
        artifact = {"config": asdict(self.config), "model": self.model.state_dict(),
                    "n_classes": [d[-1].out_features for d in self.model.discriminators],
                    "n_pixels": self.n_pixels, "preprocessing": self.preprocessing.state(),
                    "code_version": CODE_VERSION, "history": self.history}
        return artifacts.save(path, artifact)

    @classmethod
    def load(cls, path: str | Path, device: str = "auto") -> "TrainedDisentangler":
        state = artifacts.load(path)
        config = DisentanglerConfig.from_dict({**state["config"], "device": device}, saved=True)
        model = Disentangler(state["n_pixels"], config, state["n_classes"])
        model.load_state_dict(state["model"])
        return cls(config, model, Preprocessing.from_state(state["preprocessing"]), state.get("history"), device)

    # ------------------------------------------------------------------ use

    def _tensor(self, values) -> torch.Tensor:
        return torch.as_tensor(np.asarray(values, np.float32), device=self.device)

    @torch.no_grad()
    def encode(self, flux: np.ndarray, parameters: np.ndarray, batch_size: int = 8192) -> np.ndarray:
        """Latents (N, L) float32 for spectra (N, P) at their parameters (N, C)."""
        prep, out = self.preprocessing, []
        for start in range(0, len(flux), batch_size):
            x = self._tensor(prep.flux.transform(flux[start : start + batch_size]))
            cp = self._tensor(prep.parameters.transform(parameters[start : start + batch_size]))
            out.append(self.model.encode(x, cp).float().cpu().numpy())
        return np.concatenate(out) if out else np.zeros((0, self.config.latent_dim), np.float32)

    @torch.no_grad()
    def encode_raw(self, flux: np.ndarray, parameters: np.ndarray, batch_size: int = 8192) -> np.ndarray:
        """Like :meth:`encode`, with the scalers folded into the first layer (faster for bulk fills)."""
        if self._raw_encoder is None:
            prep = self.preprocessing
            self._raw_encoder = RawInputEncoder(self.model, prep.flux.mean, prep.flux.scale, prep.parameters.mean,
                                                prep.parameters.scale).to(self.device).eval()
        out = []
        for start in range(0, len(flux), batch_size):
            x, cp = self._tensor(flux[start : start + batch_size]), self._tensor(parameters[start : start + batch_size])
            out.append(self._raw_encoder(x, cp).float().cpu().numpy())
        return np.concatenate(out) if out else np.zeros((0, self.config.latent_dim), np.float32)

    @torch.no_grad()
    def generate(self, z: np.ndarray, parameters: np.ndarray) -> np.ndarray:
        """Spectra (N, P) of the stars with latents z (N, L) drawn at parameters (N, C)."""
        cp = self._tensor(self.preprocessing.parameters.transform(np.asarray(parameters, np.float32)))
        return self.preprocessing.flux.inverse(self.model.decode(self._tensor(z), cp).float().cpu().numpy())

    def residual(self, flux: np.ndarray, parameters: np.ndarray, batch_size: int = 4096) -> np.ndarray:
        """What the model cannot explain: flux − D(E(flux, cp), cp), (N, P) float32 in normalised
        flux, for spectra (N, P) at their parameters (N, C)."""
        out = [flux[start : start + batch_size] - self.generate(
                   self.encode_raw(flux[start : start + batch_size], parameters[start : start + batch_size]),
                   parameters[start : start + batch_size])
               for start in range(0, len(flux), batch_size)]
        return np.concatenate(out).astype(np.float32) if out else np.zeros_like(flux, np.float32)

    def outside_training_range(self, parameters: np.ndarray) -> np.ndarray:
        """(N,) True where any parameter lies outside the training range (extrapolation)."""
        parameters = np.atleast_2d(parameters)
        outside = np.zeros(len(parameters), dtype=bool)
        for k, name in enumerate(self.config.conditional):
            low, high = self.preprocessing.parameter_range[name]
            outside |= (parameters[:, k] < low) | (parameters[:, k] > high)
        return outside
