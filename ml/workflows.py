"""Production training and inference on arrays: what the workers run (no Django here).

* :func:`train_disentangler` — fit (resumable from a checkpoint), keep the chosen epoch, save the
  artifact, and evaluate on the test split: reconstruction, leak probes (R² of z → Teff, logg, …,
  which should be low), chemistry probes (R² of z → abundances, which should be high) and twin
  metrics when the set has chemical groups.
* :func:`train_bhb` — the seed's transfer training of BATMM (resumable per stage), saved with its
  image scales, evaluated with P/R/F1/AUC on the test split.
* :class:`BHBScorer` — a saved BATMM scoring stars for the scoring tasks.
"""
from __future__ import annotations

import time
from dataclasses import asdict
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from ml.batmm import BATMMConfig
from ml.bhb_train import BHBTrainer, BHBTrainingConfig, load_model, save_model
from ml.device import choose_device
from ml.disentangler import DisentanglerConfig, DisentanglerTrainer, TrainedDisentangler
from ml.disentangler.trainer import checkpoint_epoch
from ml.evaluate import far_twin_metrics, far_twins, r2_probe, supervised_ceiling, twin_metrics
from ml.photometry import psf_colours


def set_threads(threads: int) -> None:
    """Intra-op threads for this process (0 = leave torch's default)."""
    if threads > 0:
        torch.set_num_threads(threads)


def train_disentangler(*, flux: np.ndarray, parameters: np.ndarray, groups: np.ndarray, labels: dict[str, np.ndarray],
                       conditional: list[str], training: dict, evaluation: dict, checkpoint: Path, artifact: Path,
                       on_epoch: Callable[[dict], None] | None = None, should_stop: Callable[[], bool] | None = None,
                       log: Callable[[str], None] = lambda message: None) -> dict | None:
    """Train, save the artifact, evaluate. flux (N, P), parameters (N, C) in ``conditional`` order,
    groups (N,) (-1 = none), labels {name: (N,)} for the probes. Returns the metrics, or None when
    ``should_stop`` ended the run early (nothing is saved then)."""
    config = DisentanglerConfig.from_dict({**training, "conditional": tuple(conditional)})
    trainer = DisentanglerTrainer(config, flux, parameters)
    resumed_from = checkpoint_epoch(checkpoint)
    if resumed_from:
        log(f"resuming from the checkpoint at epoch {resumed_from}")
    started = time.perf_counter()
    trainer.fit(checkpoint=checkpoint, on_epoch=on_epoch, should_stop=should_stop)
    if should_stop and should_stop():
        return None
    model = trainer.trained()  # the kept epoch
    model.save(artifact)
    train_seconds = time.perf_counter() - started
    result = evaluate_disentangler(trainer, model, flux, parameters, groups, labels, conditional, evaluation)
    result["parameter_range"] = {name: [float(low), float(high)]
                                 for name, (low, high) in model.preprocessing.parameter_range.items()}
    result.update({"epochs": trainer.epoch, "best_epoch": model.kept_epoch, "preset": config.preset, "train_seconds": train_seconds,
                   "resumed_from_epoch": resumed_from, "n_spectra": int(len(flux)),
                   "n_train": int(len(trainer.split["train"])), "device": str(trainer.device)})
    return result


def evaluate_disentangler(trainer: DisentanglerTrainer, model: TrainedDisentangler, flux, parameters, groups,
                          labels: dict, conditional: list[str], evaluation: dict) -> dict:
    """Test-split metrics of the kept model (flat keys for the activation gate + tables)."""
    split, rng = trainer.split, np.random.default_rng(0)
    train = np.sort(rng.choice(split["train"], size=min(len(split["train"]), evaluation["probe_train_size"]), replace=False))
    test = np.sort(rng.choice(split["test"], size=min(len(split["test"]), evaluation["probe_test_size"]), replace=False))
    test_loss = trainer.evaluate(split["test"], model=model.model)
    rows = np.concatenate([train, test])
    latent = model.encode(np.asarray(flux[rows]), parameters[rows])
    z_train, z_test = latent[: len(train)], latent[len(train):]
    result: dict = {"val_reconstruction": float(test_loss["reconstruction"]),
                    "disc_accuracy": [float(a) for a in test_loss["disc_accuracy"]], "r2_latent": {}}
    probes = list(conditional) + [name for name in ("fe_h", "alpha_fe", *evaluation.get("abundances", []))
                                  if name not in conditional]
    for name in probes:
        values = labels.get(name)
        if values is None or not (np.isfinite(values[train]).all() and np.isfinite(values[test]).all()):
            continue
        if np.std(values[train]) == 0:
            continue
        result["r2_latent"][name] = r2_probe(z_train, values[train], z_test, values[test], repetitions=2)
    leaks = [result["r2_latent"][name] for name in conditional if name in result["r2_latent"]]
    result["leak_r2_max"] = float(max(leaks)) if leaks else None
    # Twins are scored among the test stars with a known chemical group (a catalog's injected
    # peculiar stars, or its survey stars among grid ones, have none)
    grouped = split["test"][groups[split["test"]] >= 0]
    test_groups = groups[grouped]
    if len(np.unique(test_groups)) < len(test_groups):
        test_flux = np.asarray(flux[grouped])
        z = model.encode(test_flux, parameters[grouped])
        twins = twin_metrics(z, test_groups)
        result["twins"] = twins
        result.update({"twin_recall_at_1": twins["recall_at_1"], "twin_recall_at_10": twins["recall_at_10"],
                       "twin_pairwise_auc": twins["pairwise_auc"], "twin_stars": int(len(grouped)),
                       "twin_stars_without_group": int(len(split["test"]) - len(grouped))})
        result.update(_far_twins(z, test_flux, grouped, test_groups, labels, evaluation))
    return result


def _far_twins(z: np.ndarray, flux: np.ndarray, rows: np.ndarray, groups: np.ndarray, labels: dict,
               evaluation: dict) -> dict:
    """Far-twin metrics of z on the test stars and, where chemistry labels exist, of the supervised
    ceiling cross-fitted on the same stars (profile halves), with z's far recall@10 as its fraction."""
    if "teff" not in labels or "logg" not in labels:
        return {}
    teff, logg = labels["teff"][rows], labels["logg"][rows]
    far = far_twins(teff, logg, groups)
    if not (far >= 0).any():
        return {}
    result = dict(far_twin_metrics(z, groups, far))
    chemistry = [labels[name][rows] for name in ("fe_h", "alpha_fe", *evaluation.get("abundances", []))
                 if name in labels and np.isfinite(labels[name][rows]).all() and np.std(labels[name][rows]) > 0]
    if chemistry and len(np.unique(groups)) >= 2:
        ceiling = supervised_ceiling(flux, np.stack([teff, logg], axis=1), groups, np.stack(chemistry, axis=1))
        reference = far_twin_metrics(ceiling, groups, far)
        result.update({"ceiling_far_recall_at_10": reference["far_recall_at_10"], "ceiling_far_auc": reference["far_auc"],
                       "far_recall_at_10_of_ceiling": result["far_recall_at_10"] / max(reference["far_recall_at_10"], 1e-9)})
    return result


# ----------------------------------------------------------------------------- BHB


def bhb_configs(model: dict, training: dict) -> BHBTrainingConfig:
    return BHBTrainingConfig(model=BATMMConfig(**model), **training)


def train_bhb(*, spectra: np.ndarray, images: np.ndarray, labels: np.ndarray, model: dict, training: dict,
              checkpoint_dir: Path, artifact: Path, on_epoch: Callable[[dict], None] | None = None,
              should_stop: Callable[[], bool] | None = None, log: Callable[[str], None] = lambda message: None) -> dict:
    """Transfer-train BATMM (no ablations), save it with its image scales, return test metrics.
    Raises ``ml.bhb_train.TrainingStopped`` when ``should_stop`` ends the run."""
    config = bhb_configs(model, training)
    trainer = BHBTrainer(config, spectra, images, labels, log=log, on_epoch=on_epoch, should_stop=should_stop,
                         checkpoint_dir=checkpoint_dir)
    started = time.perf_counter()
    results = trainer.run(ablations=False)
    production = trainer.model("BATMM")
    save_model(production, artifact, extra={"image_scale": trainer.image_scale.tolist(),
                                           "temperature": trainer.temperature["BATMM"], "training": asdict(config)})
    headline = results["BATMM"]
    return {**{k: v for k, v in headline.items() if not isinstance(v, list)}, "confusion": headline["confusion"],
            "reliability": headline["reliability"], "by_magnitude": headline["by_magnitude"],
            "by_magnitude_spectrum_only": results["VGG1D (spectrum)"]["by_magnitude"],
            "by_magnitude_xue": trainer.xue_by_magnitude,
            "baselines": {name: {"f1_macro": r["f1_macro"], "roc_auc": r.get("roc_auc")} for name, r in results.items()},
            "explanation": trainer.explanation, "train_seconds": time.perf_counter() - started,
            "n_stars": int(len(labels)), "n_bhb": int(np.sum(labels)), "device": str(trainer.device)}


class BHBScorer:
    """A saved BATMM ready to score: spectra (n, 3522), images (n, 5, 64, 64) nanomaggies → P(BHB) (n,),
    a calibrated probability (the temperature fitted on the validation split). It stretches the
    images as in training and, for a model with a colour token, measures their PSF colours."""

    def __init__(self, artifact: str | Path, device: str = "auto"):
        self.device = choose_device(device)
        self.model, state = load_model(artifact, device="cpu")
        self.model.to(self.device)
        self.image_scale = torch.as_tensor(state["image_scale"], dtype=torch.float32, device=self.device)
        self.temperature = float(state.get("temperature", 1.0))  # calibration (1.0: saved before it existed)

    @torch.no_grad()
    def score(self, spectra: np.ndarray, images: np.ndarray, batch: int = 256) -> np.ndarray:
        out = []
        for start in range(0, len(spectra), batch):
            spectrum = torch.as_tensor(np.asarray(spectra[start : start + batch], np.float32), device=self.device)
            image = torch.as_tensor(np.asarray(images[start : start + batch], np.float32), device=self.device)
            colours = None
            if self.model.config.colour_token:  # measured on the cutouts as given, before the stretch
                colours = torch.as_tensor(psf_colours(images[start : start + batch]), dtype=torch.float32, device=self.device)
            image = torch.asinh(image / self.image_scale[None, :, None, None])
            logits = self.model(spectrum, image, colours)["logits"].float()
            out.append(torch.sigmoid((logits[:, 1] - logits[:, 0]) / self.temperature).cpu().numpy())
        return np.concatenate(out) if out else np.zeros(0, np.float32)

