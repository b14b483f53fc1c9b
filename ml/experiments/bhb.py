"""Reproduce the seed's BHB experiment (BATMM against baselines and ablations) on a generated set.

    python -m ml.experiments.bhb --config ml/experiments/configs/bhb.yaml [--out DIR] [--seeds N]

For each seed: a 70/20/10 split; the Xue et al. Balmer-line cuts on Sérsic fits; SVM and XGBoost
on spectra; VGG1D alone; ResNet-50 + SE alone; early add / early concat; BATMM and its two
ablations. Writes report.json (per seed and mean ± σ), report.md (laid out like the seed's
Tables 5–8), roc_pr.png and weights.png (segment and band weights, the seed's Figure 9).

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
from ml.bhb_train import BHBTrainer, BHBTrainingConfig, classical_baselines, summarise, xue_baseline
from ml.data import split_indices
from ml.experiments._cli import run_experiment
from ml.synth.bhb import bhb_sample

TABLES = {
    "Table 5 — spectrum only": ["Xue et al. cuts (physics)", "SVM (spectrum)", "XGBoost (spectrum)", "VGG1D (spectrum)"],
    "Table 6 — image only": ["ResNet-50+SE (image)"],
    "Table 7 — multimodal": ["early add", "early concat", "BATMM"],
    "Table 8 — ablations": ["BATMM w/o cross-attention", "BATMM w/o modality embeddings", "BATMM"],
}


def run(config: dict, out: Path, log=print) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    data = {"n_bhb": 4985, "n_other": 3128, "seed": 0, **config.get("data", {})}
    started = time.perf_counter()
    sample = bhb_sample(data["n_bhb"], data["n_other"], np.random.default_rng(data["seed"]))
    labels = sample.is_bhb.astype(int)
    log(f"data: {len(labels)} stars ({labels.sum()} BHB) in {time.perf_counter() - started:.0f} s")
    model_config = BATMMConfig(**config.get("model", {}))
    per_seed, explanation, curves = [], [], {}
    for seed in config.get("seeds", [0, 1, 2, 3, 4]):
        split = split_indices(len(labels), 0.2, 0.1, seed)
        training = BHBTrainingConfig(model=model_config, seed=seed, **config.get("training", {}))
        results = {}
        results["Xue et al. cuts (physics)"], _ = xue_baseline(sample.wavelength, sample.flux, sample.error, labels, split["test"])
        results.update(classical_baselines(sample.flux, labels, split, seed))
        trainer = BHBTrainer(training, sample.flux, sample.images, labels, split=split, log=log)
        results.update(trainer.run())
        per_seed.append(results)
        explanation.append(trainer.explanation)
        if not curves:
            curves = {"labels": labels[split["test"]], "scores": trainer.test_scores}
        log(f"seed {seed}: " + ", ".join(f"{name} F1 {result['f1_macro']:.3f}" for name, result in results.items()))
    report = {"data": data, "model": model_config.__dict__, "training": config.get("training", {}),
              "per_seed": per_seed, "summary": summarise(per_seed),
              "explanation": {"segment_weights": np.mean([e["segment_weights"] for e in explanation], axis=0).tolist(),
                              "band_weights": np.mean([e["band_weights"] for e in explanation], axis=0).tolist()}}
    report["figures"] = _figures(report, curves, out)
    (out / "report.json").write_text(json.dumps(report, indent=2, default=float))
    (out / "report.md").write_text(markdown(report))
    return report


def _figures(report: dict, curves: dict, out: Path) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import precision_recall_curve, roc_curve

    figure, (roc, pr) = plt.subplots(1, 2, figsize=(10, 4))
    for name, score in curves["scores"].items():
        fpr, tpr, _ = roc_curve(curves["labels"], score)
        precision, recall, _ = precision_recall_curve(curves["labels"], score)
        roc.plot(fpr, tpr, label=name)
        pr.plot(recall, precision, label=name)
    roc.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC (first seed, test)")
    pr.set(xlabel="recall", ylabel="precision", title="precision–recall (first seed, test)")
    roc.legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(out / "roc_pr.png", dpi=110)
    plt.close(figure)
    figure, (segments, bands) = plt.subplots(1, 2, figsize=(10, 3.2))
    segments.bar(range(1, 8), report["explanation"]["segment_weights"])
    segments.set(xlabel="segment (503 px each, 4000 → 9000 Å)", ylabel="mean attention weight", title="segment weights")
    bands.bar(list("ugriz"), report["explanation"]["band_weights"])
    bands.set(ylabel="mean SE weight", title="band weights")
    figure.tight_layout()
    figure.savefig(out / "weights.png", dpi=110)
    plt.close(figure)
    return ["roc_pr.png", "weights.png"]


def markdown(report: dict) -> str:
    summary = report["summary"]
    data = report["data"]
    lines = [f"# BHB identification report — {data['n_bhb']} BHB + {data['n_other']} other, "
             f"{len(report['per_seed'])} seeds (mean ± σ on the 10 % test split)", ""]
    columns = ["precision_bhb", "recall_bhb", "f1_bhb", "f1_other", "f1_macro", "roc_auc", "pr_auc"]
    for title, methods in TABLES.items():
        lines += [f"## {title}", "", "| method | " + " | ".join(columns) + " |", "|---|" + "---|" * len(columns)]
        for method in methods:
            if method in summary:
                cells = [f"{summary[method][c]['mean']:.4f} ± {summary[method][c]['std']:.4f}" if c in summary[method] else "—"
                         for c in columns]
                lines.append(f"| {method} | " + " | ".join(cells) + " |")
        lines.append("")
    lines += ["![ROC and PR curves](roc_pr.png)", "", "![segment and band weights](weights.png)", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", required=True)
    parser.add_argument("--out", default=None)
    parser.add_argument("--seeds", type=int, default=None, help="use the first N seeds of the config")
    args = parser.parse_args(argv)

    def adjust(config: dict) -> None:
        if args.seeds:
            config["seeds"] = config.get("seeds", [0, 1, 2, 3, 4])[: args.seeds]

    return run_experiment(args.config, args.out, {"data", "model", "training", "seeds"}, run, adjust)

if __name__ == "__main__":
    sys.exit(main())
