"""Training a disentangler on arrays: the alternation, validation, the kept epoch, checkpoints.

Per mini-batch: encode once; ``disc_steps`` discriminator updates on the detached z; then one
autoencoder update against the freshly updated discriminators (``ml.disentangler.losses``).

The validation objective is ``MSE + Σᵢ λᵢ · max(0, Hᵢ − CEᵢ)`` (Hᵢ the entropy of discriminator i's
training bins, the CE of a discriminator that reads nothing): reconstruction plus what the
discriminators still read from z, counted only below chance. The kept epoch has the lowest
objective among the epochs whose latent a fresh probe reads the conditioned parameters from at
R² ≤ ``leak_limit`` (``ml.disentangler.selection``). Early stopping after ``patience`` epochs
without a new kept epoch, once the kept epoch passes the probe.

Scalers are fitted on the training split only; batches are reshuffled every epoch from the
trainer's own seeded generator; float32 (bf16 autocast on CUDA); the whole dataset lives on the
device. A run is deterministic for a seed on one machine and thread count (not bit for bit across
machines: the adversarial game amplifies rounding). Checkpoints (weights, optimisers, RNG state,
history, kept weights) after every epoch let a run resume exactly.
"""
from __future__ import annotations

import copy
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from torch.nn import functional as F

from ml import artifacts
from ml.data import JointBins, split_indices
from ml.device import choose_device
from ml.disentangler.config import DisentanglerConfig
from ml.disentangler.inference import CODE_VERSION, TrainedDisentangler
from ml.disentangler.losses import PENALTIES, adversarial_term, chance_cross_entropy
from ml.disentangler.model import Disentangler
from ml.disentangler.preprocessing import Preprocessing
from ml.disentangler.selection import better, probe_r2

EVALUATION_CHUNK = 4096  # stars per forward pass when scoring a split


@dataclass
class History:
    epochs: list[dict] = field(default_factory=list)  # one record per epoch (losses, seconds, validation)
    best_epoch: int = -1  # the kept epoch (1-based; -1 before any validation)
    best_objective: float = float("inf")
    best_probe_r2: float = float("inf")  # the kept epoch's fresh-probe R² of the conditioned parameters
    stopped_early: bool = False


class DisentanglerTrainer:
    """Trains one disentangler. flux: (N, P) float32 continuum-normalised spectra; parameters:
    (N, C) raw values of ``config.conditional`` (K, dex); ``split`` (optional) gives
    train/validation/test index arrays. After :meth:`fit`, :meth:`trained` is the kept model."""

    def __init__(self, config: DisentanglerConfig, flux: np.ndarray, parameters: np.ndarray,
                 split: dict[str, np.ndarray] | None = None):
        self.config, cfg = config, config
        self.device = choose_device(config.device)
        self.history = History()
        self.epoch = 0
        flux, parameters = np.asarray(flux, dtype=np.float32), np.asarray(parameters, dtype=np.float32)
        if flux.ndim != 2 or parameters.shape != (len(flux), len(cfg.conditional)):
            raise ValueError(f"flux must be (N, P) and parameters (N, {len(cfg.conditional)}); "
                             f"got {flux.shape}, {parameters.shape}")
        if not (np.isfinite(flux).all() and np.isfinite(parameters).all()):
            raise ValueError("flux and parameters must be finite")
        self.split = split or split_indices(len(flux), cfg.validation, cfg.test, cfg.seed)
        train = self.split["train"]
        if len(train) < cfg.batch_size:
            raise ValueError(f"the training split ({len(train)}) is smaller than one batch ({cfg.batch_size})")
        self.preprocessing = prep = Preprocessing.fit(flux[train], parameters[train], cfg.conditional, cfg.n_bins,
                                                      cfg.binning, joint=cfg.variant == "AT")
        torch.manual_seed(cfg.seed)
        self.model = Disentangler(flux.shape[1], cfg, prep.n_classes).to(self.device)
        autoencoder = list(self.model.encoder.parameters()) + list(self.model.decoder.parameters())
        # One fused kernel per step instead of five passes over every weight (CPU and CUDA alike).
        self.optimiser_ae = torch.optim.Adam(autoencoder, lr=cfg.lr_autoencoder, fused=True)
        self.optimiser_d = torch.optim.Adam(self.model.discriminators.parameters(), lr=cfg.lr_discriminator, fused=True)
        # The whole dataset lives on the device; batches are index_select, with no host round trip.
        self.x = self._tensor(prep.flux.transform(flux))
        self.cp = self._tensor(prep.parameters.transform(parameters))
        targets = prep.targets(parameters)
        self.targets = self._tensor(targets, torch.int64)
        self.chance_ce = chance_cross_entropy(targets[train])
        self.penalties = [(PENALTIES[name], weight) for name, weight in cfg.penalty_weights().items()]
        self.generator = torch.Generator(device="cpu").manual_seed(cfg.seed)  # the shuffles' own stream
        self._kept_state = copy.deepcopy(self.model.state_dict())

    def _tensor(self, values, dtype=torch.float32) -> torch.Tensor:
        return torch.as_tensor(values, dtype=dtype, device=self.device)

    def _autocast(self):
        enabled = self.config.amp and self.device.type == "cuda"
        return torch.autocast(device_type=self.device.type, dtype=torch.bfloat16, enabled=enabled)

    # ------------------------------------------------------------------ training

    def _step(self, index: torch.Tensor, sums: torch.Tensor) -> None:
        """One mini-batch: discriminator step(s) on detached z, then one autoencoder step."""
        cfg, model = self.config, self.model
        x, cp, target = self.x[index], self.cp[index], self.targets[index]
        with self._autocast():
            z = model.encode(x, cp)  # (B, L)
        z_fixed = z.detach().float()
        for _ in range(cfg.disc_steps):
            d_loss = sum(F.cross_entropy(d(z_fixed), target[:, k], ignore_index=JointBins.IGNORE)
                         for k, d in enumerate(model.discriminators))
            self.optimiser_d.zero_grad(set_to_none=True)
            d_loss.backward()
            self.optimiser_d.step()
        with self._autocast():
            reconstruction = F.mse_loss(model.decode(z, cp).float(), x)
            adversarial = torch.zeros((), device=self.device)  # every term beyond reconstruction
            for k, d in enumerate(model.discriminators):
                if cfg.lambda_for(k):
                    adversarial = adversarial + cfg.lambda_for(k) * adversarial_term(d(z.float()), target[:, k])
            for penalty, weight in self.penalties:
                adversarial = adversarial + weight * penalty(z.float(), cp)
        self.optimiser_ae.zero_grad(set_to_none=True)
        (reconstruction + adversarial).backward()
        self.optimiser_ae.step()
        sums += torch.stack([reconstruction.detach(), adversarial.detach(), d_loss.detach(), torch.ones((), device=self.device)])

    @torch.no_grad()
    def evaluate(self, index: np.ndarray, model: Disentangler | None = None, probe: bool = False) -> dict:
        """Reconstruction MSE, discriminator CE and accuracy, the leak and the objective on the rows
        ``index`` (default: the current weights); with ``probe``, also the fresh probe's R² of the
        conditioned parameters from z (``probe_r2``)."""
        cfg, model = self.config, model or self.model
        was_training = model.training
        model.eval()
        n_disc = cfg.n_discriminators
        reconstruction, adversarial, count, latents = 0.0, 0.0, 0, []
        ce, accuracy, labelled = [0.0] * n_disc, [0.0] * n_disc, [0] * n_disc
        for start in range(0, len(index), EVALUATION_CHUNK):
            chunk = torch.as_tensor(index[start : start + EVALUATION_CHUNK], device=self.device)
            x, cp, target = self.x[chunk], self.cp[chunk], self.targets[chunk]
            z = model.encode(x, cp)
            if probe:
                latents.append(z.float().cpu().numpy())
            reconstruction += F.mse_loss(model.decode(z, cp), x, reduction="sum").item() / x.shape[1]
            for k, d in enumerate(model.discriminators):
                logits, valid = d(z), target[:, k] != JointBins.IGNORE
                if valid.any():
                    ce[k] += F.cross_entropy(logits[valid], target[valid, k], reduction="sum").item()
                    accuracy[k] += (logits[valid].argmax(1) == target[valid, k]).float().sum().item()
                    labelled[k] += int(valid.sum())
                if cfg.lambda_for(k):
                    adversarial += cfg.lambda_for(k) * adversarial_term(logits, target[:, k]).item() * len(chunk)
            count += len(chunk)
        model.train(was_training)
        result = {"reconstruction": reconstruction / count, "adversarial": adversarial / count,
                  "disc_ce": [v / max(n, 1) for v, n in zip(ce, labelled)],
                  "disc_accuracy": [v / max(n, 1) for v, n in zip(accuracy, labelled)]}
        # What the discriminators still read from z: CE below chance, never rewarded above it.
        result["leak"] = sum(cfg.lambda_for(k) * max(0.0, self.chance_ce[k] - value)
                             for k, value in enumerate(result["disc_ce"]))
        result["objective"] = result["reconstruction"] + result["leak"]
        if probe and latents:  # the fresh leak probe of the kept-epoch rule (about a second on 1,500 stars)
            cp = self.cp[torch.as_tensor(index, device=self.device)].cpu().numpy()
            result["probe_r2"] = probe_r2(np.concatenate(latents), cp, seed=cfg.seed)
        return result

    def fit(self, epochs: int | None = None, checkpoint: str | Path | None = None,
            on_epoch: Callable[[dict], None] | None = None, should_stop: Callable[[], bool] | None = None) -> History:
        """Train (or continue) up to ``epochs`` (default ``config.epochs``). With ``checkpoint``,
        resume from it when it exists, and write it after every epoch (atomically)."""
        cfg = self.config
        epochs = cfg.epochs if epochs is None else epochs
        if checkpoint is not None and Path(checkpoint).exists() and self.epoch == 0:
            self.load_checkpoint(checkpoint)
        train = torch.as_tensor(self.split["train"], device=self.device)
        n_batches = math.ceil(len(train) / cfg.batch_size)
        while self.epoch < epochs and not self.history.stopped_early:
            started = time.perf_counter()
            self.model.train()  # BatchNorms must train on batch statistics
            order = train[torch.randperm(len(train), generator=self.generator).to(self.device)]
            sums = torch.zeros(4, device=self.device)
            for b in range(n_batches):
                batch = order[b * cfg.batch_size : (b + 1) * cfg.batch_size]
                if len(batch) >= 2:
                    self._step(batch, sums)
            means = (sums[:3] / sums[3]).tolist()  # one host sync per epoch
            probe = cfg.kept_epoch_leak_limit is not None
            validation = self.evaluate(self.split["validation"], probe=probe) if len(self.split["validation"]) else None
            self.epoch += 1
            seconds = time.perf_counter() - started
            record = {"epoch": self.epoch, "train_reconstruction": means[0], "train_adversarial": means[1],
                      "train_disc_ce": means[2], "seconds": seconds, "samples_per_s": len(train) / seconds}
            if validation:
                record.update({f"val_{k}": v for k, v in validation.items()})
                self._keep_or_stop(validation["objective"], validation.get("probe_r2", float("nan")))
            else:  # nothing to choose by: the latest epoch is kept
                self.history.best_epoch, self._kept_state = self.epoch, copy.deepcopy(self.model.state_dict())
            self.history.epochs.append(record)
            if checkpoint is not None:
                self.save_checkpoint(checkpoint)
            if on_epoch:
                on_epoch(record)
            if should_stop and should_stop():
                break
        return self.history

    def _keep_or_stop(self, objective: float, probe: float) -> None:
        history = self.history
        if better(objective=objective, probe=probe, best_objective=history.best_objective,
                  best_probe=history.best_probe_r2, limit=self.config.kept_epoch_leak_limit):
            history.best_objective, history.best_probe_r2, history.best_epoch = objective, probe, self.epoch
            self._kept_state = copy.deepcopy(self.model.state_dict())
        elif (self.config.patience and self.epoch - self.history.best_epoch >= self.config.patience
              and self._kept_passes_probe()):
            self.history.stopped_early = True

    def _kept_passes_probe(self) -> bool:
        """Early stopping waits while the kept epoch still leaks: the run is still taking the
        parameters out, and a later epoch may pass the probe."""
        limit = self.config.kept_epoch_leak_limit
        return limit is None or self.history.best_probe_r2 <= limit

    def kept_network(self) -> Disentangler:
        """A copy of the networks with the kept epoch's weights (the trainer's own go on training)."""
        network = copy.deepcopy(self.model)
        network.load_state_dict(self._kept_state)
        return network.eval()

    def trained(self) -> TrainedDisentangler:
        """The kept model, ready to encode and generate."""
        return TrainedDisentangler(self.config, self.kept_network(), self.preprocessing, asdict(self.history),
                                   device=str(self.device))

    def save(self, path: str | Path) -> Path:
        """The kept model's artifact (see :meth:`TrainedDisentangler.save`)."""
        return self.trained().save(path)

    # ------------------------------------------------------------------ checkpoints

    def save_checkpoint(self, path: str | Path) -> None:
        state = {"config": asdict(self.config), "epoch": self.epoch, "model": self.model.state_dict(),
                 "optimiser_ae": self.optimiser_ae.state_dict(), "optimiser_d": self.optimiser_d.state_dict(),
                 "generator": self.generator.get_state(), "history": asdict(self.history),
                 "torch_rng": torch.get_rng_state(),
                 "cuda_rng": torch.cuda.get_rng_state() if self.device.type == "cuda" else None,
                 "best_state": self._kept_state, "split": self.split, "preprocessing": self.preprocessing.state(),
                 "code_version": CODE_VERSION}
        artifacts.save(path, state)  # atomic: a crash never leaves half a checkpoint

    def load_checkpoint(self, path: str | Path) -> None:
        state = artifacts.load(path, map_location=self.device)
        self.model.load_state_dict(state["model"])
        self.optimiser_ae.load_state_dict(state["optimiser_ae"])
        self.optimiser_d.load_state_dict(state["optimiser_d"])
        self.generator.set_state(state["generator"].cpu())  # generator states are CPU byte tensors
        torch.set_rng_state(state["torch_rng"].cpu())
        if state.get("cuda_rng") is not None and self.device.type == "cuda":
            torch.cuda.set_rng_state(state["cuda_rng"].cpu())
        self.epoch = state["epoch"]
        self.history = History(**state["history"])
        self._kept_state = state["best_state"]


def checkpoint_epoch(path: str | Path) -> int:
    """The epoch a checkpoint was written after (0 when there is none)."""
    if not Path(path).exists():
        return 0
    return int(artifacts.load(path)["epoch"])
