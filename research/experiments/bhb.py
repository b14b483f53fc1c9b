"""Reproduce the seed's BHB experiment (BATMM against baselines and ablations) on a generated set.

    python -m research.experiments.bhb --config research/configs/bhb.yaml [--out DIR] [--seeds N]
                                 [--only-seeds S [S ...]] [--report-only]

For each seed: a 70/20/10 split; the Xue et al. Balmer-line cuts on Sérsic fits; SVM and XGBoost
on spectra; VGG1D alone; ResNet-50 + SE alone; early add / early concat; BATMM and its two
ablations. Writes report.json (per seed and mean ± σ), report.md (laid out like the seed's
Tables 5–8), roc_pr.png and weights.png (segment and band weights, the seed's Figure 9).

Each seed keeps its own directory, ``DIR/seeds/seed_<n>/``: the config it ran with, a checkpoint
of every finished training stage, and, once the seed is done, ``result.json``. A rerun into the
same directory reuses finished seeds and resumes an interrupted one from its last finished stage;
a seed directory written with another config is an error rather than a silent mix. Seeds can
therefore run in parallel processes (or machines sharing DIR)::

    python -m research.experiments.bhb --config C --out DIR --only-seeds 0 1 2 &
    python -m research.experiments.bhb --config C --out DIR --only-seeds 3 4
    python -m research.experiments.bhb --config C --out DIR      # reuses all five, writes the report

The report is written only once every seed of the config is finished; ``--report-only`` writes
it over the seeds finished so far (its title says how many) without training anything.

Config (YAML)::

    data: {n_bhb: 4985, n_other: 3128, seed: 0}
    model: {width: 0.25, d_model: 128, n_layers: 8, n_heads: 8}   # BATMMConfig fields
    training: {epochs_encoder: 20, epochs_fusion: 30, batch_size: 64, lr: 1e-4}
    seeds: [0, 1, 2, 3, 4]
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from ml.batmm import BATMMConfig
from ml.bhb_train import CODE_VERSION, BHBTrainer, BHBTrainingConfig
from research.bhb_baselines import classical_baselines, early_fusion, summarise, xue_baseline
from ml.data import split_indices
from research.experiments._cli import ConfigError, run_experiment
from ml.files import write_atomically
from ml.synth.bhb import bhb_sample

TABLES = {
    "Table 5 — spectrum only": ["Xue et al. cuts (physics)", "SVM (spectrum)", "XGBoost (spectrum)", "VGG1D (spectrum)"],
    "Table 6 — image only": ["ResNet-50+SE (image)"],
    "Table 7 — multimodal": ["early add", "early concat", "BATMM"],
    "Table 8 — ablations": ["BATMM w/o cross-attention", "BATMM w/o modality embeddings", "BATMM"],
}


class SeedConfigMismatch(ConfigError):
    """A seed directory holds results or checkpoints from a different config."""


def seed_plan(config: dict, only_seeds: list[int] | None = None) -> tuple[dict, list[int], dict]:
    """(data settings with their defaults, the config's seeds, the fingerprint a seed's results are
    kept under: code version, data, model and training). ConfigError for seeds not in the config."""
    data = {"n_bhb": 4985, "n_other": 3128, "seed": 0, **config.get("data", {})}
    seeds = list(config.get("seeds", [0, 1, 2, 3, 4]))
    unknown = sorted(set(only_seeds or []) - set(seeds))
    if unknown:
        raise ConfigError(f"seed(s) {unknown} are not in the config's seeds {seeds}")
    fingerprint = json.loads(json.dumps({"code": CODE_VERSION, "data": data, "model": config.get("model", {}),
                                         "training": config.get("training", {})}, default=float))
    return data, seeds, fingerprint


def generated_sample(data: dict, log=print):
    """The generated BHB set of the config's ``data`` (the same stars for every seed)."""
    started = time.perf_counter()
    sample = bhb_sample(data["n_bhb"], data["n_other"], np.random.default_rng(data["seed"]))
    log(f"data: {len(sample.is_bhb)} stars ({int(sample.is_bhb.sum())} BHB) in {time.perf_counter() - started:.0f} s")
    return sample


def run(config: dict, out: Path, log=print, only_seeds: list[int] | None = None,
        report_only: bool = False) -> dict | None:
    """Run (or reuse) every seed of the config, or just ``only_seeds``; returns the report, or None
    when some seed of the config is unfinished (no report is written then). ``report_only`` trains
    nothing and reports over the seeds finished so far (a look at a run in progress)."""
    data, seeds, fingerprint = seed_plan(config, only_seeds)
    directories = {seed: out / "seeds" / f"seed_{seed}" for seed in seeds}
    for directory in directories.values():  # every seed checked before anything is written
        _check_seed_config(directory, fingerprint)
    todo = [] if report_only else [seed for seed in (only_seeds or seeds) if not (directories[seed] / "result.json").exists()]
    if todo:
        sample = generated_sample(data, log)
        for seed in todo:
            _write_text(directories[seed] / "config.json", json.dumps(fingerprint, indent=2))
            _run_seed(sample, config, seed, directories[seed], log)
    finished = [seed for seed in seeds if (directories[seed] / "result.json").exists()]
    if not finished or (len(finished) < len(seeds) and not report_only):
        log(f"{len(finished)} of {len(seeds)} seeds finished; the report is written once all are")
        return None
    return _report(config, data, [json.loads((directories[seed] / "result.json").read_text()) for seed in finished], out)


def _check_seed_config(directory: Path, fingerprint: dict) -> None:
    """A seed directory written with another config or older code (its checkpoints and result) is an error."""
    stored = directory / "config.json"
    if stored.exists() and json.loads(stored.read_text()) != fingerprint:
        raise SeedConfigMismatch(f"{directory} was written with a different config or an older version of the code; remove it or choose another --out")


def _run_seed(sample, config: dict, seed: int, directory: Path, log) -> None:
    labels = sample.is_bhb.astype(int)
    split = split_indices(len(labels), 0.2, 0.1, seed)
    training = BHBTrainingConfig(model=BATMMConfig(**config.get("model", {})), seed=seed, **config.get("training", {}))
    results = {}
    results["Xue et al. cuts (physics)"], _ = xue_baseline(sample.wavelength, sample.flux, sample.error, labels, split["test"])
    results.update(classical_baselines(sample.flux, labels, split, seed))
    trainer = BHBTrainer(training, sample.flux, sample.images, labels, split=split, log=log, checkpoint_dir=directory)
    results.update(trainer.run(ablations=True))
    results.update(early_fusion(trainer))
    log(f"seed {seed}: " + ", ".join(f"{name} F1 {result['f1_macro']:.3f}" for name, result in results.items()))
    record = {"seed": seed, "results": results, "explanation": trainer.explanation,
              "test_labels": labels[split["test"]].tolist(),
              "test_scores": {name: np.asarray(score).tolist() for name, score in trainer.test_scores.items()}}
    _write_text(directory / "result.json", json.dumps(record, default=float))


def _write_text(path: Path, text: str) -> None:
    write_atomically(path, lambda temporary: temporary.write_text(text))


def _report(config: dict, data: dict, records: list[dict], out: Path) -> dict:
    """report.json, report.md and the figures from the finished seeds' records."""
    out.mkdir(parents=True, exist_ok=True)
    model_config = BATMMConfig(**config.get("model", {}))
    per_seed = [record["results"] for record in records]
    explanation = [record["explanation"] for record in records]
    with_scores = next((record for record in records if record.get("test_scores")), None)  # imported ones lack them
    curves = None if with_scores is None else {
        "seed": with_scores["seed"], "labels": np.asarray(with_scores["test_labels"]),
        "scores": {name: np.asarray(score) for name, score in with_scores["test_scores"].items()}}
    report = {"data": data, "model": model_config.__dict__, "training": config.get("training", {}),
              "per_seed": per_seed, "summary": summarise(per_seed),
              "explanation": {"segment_weights": np.mean([e["segment_weights"] for e in explanation], axis=0).tolist(),
                              "band_weights": np.mean([e["band_weights"] for e in explanation], axis=0).tolist()}}
    report["seeds"] = [record["seed"] for record in records]
    report["notes"] = [f"seed {record['seed']}: {record['note']}" for record in records if record.get("note")]
    report["figures"] = _figures(report, curves, out)
    _write_text(out / "report.json", json.dumps(report, indent=2, default=float))
    _write_text(out / "report.md", markdown(report))
    return report


def _figures(report: dict, curves: dict | None, out: Path) -> list[str]:
    """weights.png always; roc_pr.png when some seed kept its test scores (``curves``)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import precision_recall_curve, roc_curve

    written = []
    if curves is not None:
        figure, (roc, pr) = plt.subplots(1, 2, figsize=(10, 4))
        for name, score in curves["scores"].items():
            fpr, tpr, _ = roc_curve(curves["labels"], score)
            precision, recall, _ = precision_recall_curve(curves["labels"], score)
            roc.plot(fpr, tpr, label=name)
            pr.plot(recall, precision, label=name)
        roc.set(xlabel="false positive rate", ylabel="true positive rate", title=f"ROC (seed {curves['seed']}, test)")
        pr.set(xlabel="recall", ylabel="precision", title=f"precision–recall (seed {curves['seed']}, test)")
        roc.legend(fontsize=7)
        figure.tight_layout()
        figure.savefig(out / "roc_pr.png", dpi=110)
        plt.close(figure)
        written.append("roc_pr.png")
    figure, (segments, bands) = plt.subplots(1, 2, figsize=(10, 3.2))
    segments.bar(range(1, 8), report["explanation"]["segment_weights"])
    segments.set(xlabel="segment (503 px each, 4000 → 9000 Å)", ylabel="mean attention weight", title="segment weights")
    bands.bar(list("ugriz"), report["explanation"]["band_weights"])
    bands.set(ylabel="mean SE weight", title="band weights")
    figure.tight_layout()
    figure.savefig(out / "weights.png", dpi=110)
    plt.close(figure)
    return written + ["weights.png"]


def markdown(report: dict) -> str:
    summary = report["summary"]
    data = report["data"]
    lines = [f"# BHB identification report — {data['n_bhb']} BHB + {data['n_other']} other, "
             f"{len(report['per_seed'])} seeds (mean ± sample σ on the 10 % test split)", ""]
    if "seeds" in report:
        lines += [f"Seeds: {', '.join(map(str, report['seeds']))}.", ""]
    lines += [f"- {note}" for note in report.get("notes", [])] + ([""] if report.get("notes") else [])
    columns = ["precision_bhb", "recall_bhb", "f1_bhb", "f1_other", "f1_macro", "roc_auc", "pr_auc"]
    for title, methods in TABLES.items():
        lines += [f"## {title}", "", "| method | " + " | ".join(columns) + " |", "|---|" + "---|" * len(columns)]
        for method in methods:
            if method in summary:
                cells = [f"{summary[method][c]['mean']:.4f} ± {summary[method][c]['std']:.4f}" if c in summary[method] else "—"
                         for c in columns]
                lines.append(f"| {method} | " + " | ".join(cells) + " |")
        lines.append("")
    lines += _target_lines(report["per_seed"])
    for name in report["figures"]:
        lines += [f"![{name}]({name})", ""]
    return "\n".join(lines)


SPECTRUM_ONLY = TABLES["Table 5 — spectrum only"]
BASELINES = SPECTRUM_ONLY + TABLES["Table 6 — image only"] + ["early add", "early concat"]


def paired_differences(per_seed: list[dict], method: str, other: str, key: str = "f1_macro") -> np.ndarray:
    """method − other, seed by seed (the same test split), for the seeds that ran both."""
    return np.array([run[method][key] - run[other][key] for run in per_seed if method in run and other in run])


def _target_lines(per_seed: list[dict]) -> list[str]:
    """The issue's targets as paired comparisons: BATMM against every baseline, multimodal against
    the best spectrum-only method (macro F1, seed by seed on the same split)."""
    def row(method: str, other: str, label: str = "") -> str:
        difference = paired_differences(per_seed, method, other)
        sigma = float(np.std(difference, ddof=1)) if len(difference) > 1 else 0.0
        return (f"| {label}{method} − {other} | {difference.mean():+.4f} ± {sigma:.4f} | "
                f"{int((difference >= 0).sum())} / {len(difference)} |")

    if "BATMM" not in per_seed[0]:
        return []
    lines = ["## Targets (paired, macro F1)", "", "| comparison | mean difference ± σ | seeds where ≥ 0 |", "|---|---|---|"]
    lines += [row("BATMM", other) for other in BASELINES if other in per_seed[0]]
    mean_f1 = lambda method: np.mean([run[method]["f1_macro"] for run in per_seed])  # noqa: E731
    best_spectrum = max((m for m in SPECTRUM_ONLY if m in per_seed[0]), key=mean_f1)
    best_multimodal = max((m for m in TABLES["Table 7 — multimodal"] if m in per_seed[0]), key=mean_f1)
    lines += [row(best_multimodal, best_spectrum, "best multimodal − best spectrum-only: "), ""]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", required=True)
    parser.add_argument("--out", default=None)
    parser.add_argument("--seeds", type=int, default=None, help="use the first N seeds of the config")
    parser.add_argument("--only-seeds", type=int, nargs="+", default=None, metavar="SEED",
                        help="run just these seeds of the config (parallel workers); the report waits for all")
    parser.add_argument("--report-only", action="store_true",
                        help="train nothing; write the report over the seeds finished so far")
    args = parser.parse_args(argv)

    def adjust(config: dict) -> None:
        if args.seeds:
            config["seeds"] = config.get("seeds", [0, 1, 2, 3, 4])[: args.seeds]

    def run_seeds(config: dict, out: Path, log) -> dict | None:
        return run(config, out, log=log, only_seeds=args.only_seeds, report_only=args.report_only)

    return run_experiment(args.config, args.out, {"data", "model", "training", "seeds"}, run_seeds, adjust)

if __name__ == "__main__":
    sys.exit(main())
