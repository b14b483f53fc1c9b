"""The de Mijolla et al. (2021) pair protocol: can a representation tell which of 50,000 stars is a
star's chemical twin, when the two were observed at unrelated Teff and logg?

    python bench/twin_pairs.py --generator analytic --grid grids/analytic.npz --model runs/analytic_twins/model.pt
    python bench/twin_pairs.py --generator payne --grid grids/payne.npz --model runs/payne_twins/model.pt

``--pairs`` chemical profiles (default 25,000) are drawn from the grid builder's abundance
distribution with a seed the training grid did not use, so the model never saw them; each is
observed twice, at independent uniform (Teff, logg) inside the model's training range (not on grid
points), with independent noise, at S/N ∞, 100, 50 and 30. Recall@1 = the fraction of stars whose
pair-mate is their nearest neighbour among all the others (ties count against). Beside the model:
PolyDis and the supervised ceiling, both fitted on the training grid (``--grid``, other profiles),
and the published FaderDis and PolyDis figures (de Mijolla et al. 2021, their pair experiment).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _django import print_table  # noqa: E402

from ml.disentangler import TrainedDisentangler  # noqa: E402
from ml.evaluate import Ceiling, PolyDis, twin_metrics  # noqa: E402
from ml.synth.chemistry import draw_profiles, x_h_matrix  # noqa: E402

SNRS = (None, 100.0, 50.0, 30.0)
PUBLISHED = {None: (99.0, 52.1), 100.0: (96.7, 37.7), 50.0: (64.4, 11.4), 30.0: (19.3, 1.8)}  # FaderDis, PolyDis (%)
PAYNE = Path(__file__).resolve().parent.parent.parent / "shared/data/payne/binspec2018_NN_normalized_spectra_5label.npz"


def spectrum_model(generator: str):
    if generator == "analytic":
        from ml.synth.stellar import StellarSpectrumModel

        return StellarSpectrumModel("apogee"), None
    from ml.synth.payne import PayneEmulator

    return PayneEmulator(PAYNE, band="apogee"), ("fe_h", "Mg_Fe")


def observe_pairs(generator: str, n_pairs: int, ranges: dict, seed: int, batch: int = 2000):
    """Noiseless flux (2n, P), parameters (2n, 2), profile ids (2n,) and chemistry labels."""
    model, chemistry_names = spectrum_model(generator)
    rng = np.random.default_rng(seed)
    profiles = draw_profiles(n_pairs, rng)
    group = np.repeat(np.arange(n_pairs), 2)
    teff = rng.uniform(*ranges["teff"], size=2 * n_pairs)
    logg = rng.uniform(*ranges["logg"], size=2 * n_pairs)
    chosen = {key: value[group] for key, value in profiles.items()}
    flux = []
    for start in range(0, 2 * n_pairs, batch):
        part = slice(start, start + batch)
        flux.append(model(teff[part], logg[part], x_h_matrix({k: v[part] for k, v in chosen.items()}), snr=None))
    names = chemistry_names or [key for key in chosen if key not in ("teff", "logg")]
    chemistry = np.stack([chosen[name] for name in names], axis=1)
    return np.concatenate(flux).astype(np.float32), np.stack([teff, logg], axis=1).astype(np.float32), group, chemistry, names


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--generator", choices=("analytic", "payne"), required=True)
    parser.add_argument("--grid", type=Path, required=True, help="the training grid (GRID.npz) of the model")
    parser.add_argument("--model", type=Path, required=True, help="a model.pt written by ml.disentangler.grid_eval")
    parser.add_argument("--pairs", type=int, default=25_000)
    parser.add_argument("--seed", type=int, default=1000)
    args = parser.parse_args()
    started = time.perf_counter()
    model = TrainedDisentangler.load(args.model, device="cpu")
    ranges = {name: tuple(model.preprocessing.parameter_range[name]) for name in ("teff", "logg")}
    flux, parameters, group, chemistry, names = observe_pairs(args.generator, args.pairs, ranges, args.seed)
    print(f"{len(flux)} spectra of {args.pairs} pairs drawn in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    with np.load(args.grid) as grid:
        train_flux, train_parameters = grid["flux"], np.stack([grid["teff"], grid["logg"]], axis=1)
        train_chemistry = np.stack([grid[name] for name in names], axis=1)
    polydis = PolyDis().fit(train_flux, train_parameters)
    ceiling = Ceiling().fit(train_flux, train_parameters, train_chemistry)
    del train_flux
    rng = np.random.default_rng(args.seed + 1)
    rows = []
    for snr in SNRS:
        observed = flux if snr is None else flux + rng.standard_normal(flux.shape).astype(np.float32) / snr
        recall = {"z": twin_metrics(model.encode(observed, parameters), group)["recall_at_1"],
                  "PolyDis": twin_metrics(polydis.transform(observed, parameters), group)["recall_at_1"],
                  "ceiling": twin_metrics(ceiling.predict(observed, parameters), group)["recall_at_1"]}
        fader, published_polydis = PUBLISHED[snr]
        rows.append(["∞" if snr is None else f"{snr:.0f}", f"{100 * recall['z']:.1f}", f"{100 * recall['PolyDis']:.1f}",
                     f"{100 * recall['ceiling']:.1f}", f"{fader:.1f}", f"{published_polydis:.1f}"])
        print(f"S/N {rows[-1][0]} done ({time.perf_counter() - started:.0f} s)", file=sys.stderr)
    preset = model.config.preset
    print_table(f"bench/twin_pairs.py — {args.generator}, {args.pairs} pairs, preset {preset} "
                f"(kept epoch {model.kept_epoch}), recall@1 %",
                ["S/N", f"z ({preset})", "PolyDis (ours)", "supervised ceiling", "FaderDis (published)",
                 "PolyDis (published)"], rows)


if __name__ == "__main__":
    main()
