"""Write the twin benchmark's grids as GRID.npz files for ``python -m ml.disentangler.grid_eval``.

    python bench/make_grids.py --out grids/ [--snr 50|inf] [--spectra 15000] [--seed 0] [--peculiar 0.01]

Two generators, about ``--spectra`` APOGEE-format spectra each (7214 px, S/N ``--snr``):

* ``analytic.npz``: the analytic model of ``ml/synth`` on the configs' giant grid (Teff 3200–6000 K
  × logg 0–2.6), chemistry [Fe/H], [α/Fe] and 18 [X/Fe];
* ``payne.npz``: the Payne 2018 5-label emulator of ``../shared/data/payne`` (dwarfs: Teff
  4400–6800 K × logg 4.0–4.9), chemistry [Fe/H] and [Mg/Fe], the two it models.

Each file holds flux (N, 7214) float32, teff, logg, group (the chemical-profile id) and the
chemistry columns; the profiles are drawn by the grid builder from the same abundance distribution.
``--snr inf`` writes noiseless spectra: the same stars as any finite S/N with the same seed.

``--peculiar F`` injects peculiar stars: a fraction F of the stars, drawn at random, get one element
enhanced by +0.3 to +1.0 dex on top of their profile (analytic: Mn, V, Co or Ce; Payne: Mg, the one
element besides Fe that the emulator models); they have no twin, so their ``group`` is −1.
"""
from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ml.synth.gridbuilder import GridSpec, build_grid  # noqa: E402

PAYNE = Path(__file__).resolve().parent.parent.parent / "shared/data/payne/binspec2018_NN_normalized_spectra_5label.npz"
GRIDS = {
    "analytic": {"teff": (3200.0, 6000.0, 200.0), "logg": (0.0, 2.6, 0.2), "chemistry": None,
                 "peculiar_elements": ("Mn", "V", "Co", "Ce")},
    "payne": {"teff": (4400.0, 6800.0, 200.0), "logg": (4.0, 4.9, 0.1), "chemistry": ("fe_h", "Mg_Fe"),
              "peculiar_elements": ("Mg",)},
}


def _points(axis: tuple[float, float, float]) -> int:
    start, stop, step = axis
    return int(round((stop - start) / step)) + 1


def make(name: str, spectra: int, snr: float, seed: int, out: Path, peculiar: float = 0.0) -> Path:
    """Write ``out/NAME.npz``; ``snr`` inf = noiseless; ``peculiar`` the fraction of injected stars."""
    setup = GRIDS[name]
    per_profile = _points(setup["teff"]) * _points(setup["logg"])
    n_profiles = math.ceil(spectra / per_profile)
    spec = GridSpec(band="apogee", n_profiles=n_profiles, teff=setup["teff"], logg=setup["logg"],
                    snr=None if math.isinf(snr) else snr, seed=seed,
                    peculiar=int(round(peculiar * n_profiles * per_profile)), peculiar_elements=setup["peculiar_elements"])
    if name == "analytic":
        from ml.synth.stellar import StellarSpectrumModel

        model = StellarSpectrumModel("apogee")
    else:
        from ml.synth.payne import PayneEmulator

        model = PayneEmulator(PAYNE, band="apogee")
    started = time.perf_counter()
    grid = build_grid(spec, model, batch_size=512)
    chemistry = setup["chemistry"] or [key for key in grid.labels if key not in ("teff", "logg")]
    path = out / f"{name}.npz"
    np.savez(path, flux=grid.flux.astype(np.float32), teff=grid.labels["teff"], logg=grid.labels["logg"],
             group=grid.group, **{key: grid.labels[key] for key in chemistry})
    print(f"{path}: {len(grid.group)} spectra ({spec.peculiar} peculiar), {spec.n_profiles} profiles, "
          f"chemistry {', '.join(chemistry)}, S/N {snr:g} "
          f"({time.perf_counter() - started:.0f} s)")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--snr", type=float, default=50.0, help="per-pixel S/N; inf for noiseless")
    parser.add_argument("--spectra", type=int, default=15_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only", choices=sorted(GRIDS))
    parser.add_argument("--peculiar", type=float, default=0.0, help="fraction of stars with one element enhanced")
    args = parser.parse_args()
    if not (args.snr > 0 and 0.0 <= args.peculiar < 1.0):
        parser.error("--snr must be positive (inf for noiseless) and --peculiar in [0, 1)")
    args.out.mkdir(parents=True, exist_ok=True)
    for name in [args.only] if args.only else GRIDS:
        make(name, args.spectra, args.snr, args.seed, args.out, args.peculiar)


if __name__ == "__main__":
    main()
