"""Training and evaluating BATMM and its baselines on arrays (the seed's transfer strategy).

1. Pretrain the spectrum encoder (VGG1D + segment attention) with a linear head on its 7 tokens in
   wavelength order (see ``_Head``). Its segment denoiser (``ml.batmm.SegmentDenoiser``) is first
   fitted on the training split's spectra as observed. Every training spectrum is re-observed at a
   lower S/N: it gets extra Gaussian noise of σ = u · ``spectrum_noise`` · σ̂, with u ~ U(0, 1)
   drawn per spectrum and σ̂ the spectrum's own noise (DER_SNR, ``ml.der_snr``). Without it VGG1D
   memorises its ~5,700 training spectra (seed 3, lr 3e-4: training loss 0.02 by epoch 14,
   validation F1 0.89 and swinging); with it the loss stays near 0.23 and validation F1 reaches
   0.91–0.915.
2. Pretrain the image encoder (band SE + ResNet-50) with a linear head on its mean token. Two
   guards keep a ResNet-50 from memorising ~5,700 cutouts (without them its training-split
   features separate the classes and its test ones do not, and the fusion learns to trust them):
   every training batch is turned by a random element of the dihedral group (90° rotations and a
   mirror; a centred point source has no preferred orientation), and a second linear head on the
   same mean token regresses the star's PSF colours u−g, g−r, r−i, i−z and r measured on the
   cutout itself (``ml.photometry.psf_colours``; self-supervised, no label or generator truth),
   weighted by ``image_colour_weight``.
3. Freeze both, cache their tokens, and train the fusion transformer on them. The fusion starts
   from VGG1D's own decision (its pretraining head copied into the frozen spectrum skip,
   ``ml.batmm``), the untrained fusion is scored on the validation split as epoch 0, and it is
   kept unless an epoch beats it. With ``colour_token`` the fusion also reads the cutouts' PSF
   colours (the same measurement as step 2's target, raw in mag; its standardisation is fitted on
   the training split and saved with the fusion).

AdamW (lr 1e-4, weight decay 5e-2 by default) with a cosine learning-rate schedule and
class-weighted cross-entropy (weights ∝ 1 / class frequency on the training split, so the ≈40 %
BHB class counts as much as the rest). Deterministic for a seed; bf16 autocast on CUDA.
Early stopping keeps the weights of the best validation F1.

Each encoder alone (VGG1D, ResNet + SE) is scored on the test split as it comes out of its
pretraining, for free. ``run(ablations=True)`` also trains the fusion without cross-attention and
without modality embeddings. The classical and early-fusion baselines of the seed's tables are in
``research/bhb_baselines.py``; production training runs none of them.
"""
from __future__ import annotations

import copy
import math
import re
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ml import artifacts
from ml.batmm import BATMM, N_COLOURS, N_SEGMENTS, BATMMConfig, FusionTransformer, ResNet50SE, VGG1D
from ml.bhb_report import by_magnitude, threshold_for_purity, xue_selection
from ml.calibration import expected_calibration_error, fit_temperature, reliability, sigmoid
from ml.data import split_indices
from ml.device import choose_device
from ml.files import write_atomically
from ml.der_snr import der_snr_noise
from ml.photometry import psf_colours


# Bumped whenever a stage's model or training changes, so stage checkpoints and seed results written
# by older code are never mixed with new ones (bhb-2: the spectrum head reads ordered tokens;
# bhb-3: noise augmentation of the training spectra; bhb-4: the fusion's spectrum skip; bhb-5, a
# hidden layer in the spectrum classifier, was tried and reverted; bhb-6: the segment denoiser).
CODE_VERSION = "bhb-6"


@dataclass
class BHBTrainingConfig:
    model: BATMMConfig
    epochs_encoder: int = 20
    epochs_fusion: int = 30
    # The image encoder's own epochs (None = ``epochs_encoder``). On a small sample it learns little
    # in many epochs (the demo's: validation F1 0.50-0.54 from epoch 2 to 10) while the measured PSF
    # colours of the colour token carry the images' information; the demo gives it few.
    epochs_image: int | None = None
    batch_size: int = 64
    lr: float = 1e-4
    weight_decay: float = 5e-2
    patience: int = 8  # epochs without a better validation F1 before a stage stops; 0 = never stop early
    # VGG1D's own patience (None = ``patience``). Under the one-cycle schedule its validation F1 swings
    # while the learning rate is high, so a short patience can stop it inside the swing; the portal
    # sets 0 (docs/research/bhb.md).
    spectrum_patience: int | None = None
    validation: float = 0.2  # 70 / 20 / 10
    test: float = 0.1
    seed: int = 0
    device: str = "auto"
    amp: bool = True
    image_augment: bool = True  # random 90° rotations / mirror flips of training cutouts
    image_colour_weight: float = 1.0  # weight of the auxiliary PSF-colour regression (0 = off)
    spectrum_noise: float = 1.0  # extra training noise, up to this many times the spectrum's own σ (0 = off)

    def __post_init__(self):
        if self.spectrum_noise < 0 or self.image_colour_weight < 0:
            raise ValueError("spectrum_noise and image_colour_weight must be >= 0")
        if self.epochs_image is not None and (isinstance(self.epochs_image, bool) or not isinstance(self.epochs_image, int)
                                              or self.epochs_image < 1):
            raise ValueError(f"epochs_image must be a whole number of epochs >= 1, not {self.epochs_image!r}")
        for name in ("patience", "spectrum_patience"):
            value = getattr(self, name)
            if value is None and name == "spectrum_patience":
                continue
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be a whole number of epochs >= 0 (0 = never stop early), not {value!r}")


class TrainingStopped(Exception):
    """Raised between epochs when ``should_stop()`` says so (a cancelled run)."""


class _Head(nn.Module):
    """Encoder + linear classifier (pretraining and the single-modality baselines).

    With ``n_tokens`` the classifier reads the tokens flattened in order, (B, n_tokens·d): it knows
    which wavelength segment a feature came from. The spectrum head needs that. On the mean token a
    Balmer line at 4102 Å and a metal blend at 8500 Å look alike, and VGG1D then barely learned: on
    seed 3 its training loss stayed at 0.66 (ln 2 = 0.69) for two epochs and its validation F1
    swung between 0.41 and 0.89 from epoch to epoch; flattened, the loss fell to 0.26 and validation
    F1 reached 0.91 in two epochs (a 4-epoch schedule; over 15 epochs at lr 1e-3 it still swings,
    docs/research/bhb.md). Without ``n_tokens``, the mean token (B, d): right for the image,
    whose star is centred and whose encoder is trained to ignore orientation. ``n_auxiliary`` > 0
    adds a second linear map of the mean token for an auxiliary regression."""

    def __init__(self, encoder: nn.Module, d_model: int, n_auxiliary: int = 0, n_tokens: int | None = None):
        super().__init__()
        self.n_tokens = n_tokens
        self.encoder, self.head = encoder, nn.Linear(d_model * (n_tokens or 1), 2)
        self.auxiliary = nn.Linear(d_model, n_auxiliary) if n_auxiliary else None

    def features(self, tokens: torch.Tensor) -> torch.Tensor:
        """What the classifier reads: (B, n_tokens·d) flattened tokens, or the (B, d) mean token."""
        return tokens.flatten(1) if self.n_tokens else tokens.mean(dim=1)

    def forward(self, inputs):
        tokens, weights = self.encoder(inputs)
        return self.head(self.features(tokens)), tokens, weights


def spectrum_head(config: BATMMConfig) -> _Head:
    """VGG1D with its pretraining classifier on the 7 tokens in wavelength order."""
    return _Head(VGG1D(config), config.d_model, n_tokens=N_SEGMENTS)


def image_head(config: BATMMConfig, n_colours: int = 0) -> _Head:
    """ResNet-50 + SE with its pretraining classifier on the mean token (and, with ``n_colours``,
    the auxiliary PSF-colour regression)."""
    return _Head(ResNet50SE(config), config.d_model, n_auxiliary=n_colours)


def dihedral(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """images (B, bands, H, W) turned by one random element of the dihedral group D4 (k·90° and an
    optional mirror), the same for the whole batch. Square cutouts only."""
    turned = torch.rot90(images, int(torch.randint(4, (1,), generator=generator)), dims=(2, 3))
    return turned.flip(3) if bool(torch.randint(2, (1,), generator=generator)) else turned


def add_noise(spectra: torch.Tensor, noise: torch.Tensor, scale: float, generator: torch.Generator) -> torch.Tensor:
    """spectra (B, P) plus Gaussian noise of σ = u · scale · noise per spectrum, u ~ U(0, 1) drawn per
    spectrum, noise (B,) each spectrum's own 1σ in the flux's unit: the same stars observed at S/N
    between theirs and 1 / (1 + scale²)^½ of it."""
    level = scale * torch.rand(len(spectra), 1, generator=generator) * noise[:, None]
    return spectra + level * torch.randn(spectra.shape, generator=generator)


def class_weights(labels: np.ndarray) -> torch.Tensor:
    counts = np.bincount(labels.astype(int), minlength=2).astype(np.float64)
    return torch.as_tensor(counts.sum() / (2.0 * np.maximum(counts, 1.0)), dtype=torch.float32)


def metrics(labels: np.ndarray, score: np.ndarray, threshold: float = 0.5) -> dict:
    """Precision, recall, F1 per class and macro; ROC and PR AUC; confusion matrix."""
    from sklearn.metrics import average_precision_score, confusion_matrix, precision_recall_fscore_support, roc_auc_score

    predicted = (score >= threshold).astype(int)
    precision, recall, f1, _ = precision_recall_fscore_support(labels, predicted, labels=[0, 1], zero_division=0)
    result = {"precision_bhb": precision[1], "recall_bhb": recall[1], "f1_bhb": f1[1],
              "precision_other": precision[0], "recall_other": recall[0], "f1_other": f1[0],
              "f1_macro": float(np.mean(f1)), "accuracy": float((predicted == labels).mean()),
              "confusion": confusion_matrix(labels, predicted, labels=[0, 1]).tolist()}
    if len(np.unique(labels)) == 2:
        result["roc_auc"] = float(roc_auc_score(labels, score))
        result["pr_auc"] = float(average_precision_score(labels, score))
    return {k: (float(v) if isinstance(v, (np.floating, float)) else v) for k, v in result.items()}


class BHBTrainer:
    """spectra (N, 3522), images (N, 5, 64, 64), labels (N,) 1 = BHB."""

    def __init__(self, config: BHBTrainingConfig, spectra: np.ndarray, images: np.ndarray, labels: np.ndarray,
                 split: dict | None = None, log: Callable[[str], None] = lambda message: None,
                 on_epoch: Callable[[dict], None] | None = None, should_stop: Callable[[], bool] | None = None,
                 checkpoint_dir: str | Path | None = None):
        """``on_epoch(record)`` after every epoch of every stage ({stage, epoch, epochs, loss, val_f1});
        ``should_stop()`` is asked after each epoch; with ``checkpoint_dir`` every finished stage
        (spectrum encoder, image encoder, each fusion) is saved there, and a new trainer on the same
        data and split skips the stages already saved (resume after a lost worker)."""
        self.config, self.log = config, log
        self.on_epoch, self.should_stop = on_epoch, should_stop
        self.checkpoint_dir = Path(checkpoint_dir) if checkpoint_dir else None
        self.device = choose_device(config.device)
        self.split = split or split_indices(len(labels), config.validation, config.test, config.seed)
        self.spectra = torch.as_tensor(np.asarray(spectra, np.float32))
        self.images = torch.as_tensor(np.asarray(images, np.float32))
        self.labels = torch.as_tensor(np.asarray(labels).astype(np.int64))
        # Each spectrum's own noise (DER_SNR), for the training-noise augmentation (0 where unknown).
        self.spectrum_noise = None
        if config.spectrum_noise:
            self.spectrum_noise = torch.as_tensor(np.nan_to_num(der_snr_noise(spectra), nan=0.0, posinf=0.0),
                                                  dtype=torch.float32)
        self.weights = class_weights(np.asarray(labels)[self.split["train"]]).to(self.device)
        # Images: per-band asinh stretch with a scale fixed on the training split.
        self.image_scale = torch.as_tensor(np.median(np.abs(images[self.split["train"]]), axis=(0, 2, 3)) + 1e-3,
                                           dtype=torch.float32)
        # PSF colours of each cutout (N, 5) mag, for the image encoder's auxiliary target and the
        # fusion's colour token; ``colours`` are the same standardised with the training split's
        # mean and σ (``colour_mean``, ``colour_scale``).
        self.psf_colours = self.colours = None
        colours = psf_colours(np.asarray(images))
        self.g_mag = colours[:, 4] + colours[:, 1]  # g = r + (g − r), PSF mag: the report's magnitude bins
        if config.image_colour_weight or config.model.colour_token:
            train = colours[self.split["train"]]
            self.colour_mean, self.colour_scale = train.mean(0), np.maximum(train.std(0), 1e-6)
            self.psf_colours = torch.as_tensor(colours, dtype=torch.float32)
            self.colours = torch.as_tensor((colours - self.colour_mean) / self.colour_scale, dtype=torch.float32)

    def _images(self, index):
        return torch.asinh(self.images[index] / self.image_scale[None, :, None, None])

    def _autocast(self):
        return torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.config.amp and self.device.type == "cuda")

    def _seeded(self, build: Callable[[], nn.Module]) -> nn.Module:
        """A model whose initial weights depend only on the config's seed (torch's own start-up
        seed differs from process to process)."""
        torch.manual_seed(self.config.seed)
        return build()

    def _noisy_spectra(self, batch: tuple, index: np.ndarray, generator: torch.Generator) -> tuple:
        """The spectrum encoder's training augmentation: (spectra (B, P),) → the same stars re-observed
        at a lower S/N (``add_noise`` at ``spectrum_noise`` times their own DER_SNR σ); unchanged when
        ``spectrum_noise`` is 0."""
        if self.spectrum_noise is None:
            return batch
        return (add_noise(batch[0], self.spectrum_noise[index], self.config.spectrum_noise, generator),)

    def _colour_loss(self, head: _Head, output: tuple, index) -> torch.Tensor:
        """Weighted MSE of the image head's auxiliary output against the cutouts' PSF colours."""
        predicted = head.auxiliary(output[1].mean(dim=1)).float()
        return self.config.image_colour_weight * F.mse_loss(predicted, self.colours[index].to(predicted.device))

    def _train(self, model: nn.Module, inputs: Callable, epochs: int, name: str, augment: Callable | None = None,
               auxiliary: Callable | None = None, keep_start: bool = False, patience: int | None = None) -> nn.Module:
        """Generic loop: AdamW + cosine schedule + class-weighted CE; keeps the best validation F1.

        ``augment(batch_tensors, index, generator)`` transforms each training batch (not validation);
        ``auxiliary(model_output, index)`` adds a loss term to the cross-entropy. With ``keep_start``
        the untrained model is scored too (as epoch 0) and kept if no epoch beats it: for a fusion
        that starts from the spectrum encoder's decision, training may only improve on it. ``patience``
        overrides the config's for this stage."""
        cfg = self.config
        patience = cfg.patience if patience is None else patience
        torch.manual_seed(cfg.seed)
        model = model.to(self.device)
        saved = self.checkpoint_dir / (re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_") + ".pt") if self.checkpoint_dir else None
        if saved is not None and saved.exists():
            model.load_state_dict(torch.load(saved, map_location=self.device, weights_only=True))
            self.log(f"{name}: loaded from its checkpoint")
            return model.eval()
        optimiser = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=cfg.lr, weight_decay=cfg.weight_decay)
        train = self.split["train"]
        steps = epochs * math.ceil(len(train) / cfg.batch_size)
        # OneCycleLR divides by zero when its warm-up phase is exactly one step long (pct_start · steps = 1).
        warmup = 0.1 if 0.1 * max(steps, 1) != 1.0 else 0.2
        schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=cfg.lr, total_steps=max(steps, 1), pct_start=warmup,
                                                       anneal_strategy="cos")
        generator = torch.Generator().manual_seed(cfg.seed)
        best, best_f1, since = copy.deepcopy(model.state_dict()), -1.0, 0
        if keep_start:
            best_f1 = self._validation_f1(model, inputs)
            self.log(f"{name} epoch 0 (untrained): validation F1 {best_f1:.4f}")
        for epoch in range(epochs):
            started = time.perf_counter()
            model.train()
            order = train[torch.randperm(len(train), generator=generator).numpy()]
            total_loss = torch.zeros((), device=self.device)
            for start in range(0, len(order), cfg.batch_size):
                index = order[start : start + cfg.batch_size]
                if len(index) < 2:
                    continue
                batch = inputs(index)
                if augment is not None:
                    batch = augment(batch, index, generator)
                with self._autocast():  # every term: an auxiliary head is part of the model too
                    output = model(*[x.to(self.device) for x in batch])
                    logits = output[0] if isinstance(output, tuple) else output
                    extra = auxiliary(output, index) if auxiliary is not None else None
                loss = F.cross_entropy(logits.float(), self.labels[index].to(self.device), weight=self.weights)
                if extra is not None:
                    loss = loss + extra.float()
                optimiser.zero_grad(set_to_none=True)
                loss.backward()
                optimiser.step()
                schedule.step()
                total_loss += loss.detach() * len(index)
            f1 = self._validation_f1(model, inputs)
            self.log(f"{name} epoch {epoch + 1}: validation F1 {f1:.4f} ({time.perf_counter() - started:.0f} s)")
            if self.on_epoch:
                self.on_epoch({"stage": name, "epoch": epoch + 1, "epochs": epochs, "loss": float(total_loss) / len(order),
                               "val_f1": f1, "seconds": time.perf_counter() - started})
            if self.should_stop and self.should_stop():
                raise TrainingStopped(f"stopped during {name}, epoch {epoch + 1}")
            if f1 > best_f1:
                best, best_f1, since = copy.deepcopy(model.state_dict()), f1, 0
            else:
                since += 1
                if patience and since >= patience:
                    break
        model.load_state_dict(best)
        if saved is not None:  # a stage is saved whole or not at all
            write_atomically(saved, lambda temporary: torch.save(model.state_dict(), temporary))
        return model.eval()

    def _validation_f1(self, model: nn.Module, inputs: Callable) -> float:
        """Macro F1 of ``model`` on the validation split (what early stopping compares)."""
        validation = self.split["validation"]
        return metrics(self.labels[validation].numpy(), self._scores(model, inputs, validation))["f1_macro"]

    @torch.no_grad()
    def _logit_gap(self, model, inputs, index, batch: int = 256) -> np.ndarray:
        """(n,) l_BHB − l_other: the softmax P(BHB) is σ of it."""
        model.eval()
        out = []
        for start in range(0, len(index), batch):
            with self._autocast():
                logits = model(*[x.to(self.device) for x in inputs(index[start : start + batch])])
            logits = (logits[0] if isinstance(logits, tuple) else logits).float()
            out.append((logits[:, 1] - logits[:, 0]).cpu().numpy().astype(np.float64))
        return np.concatenate(out)

    def _scores(self, model, inputs, index, batch: int = 256) -> np.ndarray:
        return sigmoid(self._logit_gap(model, inputs, index, batch))

    @torch.no_grad()
    def _tokens(self, head: _Head, inputs, batch: int = 256):
        head.eval()
        tokens, weights = [], []
        every = np.arange(len(self.labels))
        for start in range(0, len(every), batch):
            with self._autocast():
                _, t, w = head(*[x.to(self.device) for x in inputs(every[start : start + batch])])
            tokens.append(t.float().cpu())
            weights.append(w.float().cpu())
        return torch.cat(tokens), torch.cat(weights)

    def spectrum_encoder(self) -> tuple[_Head, np.ndarray]:
        """Pretrain VGG1D with its classifier (the spectrum alone, the first stage of ``run``):
        the trained head, and its P(BHB) for the test split's stars, (n_test,)."""
        spectrum = self._seeded(lambda: spectrum_head(self.config.model))
        spectrum.encoder.fit_denoiser(self.spectra[self.split["train"]])  # training split only, as observed
        spectrum = self._train(spectrum, lambda index: (self.spectra[index],), self.config.epochs_encoder, "VGG1D",
                               augment=self._noisy_spectra, patience=self.config.spectrum_patience)
        return spectrum, self._scores(spectrum, lambda index: (self.spectra[index],), self.split["test"])

    def run(self, ablations: bool = False) -> dict:
        """Pretrain, fuse, evaluate BATMM (and with ``ablations`` its two ablations) and each encoder
        alone on the test split. The frozen encoders' tokens stay in ``self.tokens``."""
        cfg, model_cfg = self.config, self.config.model
        test = self.split["test"]
        truth = self.labels[test].numpy()
        spectrum_inputs = lambda index: (self.spectra[index],)  # noqa: E731
        image_inputs = lambda index: (self._images(index),)  # noqa: E731
        spectrum, spectrum_score = self.spectrum_encoder()
        image = self._seeded(lambda: image_head(model_cfg, n_colours=N_COLOURS if cfg.image_colour_weight else 0))
        turn = lambda batch, index, generator: (dihedral(batch[0], generator),)  # noqa: E731
        colour_loss = lambda output, index: self._colour_loss(image, output, index)  # noqa: E731
        epochs = cfg.epochs_encoder if cfg.epochs_image is None else cfg.epochs_image
        image = self._train(image, image_inputs, epochs, "ResNet+SE", augment=turn if cfg.image_augment else None,
                            auxiliary=colour_loss if cfg.image_colour_weight else None)
        self.xue_by_magnitude = by_magnitude(truth, xue_selection(self.spectra[test].numpy())[0], self.g_mag[test])
        results = {"VGG1D (spectrum)": {**metrics(truth, spectrum_score),
                                        "by_magnitude": by_magnitude(truth, spectrum_score, self.g_mag[test])},
                   "ResNet-50+SE (image)": metrics(truth, self._scores(image, image_inputs, test))}
        spectrum_tokens, segment_weights = self._tokens(spectrum, spectrum_inputs)
        image_tokens, band_weights = self._tokens(image, image_inputs)
        self.tokens = {"spectrum": spectrum_tokens, "image": image_tokens}  # for research's early-fusion baselines
        if model_cfg.colour_token:  # the variants differ from model_cfg in the ablated switch only
            token_inputs = lambda index: (image_tokens[index], spectrum_tokens[index], self.psf_colours[index])  # noqa: E731
        else:
            token_inputs = lambda index: (image_tokens[index], spectrum_tokens[index])  # noqa: E731
        variants = {"BATMM": model_cfg}
        if ablations:
            variants["BATMM w/o cross-attention"] = replace(model_cfg, cross_attention=False)
            variants["BATMM w/o modality embeddings"] = replace(model_cfg, modality_embeddings=False)
        self.fusion, self.fusion_configs, self.test_scores, self.temperature = {}, variants, {}, {}
        for name, variant in variants.items():
            fusion = self._seeded(lambda: FusionTransformer(variant))
            if variant.spectrum_skip:  # starts from VGG1D's own decision
                fusion.anchor_spectrum(spectrum.head)
            if variant.colour_token:
                fusion.colour.calibrate(self.colour_mean, self.colour_scale)
            fusion = self._train(fusion, token_inputs, cfg.epochs_fusion, name, keep_start=variant.spectrum_skip)
            self.fusion[name] = fusion
            # Temperature scaling on the validation split: the score becomes a probability.
            validation = self.split["validation"]
            temperature = fit_temperature(self._logit_gap(fusion, token_inputs, validation), self.labels[validation].numpy())
            gap = self._logit_gap(fusion, token_inputs, test)
            score = sigmoid(gap / temperature)
            self.test_scores[name], self.temperature[name] = score, temperature
            results[name] = {**metrics(truth, score), "temperature": temperature,
                             "ece": expected_calibration_error(truth, score),
                             "ece_uncalibrated": expected_calibration_error(truth, sigmoid(gap)),
                             "reliability": reliability(truth, score),
                             "by_magnitude": by_magnitude(truth, score, self.g_mag[test]),
                             "purity_95": threshold_for_purity(truth, score, 0.95)}
        self.spectrum_head, self.image_head = spectrum, image
        self.explanation = {"segment_weights": segment_weights[test].mean(0).tolist(),
                            "band_weights": band_weights[test].mean(0).tolist()}
        return results

    def model(self, name: str = "BATMM") -> BATMM:
        """The end-to-end model (trained encoders + the named fusion) for scoring new stars."""
        model = BATMM(self.fusion_configs[name])
        model.spectrum_encoder.load_state_dict(self.spectrum_head.encoder.state_dict())
        model.image_encoder.load_state_dict(self.image_head.encoder.state_dict())
        model.fusion.load_state_dict(self.fusion[name].state_dict())
        return model.eval()


def save_model(model: BATMM, path, extra: dict | None = None) -> None:
    """Weights + config (+ anything the caller adds, e.g. image scales) in one weights-only file."""
    artifacts.save(path, {"config": asdict(model.config), "model": model.state_dict(), **(extra or {})})


def load_model(path, device: str = "cpu") -> tuple[BATMM, dict]:
    state = artifacts.load(path, map_location=device)
    # Models saved before segment embeddings, the spectrum skip or the segment denoiser existed have none.
    model = BATMM(BATMMConfig(**{"segment_embeddings": False, "spectrum_skip": False, "spectrum_components": 0,
                                 **state["config"]}))
    model.load_state_dict(state["model"])
    return model.eval(), state
