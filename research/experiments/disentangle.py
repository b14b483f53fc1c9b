"""Reproduce the seed's disentangling experiment on a generated grid.

    python -m research.experiments.disentangle --config research/configs/apogee_2p_snr50.yaml [--out DIR]

Steps: build the grid (analytic model or a Payne emulator); train noAT, AT and mdAT on the same
train/validation/test split; probe R² of every conditioned and non-conditioned parameter from X,
z(noAT), z(AT) and z(mdAT) (the layout of the seed's Tables 2–5); compute twin metrics on the test
stars for X, PCA(X), PolyDis and the three latents; draw training curves and t-SNE maps.
Writes ``report.json``, ``report.md`` and PNG figures to the output directory.

Config (YAML)::

    grid: {band: apogee, n_profiles: 200, snr: 50, seed: 0}     # GridSpec fields; optional model: PATH.npz
    disentangler: {epochs: 200, batch_size: 50, lambdas: [1.0]}   # DisentanglerConfig fields (conditional too)
    variants: [noAT, AT, mdAT]
    evaluation: {probe_parameters: [teff, logg, fe_h, Mg_Fe, Ni_Fe], probe_repetitions: 3,
                 probe_train_size: 4000, tsne_points: 2000, colour_by: teff}
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np

from ml.disentangler import VARIANTS, DisentanglerConfig, DisentanglerTrainer
from research.experiments._cli import run_experiment
from research.species import register as register_species
from ml.evaluate import (PolyDis, PolynomialResidual, collapsed, far_twin_metrics, far_twins, pca_features, r2_probe,
                         tsne_map, twin_generation_error, twin_metrics)
from ml.synth.gridbuilder import GridSpec, build_grid

register_species()  # the research presets are available to every config

DEFAULT_EVALUATION = {"probe_parameters": None, "probe_repetitions": 3, "probe_train_size": 4000,
                      "tsne_points": 2000, "colour_by": "teff", "polydis_degree": 3}


def _model(grid_config: dict):
    model_path = grid_config.pop("model", None)
    if model_path:
        from ml.synth.payne import PayneEmulator

        return PayneEmulator(model_path, band=grid_config.get("band", "apogee"))
    from ml.synth.stellar import StellarSpectrumModel

    return StellarSpectrumModel(grid_config.get("band", "apogee"))


def run(config: dict, out: Path, log=print) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    grid_config = dict(config.get("grid", {}))
    model = _model(grid_config)
    spec = GridSpec(**grid_config)
    started = time.perf_counter()
    grid = build_grid(spec, model, batch_size=512)
    log(f"grid: {len(grid.designation)} spectra ({spec.n_profiles} profiles) in {time.perf_counter() - started:.0f} s")
    base = {"conditional": spec.conditional, **config.get("disentangler", {})}
    evaluation = {**DEFAULT_EVALUATION, **config.get("evaluation", {})}
    conditional = list(base["conditional"])
    parameters = np.stack([grid.labels[name] for name in conditional], axis=1)
    variants = config.get("variants", list(VARIANTS))
    report: dict = {"grid": {**asdict(spec), "n_spectra": len(grid.designation)}, "variants": {}, "r2": {}, "twins": {}}
    latents, trainers, split = {}, {}, None
    for variant in variants:
        cfg = DisentanglerConfig.from_dict({**base, "variant": variant})
        trainer = DisentanglerTrainer(cfg, grid.flux, parameters, split=split)
        split = trainer.split
        started = time.perf_counter()
        trainer.fit(on_epoch=lambda r, v=variant: log(f"  {v} epoch {r['epoch']}: rec {r.get('val_reconstruction', 0):.4f} "
                                                        f"acc {np.round(r.get('val_disc_accuracy', []), 2).tolist()}"))
        seconds = time.perf_counter() - started
        model = trainer.trained()  # the kept epoch
        latents[variant] = model.encode(grid.flux, parameters)
        trainers[variant] = model
        model.save(out / f"{variant}.pt")
        final = trainer.evaluate(split["test"], model=model.model)
        report["variants"][variant] = {"config": asdict(cfg), "train_seconds": seconds, "epochs": trainer.epoch,
                                       "best_epoch": trainer.history.best_epoch, "test": final,
                                       "history": trainer.history.epochs}
        log(f"{variant}: {trainer.epoch} epochs in {seconds:.0f} s, test accuracy {np.round(final['disc_accuracy'], 3).tolist()}")
    report["collapsed"] = [variant for variant, z in latents.items() if collapsed(z)]
    for variant in report["collapsed"]:
        log(f"warning: z({variant}) is the same point for every star (the adversary won outright; try a lower λ)")
    train, test = split["train"], split["test"]
    rng = np.random.default_rng(0)
    probe_train = np.sort(rng.choice(train, size=min(len(train), evaluation["probe_train_size"]), replace=False))
    names = evaluation["probe_parameters"] or conditional + [k for k in ("fe_h", "alpha_fe", "Mg_Fe", "Ni_Fe", "C_Fe")
                                                             if k not in conditional]
    representations = {"X": grid.flux, **{f"z({v})": latents[v] for v in variants}}
    for name, features in representations.items():
        report["r2"][name] = {p: r2_probe(features[probe_train], grid.labels[p][probe_train], features[test],
                                          grid.labels[p][test], evaluation["probe_repetitions"]) for p in names}
        log(f"R² {name}: " + ", ".join(f"{p} {v:.3f}" for p, v in report["r2"][name].items()))
    # Twin metrics on the test stars (their twins are other test stars of the same profile).
    report["twins"] = twin_table(grid.flux, parameters, grid.group, latents, train, test, evaluation["polydis_degree"])
    for name, row in report["twins"].items():
        log(f"twins {name}: " + ", ".join(f"{k} {v:.3f}" for k, v in row.items()))
    report["generation"] = generation_table(grid.flux, grid.error, parameters, grid.group, latents, trainers, train, test,
                                            evaluation["polydis_degree"])
    log("generation RMS at the twin's parameters: " + ", ".join(f"{k} {v:.4f}" for k, v in report["generation"].items()))
    report["figures"] = _figures(report, grid, latents, parameters, evaluation, out)
    (out / "report.json").write_text(json.dumps(report, indent=2, default=float))
    (out / "report.md").write_text(markdown(report, conditional))
    return report


def twin_table(flux, parameters, groups, latents: dict, train, test, degree: int = 3) -> dict[str, dict]:
    """Twin metrics of the test stars for X, PCA(X), PolyDis (plain and whitened), each z, and each
    z minus its polynomial in the conditioned parameters (the PolyDis step applied to z, fitted on
    the training stars). Twins are other test stars of the same chemical profile."""
    _, pca_test = pca_features(flux[train], flux[test])
    features = {"X": flux[test], "PCA(X)": pca_test}
    for label, whiten in (("PolyDis", False), ("PolyDis (whitened)", True)):
        polydis = PolyDis(degree=degree, whiten=whiten).fit(flux[train], parameters[train])
        features[label] = polydis.transform(flux[test], parameters[test])
    for variant, z in latents.items():
        features[f"z({variant})"] = z[test]
    for variant, z in latents.items():
        residual = PolynomialResidual(degree).fit(z[train], parameters[train])
        features[f"z({variant}) − poly(cp)"] = residual.transform(z[test], parameters[test]).astype(np.float32)
    table = {name: twin_metrics(values, groups[test]) for name, values in features.items()}
    if parameters.shape[1] >= 2:  # far twins: ≥ 800 K or ≥ 1 dex away (the headline; Teff and logg first)
        far = far_twins(parameters[test, 0], parameters[test, 1], groups[test])
        if (far >= 0).any():
            for name, values in features.items():
                table[name].update(far_twin_metrics(values, groups[test], far))
    return table


def generation_table(flux, error, parameters, groups, latents: dict, trainers: dict, train, test,
                     degree: int = 3) -> dict[str, float]:
    """RMS error (flux units, noise removed) of star b's spectrum predicted from its twin a alone
    (``ml.evaluate.twin_generation_error``, test stars): the two reference rows, the PolyDis
    transfer x_a − poly(cp_a) + poly(cp_b) (fitted on the training stars; it carries a's noise), and
    each variant's D(z_a, cp_b)."""
    polynomial = PolynomialResidual(degree).fit(flux[train], parameters[train])
    predictors = {"PolyDis transfer": (lambda a, b: polynomial.transform(flux[a], parameters[a])
                                       + polynomial.predict(parameters[b]), True)}
    for variant, trainer in trainers.items():
        predictors[f"D(z_a, cp_b), {variant}"] = (
            lambda a, b, trainer=trainer, z=latents[variant]: trainer.generate(z[a], parameters[b]), False)
    return twin_generation_error(flux, error, parameters, groups, test, predictors)


def _figures(report, grid, latents, parameters, evaluation, out: Path) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    files = []
    figure, axes = plt.subplots(1, 2, figsize=(10, 3.5))
    for variant, result in report["variants"].items():
        epochs = [r["epoch"] for r in result["history"]]
        axes[0].plot(epochs, [r.get("val_reconstruction") for r in result["history"]], label=variant)
        axes[1].plot(epochs, [np.mean(r.get("val_disc_accuracy", [np.nan])) for r in result["history"]], label=variant)
    axes[0].set(xlabel="epoch", ylabel="validation reconstruction MSE", yscale="log")
    axes[1].set(xlabel="epoch", ylabel="discriminator accuracy (validation)")
    axes[1].legend()
    figure.tight_layout()
    figure.savefig(out / "training_curves.png", dpi=110)
    plt.close(figure)
    files.append("training_curves.png")
    rng = np.random.default_rng(1)
    sample = np.sort(rng.choice(len(grid.flux), size=min(evaluation["tsne_points"], len(grid.flux)), replace=False))
    colour = grid.labels[evaluation["colour_by"]][sample]
    maps = {"X": tsne_map(grid.flux[sample]), **{f"z({v})": tsne_map(z[sample]) for v, z in latents.items()}}
    collapsed_names = {f"z({v})" for v in report.get("collapsed", [])}
    report["tsne"] = {"index": sample.tolist(), "colour_by": evaluation["colour_by"],
                      "maps": {name: coordinates.round(3).tolist() for name, coordinates in maps.items()}}
    figure, axes = plt.subplots(1, len(maps), figsize=(4 * len(maps), 3.8))
    for axis, (name, coordinates) in zip(np.atleast_1d(axes), maps.items()):
        points = axis.scatter(coordinates[:, 0], coordinates[:, 1], c=colour, s=3, cmap="viridis")
        note = "\n(collapsed: every star at one point)" if name in collapsed_names else ""
        axis.set_title(f"t-SNE of {name}{note}")
        axis.set_xticks([]), axis.set_yticks([])
    figure.colorbar(points, ax=np.atleast_1d(axes).tolist(), label=evaluation["colour_by"])
    figure.savefig(out / "tsne.png", dpi=110)
    plt.close(figure)
    files.append("tsne.png")
    return files


def markdown(report: dict, conditional: list[str]) -> str:
    grid = report["grid"]
    lines = [f"# Disentangling report — {grid['band']} grid, {grid['n_profiles']} profiles, "
             f"S/N {grid['snr'] or '∞'}, {grid['n_spectra']} spectra", "",
             f"Conditioned parameters: {', '.join(conditional)}.", ""]
    decoders = {result.get("config", {}).get("decoder", "joint") for result in report["variants"].values()}
    if decoders != {"joint"}:
        lines += [f"Decoder: {', '.join(sorted(decoders))} (not the seed's D(z ⊕ cp): \"species\" is "
                  "x̂ = g(cp) + Σₖ sₖ ⊙ σ(zₖ + bₖ(cp)), see ml.disentangler.decoders.SpeciesDecoder).", ""]
    parameters = list(next(iter(report["r2"].values())))
    lines += ["## R² of MLP probes (median over repetitions; seed Tables 2–5 layout)", "",
              "| representation | " + " | ".join(f"{p}{' (cond.)' if p in conditional else ''}" for p in parameters) + " |",
              "|---|" + "---|" * len(parameters)]
    for name, row in report["r2"].items():
        lines.append(f"| {name} | " + " | ".join(f"{row[p]:.3f}" for p in parameters) + " |")
    far = all("far_auc" in row for row in report["twins"].values())
    lines += ["", "## Chemical twins (test stars; twins = same chemical profile)", "",
              "| representation | " + ("far recall@1 | far recall@10 | far AUC | " if far else "")
              + "recall@1 | recall@10 | median rank | pairwise AUC |",
              "|---|" + ("---|" * 3 if far else "") + "---|---|---|---|"]
    for name, row in report["twins"].items():
        headline = f"{row['far_recall_at_1']:.3f} | {row['far_recall_at_10']:.3f} | {row['far_auc']:.3f} | " if far else ""
        lines.append(f"| {name} | {headline}{row['recall_at_1']:.3f} | {row['recall_at_10']:.3f} | "
                     f"{row['median_rank']:.0f} | {row['pairwise_auc']:.3f} |")
    lines += ["", "PolyDis (whitened): the residual PCs scaled to unit variance. z(…) − poly(cp): the latent minus "
              "its least-squares polynomial in the conditioned parameters (the PolyDis step applied to z; "
              "fitted on the training stars)."]
    if report.get("generation"):
        lines += ["", "## Generation: a star drawn at its twin's parameters (test stars)", "",
                  "RMS difference (flux units, noise removed in quadrature) between twin b's spectrum and a guess "
                  "made from star a alone. A guess as far off as *another star at the same parameters* (the size of "
                  "the chemical signal) cannot tell twins apart.", "", "| prediction of x_b | RMS |", "|---|---|"]
        lines += [f"| {name} | {value:.4f} |" for name, value in report["generation"].items()]
    for variant in report.get("collapsed", []):
        lines += ["", f"**z({variant}) has collapsed**: every star is encoded to the same point, so its R² is ~0 "
                  "and every twin ties with every other star. The adversary won outright; try a lower λ."]
    lines += ["", "## Training", "", "| variant | epochs | best epoch | seconds | test disc. accuracy |", "|---|---|---|---|---|"]
    for name, result in report["variants"].items():
        lines.append(f"| {name} | {result['epochs']} | {result['best_epoch']} | {result['train_seconds']:.0f} | "
                     f"{', '.join(f'{a:.3f}' for a in result['test']['disc_accuracy'])} |")
    lines += ["", "![training curves](training_curves.png)", "", "![t-SNE maps](tsne.png)", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", required=True)
    parser.add_argument("--out", default=None, help="output directory (default: the config's 'out' or reports/NAME)")
    parser.add_argument("--epochs", type=int, default=None, help="override the config's epochs (CPU-limited runs)")
    parser.add_argument("--profiles", type=int, default=None, help="override the grid's number of chemical profiles")
    args = parser.parse_args(argv)

    def adjust(config: dict) -> None:
        if args.epochs is not None:
            config.setdefault("disentangler", {})["epochs"] = args.epochs
        if args.profiles is not None:
            config.setdefault("grid", {})["n_profiles"] = args.profiles

    return run_experiment(args.config, args.out, {"grid", "disentangler", "variants", "evaluation"}, run, adjust)

if __name__ == "__main__":
    sys.exit(main())
