"""BHB purity and completeness by g magnitude over seeds: BATMM, VGG1D alone and the Xue et al. cuts.

    python -m research.experiments.bhb_magnitude --config research/configs/bhb.yaml --out DIR
                                                 [--only-seeds S [S ...]] [--device cpu|cuda|auto] [--report-only]
                                                 [--scores-from BHB_RUN_DIR [--no-spectrum]]

Each seed trains the product's BHB pipeline (``ml.bhb_train.BHBTrainer``: VGG1D, ResNet-50+SE and
the BATMM fusion with its temperature scaling; no ablations, no classical baselines) on the
generated set with that seed's 70/20/10 split, and writes ``DIR/seeds/seed_<n>.json``. Once every
seed of the config is there it writes ``report.md`` and ``report.json``: per g bin (PSF magnitude
of the cutouts) the mean ± σ over seeds of purity, completeness and F1 at the 0.5 threshold for
BATMM, VGG1D and the Xue cuts, BATMM − VGG1D per bin, the expected calibration error, and the
threshold that gives 95 % purity with the completeness it keeps. Seeds can run in parallel
processes into the same DIR (``--only-seeds``); a rerun reuses the seeds already written, and
``--report-only`` reports over the seeds finished so far (its title says how many).

``--scores-from RUN`` takes BATMM's test scores from a finished ``research.experiments.bhb`` run of
the same config and trains VGG1D alone; with ``--no-spectrum`` it trains nothing, and the report
names the seeds each method's rows average.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from ml.batmm import BATMMConfig
from ml.bhb_report import by_magnitude, threshold_for_purity, xue_selection
from ml.bhb_train import BHBTrainer, BHBTrainingConfig, metrics
from ml.calibration import expected_calibration_error, fit_temperature, sigmoid
from ml.data import split_indices
from ml.files import write_atomically
from research.experiments._cli import ConfigError, run_experiment
from research.experiments.bhb import generated_sample, seed_plan

METHODS = ("BATMM", "VGG1D (spectrum)", "Xue et al. cuts")


def run(config: dict, out: Path, log=print, only_seeds: list[int] | None = None, device: str = "auto",
        report_only: bool = False, scores_from: Path | None = None, train_spectrum: bool = True) -> dict | None:
    """Run (or reuse) the config's seeds (or ``only_seeds``); the report once all are written, else
    None. ``report_only`` trains nothing and reports over the seeds written so far; ``scores_from``
    takes BATMM's test scores from a finished ``research.experiments.bhb`` run of the same config
    and trains VGG1D alone (nothing, with ``train_spectrum`` False: those seeds have no VGG1D rows)."""
    data, seeds, fingerprint = seed_plan(config, only_seeds)
    paths = {seed: out / "seeds" / f"seed_{seed}.json" for seed in seeds}
    for path in paths.values():
        if path.exists() and json.loads(path.read_text())["config"] != fingerprint:
            raise ConfigError(f"{path} was written with another config or code version; remove it or choose another --out")
    todo = [] if report_only else [seed for seed in (only_seeds or seeds) if not paths[seed].exists()]
    if todo:
        sample = generated_sample(data, log)
        for seed in todo:
            if scores_from is None:
                record = _run_seed(sample, config, seed, device, log)
            else:
                record = _seed_from_scores(sample, config, seed, scores_from, fingerprint, device, log, train_spectrum)
            paths[seed].parent.mkdir(parents=True, exist_ok=True)
            write_atomically(paths[seed], lambda temporary: temporary.write_text(
                json.dumps({"config": fingerprint, **record}, default=float)))
    finished = [seed for seed in seeds if paths[seed].exists()]
    if not finished or (len(finished) < len(seeds) and not report_only):
        if report_only:
            raise ConfigError(f"no seed of the config is finished in {out}")
        return None
    records = [json.loads(paths[seed].read_text()) for seed in finished]
    report = summarise(records)
    report.update(data=data, model=config.get("model", {}), training=config.get("training", {}), seeds_in_config=len(seeds))
    out.mkdir(parents=True, exist_ok=True)
    write_atomically(out / "report.json", lambda temporary: temporary.write_text(json.dumps(report, indent=2, default=float)))
    write_atomically(out / "report.md", lambda temporary: temporary.write_text(markdown(report)))
    return report


def _run_seed(sample, config: dict, seed: int, device: str, log) -> dict:
    labels = sample.is_bhb.astype(int)
    split = split_indices(len(labels), 0.2, 0.1, seed)
    training = BHBTrainingConfig(model=BATMMConfig(**config.get("model", {})), seed=seed, device=device,
                                 **config.get("training", {}))
    started = time.perf_counter()
    trainer = BHBTrainer(training, sample.flux, sample.images, labels, split=split, log=log)
    results = trainer.run()
    seconds = time.perf_counter() - started
    batmm, spectrum = results["BATMM"], results["VGG1D (spectrum)"]
    log(f"seed {seed}: BATMM F1 {batmm['f1_macro']:.3f} ECE {batmm['ece']:.3f}, VGG1D F1 {spectrum['f1_macro']:.3f} "
        f"({seconds:.0f} s on {trainer.device})")
    return {"seed": seed, "seconds": seconds, "device": str(trainer.device),
            "by_magnitude": {"BATMM": batmm["by_magnitude"], "VGG1D (spectrum)": spectrum["by_magnitude"],
                             "Xue et al. cuts": trainer.xue_by_magnitude},
            "f1_macro": {"BATMM": batmm["f1_macro"], "VGG1D (spectrum)": spectrum["f1_macro"]},
            "ece": batmm["ece"], "ece_uncalibrated": batmm["ece_uncalibrated"], "temperature": batmm["temperature"],
            "purity_95": batmm["purity_95"]}


def _seed_from_scores(sample, config: dict, seed: int, scores_from: Path, fingerprint: dict, device: str, log,
                      train_spectrum: bool = True) -> dict:
    """One seed's record from a finished BATMM run: its stored test scores for BATMM (checked to be
    this config's, sample and split), VGG1D trained afresh (deterministic for the seed), the Xue cuts.

    The stored scores are the raw softmax: temperature scaling leaves the 0.5 threshold (d = 0) and
    every ranking where they were, so purity and completeness match the calibrated model's. The run
    kept no validation scores, so the ECE here fits T on one half of the test stars and measures on
    the other (both ways, averaged)."""
    directory = scores_from / "seeds" / f"seed_{seed}"
    try:
        stored_config = json.loads((directory / "config.json").read_text())
        stored = json.loads((directory / "result.json").read_text())
    except (OSError, ValueError) as error:
        raise ConfigError(f"{directory}: no finished seed there ({error})") from None
    if {key: stored_config.get(key) for key in ("data", "model", "training")} != \
            {key: fingerprint[key] for key in ("data", "model", "training")}:
        raise ConfigError(f"{directory} ran another config than this one")
    labels = sample.is_bhb.astype(int)
    split = split_indices(len(labels), 0.2, 0.1, seed)
    test = split["test"]
    if stored.get("test_labels") != labels[test].tolist() or "BATMM" not in stored.get("test_scores", {}):
        raise ConfigError(f"{directory}: its test stars are not this sample's split for seed {seed}")
    training = BHBTrainingConfig(model=BATMMConfig(**config.get("model", {})), seed=seed, device=device,
                                 **config.get("training", {}))
    started = time.perf_counter()
    trainer = BHBTrainer(training, sample.flux, sample.images, labels, split=split, log=log)
    truth, g_mag = labels[test], trainer.g_mag[test]
    raw = np.clip(np.asarray(stored["test_scores"]["BATMM"], np.float64), 1e-7, 1 - 1e-7)
    gap = np.log(raw) - np.log1p(-raw)
    ece, ece_raw = _cross_fitted_ece(gap, truth, seed)
    batmm = metrics(truth, raw)
    rows = {"BATMM": by_magnitude(truth, raw, g_mag), "Xue et al. cuts": by_magnitude(truth, xue_selection(sample.flux[test])[0], g_mag)}
    f1_macro = {"BATMM": batmm["f1_macro"]}
    stored_spectrum = stored.get("results", {}).get("VGG1D (spectrum)", {}).get("f1_macro")
    if train_spectrum:
        _, spectrum_score = trainer.spectrum_encoder()
        rows["VGG1D (spectrum)"] = by_magnitude(truth, spectrum_score, g_mag)
        f1_macro["VGG1D (spectrum)"] = metrics(truth, spectrum_score)["f1_macro"]
    seconds = time.perf_counter() - started
    log(f"seed {seed}: BATMM F1 {batmm['f1_macro']:.3f} (stored), VGG1D F1 {f1_macro.get('VGG1D (spectrum)', 'not trained')} "
        f"(that run's VGG1D: {stored_spectrum if stored_spectrum is None else round(stored_spectrum, 3)}; {seconds:.0f} s)")
    return {"seed": seed, "seconds": seconds, "device": str(trainer.device), "scores_from": str(directory),
            "stored_code": stored_config.get("code"), "stored_vgg1d_f1_macro": stored_spectrum,
            "by_magnitude": rows, "f1_macro": f1_macro,
            "ece": ece, "ece_uncalibrated": ece_raw, "temperature": None,
            "purity_95": threshold_for_purity(truth, raw, 0.95)}


def _cross_fitted_ece(gap: np.ndarray, labels: np.ndarray, seed: int) -> tuple[float, float]:
    """(ECE after temperature scaling fitted on the other half of the stars, ECE of σ(gap))."""
    halves = np.array_split(np.random.default_rng(seed).permutation(len(gap)), 2)
    errors = []
    for fit, measure in ((halves[0], halves[1]), (halves[1], halves[0])):
        temperature = fit_temperature(gap[fit], labels[fit])
        errors.append(expected_calibration_error(labels[measure], sigmoid(gap[measure] / temperature)))
    return float(np.mean(errors)), expected_calibration_error(labels, sigmoid(gap))


def _mean_sd(values: list) -> dict:
    kept = [value for value in values if value is not None]
    if not kept:
        return {"mean": None, "sd": None, "n": 0}
    return {"mean": float(np.mean(kept)), "sd": float(np.std(kept, ddof=1)) if len(kept) > 1 else 0.0, "n": len(kept)}


def summarise(records: list[dict]) -> dict:
    """Mean ± σ over seeds of every bin's purity, completeness and F1 per method, and of BATMM − VGG1D."""
    bins = [row["bin"] for row in records[0]["by_magnitude"]["BATMM"]]
    table = []
    for index, name in enumerate(bins):
        row = {"bin": name, "n": int(np.mean([r["by_magnitude"]["BATMM"][index]["n"] for r in records])),
               "n_bhb": int(np.mean([r["by_magnitude"]["BATMM"][index]["n_bhb"] for r in records]))}
        for method in METHODS:
            cells = [r["by_magnitude"][method][index] for r in records if method in r["by_magnitude"]]
            row[method] = {key: _mean_sd([cell[key] for cell in cells]) for key in ("purity", "completeness", "f1")}
        gaps = [(r["by_magnitude"]["BATMM"][index]["f1"], r["by_magnitude"]["VGG1D (spectrum)"][index]["f1"])
                for r in records if "VGG1D (spectrum)" in r["by_magnitude"]]
        row["BATMM − VGG1D F1"] = _mean_sd([a - b for a, b in gaps if a is not None and b is not None])
        table.append(row)
    return {"seeds": [r["seed"] for r in records], "by_magnitude": table,
            "method_seeds": {method: [r["seed"] for r in records if method in r["by_magnitude"]] for method in METHODS},
            "f1_macro": {method: _mean_sd([r["f1_macro"][method] for r in records if method in r["f1_macro"]])
                         for method in ("BATMM", "VGG1D (spectrum)")},
            "ece": _mean_sd([r["ece"] for r in records]), "ece_uncalibrated": _mean_sd([r["ece_uncalibrated"] for r in records]),
            "purity_95_completeness": _mean_sd([r["purity_95"]["completeness"] for r in records]),
            "purity_95_threshold": _mean_sd([r["purity_95"]["threshold"] for r in records]),
            "trained_on": _trained_on([r for r in records if "VGG1D (spectrum)" in r["by_magnitude"]]),
            "scores_from": str(Path(records[0]["scores_from"]).parent.parent) if records[0].get("scores_from") else None}


def _trained_on(records: list[dict]) -> dict:
    """Seeds and mean seconds per seed on each device, e.g. {"cpu": {"seeds": [0, 1], "seconds": 1500.0}}."""
    devices: dict = {}
    for record in records:
        devices.setdefault(record["device"], []).append(record)
    return {device: {"seeds": [r["seed"] for r in group], "seconds": float(np.mean([r["seconds"] for r in group]))}
            for device, group in devices.items()}


def _trained_on_text(trained_on: dict, every_seed: bool) -> str:
    """"cpu, 1,500 s per seed" or, where the devices differ, "cpu (seeds 0, 1; 1,500 s per seed) and cuda (…)"."""
    if len(trained_on) == 1 and every_seed:
        (device, run), = trained_on.items()
        return f"{device}, {run['seconds']:,.0f} s per seed"
    return " and ".join(f"{device} (seed{'s' * (len(run['seeds']) > 1)} {', '.join(map(str, run['seeds']))}; {run['seconds']:,.0f} s per seed)"
                        for device, run in trained_on.items())


def _cell(value: dict, digits: int = 3) -> str:
    """mean ± σ over seeds; the bare value from a single seed (it has no σ)."""
    if value["mean"] is None:
        return "—"
    return f"{value['mean']:.{digits}f}" + (f" ± {value['sd']:.{digits}f}" if value["n"] > 1 else "")


def markdown(report: dict) -> str:
    seeds = report["seeds"]
    if report["scores_from"]:
        trained = _trained_on_text(report["trained_on"], report["method_seeds"]["VGG1D (spectrum)"] == seeds)
        how = (f"BATMM's test scores are those stored by `{report['scores_from']}` (temperature scaling moves neither "
               f"the 0.5 threshold nor the ranking; the 95 % purity threshold below is on those raw scores); VGG1D "
               f"trained afresh on {trained or 'no device (none of these seeds)'}; the ECE's temperature is fitted on one half of the "
               f"test stars and measured on the other (that run kept no validation scores).")
    else:
        how = f"Trained on {_trained_on_text(report['trained_on'], True)}."
    lines = [f"# BHB purity and completeness by g magnitude (seeds {', '.join(map(str, seeds))}: "
             f"{len(seeds)} of the config's {report['seeds_in_config']})", "",
             f"Generated set {report['data']['n_bhb']} BHB + {report['data']['n_other']} other; test split (10 %); "
             f"threshold 0.5 on the calibrated score; mean ± σ over seeds. {how}", "",
             "| g (PSF) | stars (per seed) | BHB | method | purity | completeness | F1 |", "|---|---|---|---|---|---|---|"]
    label = {method: method if report["method_seeds"][method] == seeds else
             f"{method} (seeds {', '.join(map(str, report['method_seeds'][method])) or 'none'})" for method in METHODS}
    for row in report["by_magnitude"]:
        for method in METHODS:
            cells = row[method]
            lines.append(f"| {row['bin']} | {row['n']} | {row['n_bhb']} | {label[method]} | {_cell(cells['purity'])} | "
                         f"{_cell(cells['completeness'])} | {_cell(cells['f1'])} |")
    lines += ["", f"| g (PSF) | BATMM − VGG1D (BHB F1, seeds {', '.join(map(str, report['method_seeds']['VGG1D (spectrum)']))}) |",
              "|---|---|"]
    lines += [f"| {row['bin']} | {_cell(row['BATMM − VGG1D F1'])} |" for row in report["by_magnitude"]]
    lines += ["", f"- Macro F1: BATMM {_cell(report['f1_macro']['BATMM'])}, VGG1D {_cell(report['f1_macro']['VGG1D (spectrum)'])}.",
              f"- Expected calibration error (BATMM, 10 bins): {_cell(report['ece'])} after temperature scaling, "
              f"{_cell(report['ece_uncalibrated'])} before (goal ≤ 0.03).",
              f"- 95 % purity: threshold {_cell(report['purity_95_threshold'])}, completeness "
              f"{_cell(report['purity_95_completeness'])} (goal: precision ≥ 0.95 at recall ≥ 0.90).", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", required=True)
    parser.add_argument("--out", default=None)
    parser.add_argument("--only-seeds", type=int, nargs="+", default=None, metavar="SEED",
                        help="run just these seeds of the config (parallel workers); the report waits for all")
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    parser.add_argument("--report-only", action="store_true",
                        help="train nothing; write the report over the seeds finished so far")
    parser.add_argument("--scores-from", type=Path, default=None, metavar="DIR",
                        help="BATMM's test scores from this finished research.experiments.bhb run of the same config; "
                             "trains VGG1D alone")
    parser.add_argument("--no-spectrum", action="store_true",
                        help="with --scores-from: train nothing; these seeds get BATMM and Xue rows only")
    args = parser.parse_args(argv)
    if args.no_spectrum and args.scores_from is None:
        parser.error("--no-spectrum needs --scores-from (BATMM's scores come from there)")

    def run_seeds(config: dict, out: Path, log) -> dict | None:
        return run(config, out, log=log, only_seeds=args.only_seeds, device=args.device, report_only=args.report_only,
                   scores_from=args.scores_from, train_spectrum=not args.no_spectrum)

    return run_experiment(args.config, args.out, {"data", "model", "training", "seeds"}, run_seeds)


if __name__ == "__main__":
    sys.exit(main())
