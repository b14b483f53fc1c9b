"""Judge a disentangler preset on your own grid of spectra.

    python -m ml.disentangler.grid_eval GRID.npz --preset twins --minutes 20 --out DIR [--seed 0]

GRID.npz holds ``flux`` (N, P) continuum-normalised spectra, ``teff`` (N,) K and ``logg`` (N,) dex;
optionally ``group`` (N,) integer chemical-profile ids (−1: a star with no twin) and chemistry columns (``fe_h``,
``alpha_fe``, any ``X_Fe``; (N,) dex). The preset trains on a random split by star (80/10/10), until
its epoch cap or the time budget (wall time on this machine, all its cores), whichever comes first,
and keeps the epoch its rule chooses. Chemistry never reaches the training.

Writes ``DIR/z.npy`` (N, latent) float32 in input order, ``DIR/model.pt`` and ``DIR/report.json`` +
``report.md``: R² probes (X and z) of Teff, logg and each chemistry column; with ``group``, near- and
far-twin metrics of X, PolyDis and z on the test stars, and, with chemistry columns too, of the
supervised ceiling, with every far metric as a fraction of the ceiling's. Bad input: one line on
stderr and exit code 2.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from ml.disentangler.config import PRESETS, ConfigError, DisentanglerConfig
from ml.disentangler.trainer import DisentanglerTrainer
from ml.evaluate import PolyDis, far_twin_metrics, far_twins, r2_probe, supervised_ceiling, twin_metrics

MIN_STARS = 100
PROBE_TRAIN, PROBE_TEST = 4000, 2000


class GridError(ValueError):
    """The grid file cannot be used; the message says why."""


def load_grid(path: str | Path) -> dict[str, np.ndarray]:
    """The grid's arrays, checked: flux (N, P) float32, teff, logg (N,), group (N,) int64 if given,
    and every other (N,) numeric column as chemistry."""
    try:
        data = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise GridError(f"{path}: no such file") from None
    except (OSError, ValueError) as error:
        raise GridError(f"{path}: not a readable .npz file ({error})") from None
    missing = [key for key in ("flux", "teff", "logg") if key not in data.files]
    if missing:
        raise GridError(f"{path}: missing {', '.join(missing)} (needs flux (N, P), teff (N,), logg (N,))")
    flux = np.asarray(data["flux"])
    if flux.ndim != 2:
        raise GridError(f"flux must be 2-d (N, P), not of shape {flux.shape}")
    n = len(flux)
    if n < MIN_STARS:
        raise GridError(f"the grid has {n} spectra; at least {MIN_STARS} are needed")
    grid = {"flux": flux.astype(np.float32, copy=False)}
    for key in data.files:
        if key == "flux":
            continue
        values = np.asarray(data[key])
        if values.shape != (n,):
            if key in ("teff", "logg", "group"):
                raise GridError(f"{key} must have shape ({n},), not {values.shape}")
            continue  # an unrelated array (e.g. a wavelength grid): not a per-star column
        if not np.issubdtype(values.dtype, np.number):
            raise GridError(f"{key} must be numeric")
        grid[key] = values.astype(np.int64) if key == "group" else values.astype(np.float64)
    for key, values in grid.items():
        if not np.isfinite(values).all():
            raise GridError(f"{key} has NaN or infinite values")
    return grid


def _probe_rows(split: dict, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    train = np.sort(rng.choice(split["train"], min(PROBE_TRAIN, len(split["train"])), replace=False))
    test = np.sort(rng.choice(split["test"], min(PROBE_TEST, len(split["test"])), replace=False))
    return train, test


def evaluate(grid: dict, latent: np.ndarray, split: dict, seed: int = 0, log=print) -> dict:
    """R² probes and twin metrics of X, PolyDis, z (and the ceiling) on the test stars."""
    flux, parameters = grid["flux"], np.stack([grid["teff"], grid["logg"]], axis=1)
    chemistry = [key for key in grid if key not in ("flux", "teff", "logg", "group")]
    train, test = _probe_rows(split, seed)
    report: dict = {"r2": {"X": {}, "z": {}}}
    for name in ["teff", "logg", *chemistry]:
        for label, features in (("X", flux), ("z", latent)):
            report["r2"][label][name] = r2_probe(features[train], grid[name][train], features[test], grid[name][test],
                                                 repetitions=1, seed=seed)
        log(f"R² {name}: X {report['r2']['X'][name]:.3f}, z {report['r2']['z'][name]:.3f}")
    if "group" not in grid:
        return report
    test = split["test"][grid["group"][split["test"]] >= 0]  # group −1: a star with no twin (an injected peculiar one)
    polydis = PolyDis().fit(flux[split["train"]], parameters[split["train"]])
    representations = {"X": flux[test], "PolyDis": polydis.transform(flux[test], parameters[test]), "z": latent[test]}
    if chemistry:
        labels = np.stack([grid[name] for name in chemistry], axis=1)
        representations["supervised ceiling"] = supervised_ceiling(flux, parameters, grid["group"], labels, seed=seed)[test]
    far = far_twins(grid["teff"][test], grid["logg"][test], grid["group"][test], seed=seed)
    report["twins"] = {}
    for name, features in representations.items():
        row = twin_metrics(features, grid["group"][test])
        if (far >= 0).any():
            row.update(far_twin_metrics(features, grid["group"][test], far))
        report["twins"][name] = row
        log(f"twins {name}: recall@1 {row['recall_at_1']:.3f}" + (f", far recall@10 {row['far_recall_at_10']:.3f}, "
                                                                   f"far AUC {row['far_auc']:.3f}" if "far_auc" in row else ""))
    ceiling = report["twins"].get("supervised ceiling")
    if ceiling and "far_auc" in ceiling:
        for row in report["twins"].values():
            row["far_recall_at_10_of_ceiling"] = row["far_recall_at_10"] / max(ceiling["far_recall_at_10"], 1e-9)
            row["far_auc_of_ceiling"] = row["far_auc"] / max(ceiling["far_auc"], 1e-9)
    return report


def markdown(report: dict) -> str:
    run = report["run"]
    lines = [f"# grid_eval — preset `{run['preset']}`, {run['n_spectra']} spectra × {run['n_pixels']} px", "",
             f"{run['epochs']} epochs in {run['train_seconds'] / 60:.1f} min ({run['stopped_by']}); kept epoch "
             f"{run['kept_epoch']}; seed {run['seed']}; {run['threads']} torch threads.", ""]
    twins = report.get("twins")
    if twins:
        far = any("far_auc" in row for row in twins.values())
        header = ["representation", "recall@1", "recall@10"] + (["far recall@1", "far recall@10", "far median rank",
                                                                 "far AUC"] if far else [])
        lines += ["## Twins (test stars)", "", "| " + " | ".join(header) + " |", "|---" * len(header) + "|"]
        for name, row in twins.items():
            cells = [name, f"{row['recall_at_1']:.3f}", f"{row['recall_at_10']:.3f}"]
            if far:
                cells += [f"{row['far_recall_at_1']:.3f}", f"{row['far_recall_at_10']:.3f}",
                          f"{row['far_median_rank']:.0f}", f"{row['far_auc']:.3f}"]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    names = list(report["r2"]["X"])
    lines += ["## R² of MLP probes (test stars)", "", "| representation | " + " | ".join(names) + " |",
              "|---" * (len(names) + 1) + "|"]
    for label, row in report["r2"].items():
        lines.append(f"| {label} | " + " | ".join(f"{row[name]:.3f}" for name in names) + " |")
    return "\n".join(lines) + "\n"


def run(grid: dict, *, preset: str, minutes: float, out: Path, seed: int = 0, epochs: int | None = None,
        log=print) -> dict:
    import torch

    overrides = {"seed": seed, **({"epochs": epochs} if epochs else {})}
    config = DisentanglerConfig.from_preset(preset, **overrides)
    parameters = np.stack([grid["teff"], grid["logg"]], axis=1).astype(np.float32)
    trainer = DisentanglerTrainer(config, grid["flux"], parameters)
    deadline = time.monotonic() + 60.0 * minutes
    started = time.perf_counter()

    def progress(record: dict) -> None:
        log(f"epoch {record['epoch']}: val MSE {record.get('val_reconstruction', float('nan')):.4f}, "
            f"probe R² {record.get('val_probe_r2', float('nan')):.3f}, {record['seconds']:.0f} s")

    trainer.fit(on_epoch=progress, should_stop=lambda: time.monotonic() > deadline)
    train_seconds = time.perf_counter() - started
    model = trainer.trained()
    out.mkdir(parents=True, exist_ok=True)
    model.save(out / "model.pt")
    latent = model.encode(grid["flux"], parameters)
    np.save(out / "z.npy", latent.astype(np.float32))
    stopped_by = ("early stopping" if trainer.history.stopped_early else
                  "epoch cap" if trainer.epoch >= config.epochs else "time budget")
    report = {"run": {"preset": preset, "seed": seed, "minutes": minutes, "epochs": trainer.epoch,
                      "kept_epoch": model.kept_epoch, "stopped_by": stopped_by, "train_seconds": train_seconds,
                      "n_spectra": int(len(parameters)), "n_pixels": int(grid["flux"].shape[1]),
                      "threads": torch.get_num_threads()}}
    report.update(evaluate(grid, latent, trainer.split, seed, log))
    report["history"] = trainer.history.epochs
    (out / "report.json").write_text(json.dumps(report, indent=2, default=float))
    (out / "report.md").write_text(markdown(report))
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ml.disentangler.grid_eval", description=__doc__.split("\n\n")[0])
    parser.add_argument("grid", help="GRID.npz with flux, teff, logg [, group, chemistry columns]")
    parser.add_argument("--preset", default="twins", choices=sorted(PRESETS))
    parser.add_argument("--minutes", type=float, default=20.0, help="training time budget (wall clock)")
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=None, help="epoch cap (default: the preset's)")
    args = parser.parse_args(argv)
    if args.minutes <= 0:
        print("error: --minutes must be positive", file=sys.stderr)
        return 2
    try:
        grid = load_grid(args.grid)
    except GridError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    try:
        run(grid, preset=args.preset, minutes=args.minutes, out=args.out, seed=args.seed, epochs=args.epochs,
            log=lambda message: print(message, file=sys.stderr, flush=True))
    except ConfigError as error:  # e.g. --epochs 0
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(args.out / "report.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
