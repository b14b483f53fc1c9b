"""The validation set shared by ``bench/peculiar.py`` and ``bench/groups.py``.

Per generator (the analytic model and the Payne emulator, ``bench/make_grids.py``): a grid of about
15,000 APOGEE-format spectra in which 1 % of the stars have one element enhanced by +0.3 to +1.0 dex
(their ``group`` is −1), at S/N 50 and the same stars noiseless; the ``twins`` preset trained on the
S/N 50 grid for ``--minutes`` (``ml.disentangler.grid_eval``, chemistry never seen), its latents
of both grids and, on request, its decoder's residuals. Everything is cached under ``WORK`` (grids, model, latents), so the second bench
reuses what the first one built.
"""
from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from make_grids import make  # noqa: E402

from ml.disentangler import TrainedDisentangler  # noqa: E402
from ml.disentangler.grid_eval import load_grid, run  # noqa: E402
from ml.evaluate import PolyDis  # noqa: E402

GENERATORS = ("analytic", "payne")
SNRS = (math.inf, 50.0)
PECULIAR_FRACTION = 0.01
BASIS_SAMPLE = 20_000  # catalog.services.peculiar.BASIS_SAMPLE


@dataclass
class Injected:
    """One generator at one S/N: the grid's arrays and three representations of its stars."""

    generator: str
    snr: float
    grid: dict[str, np.ndarray]  # flux (N, P), teff, logg, group (N,): −1 = injected peculiar star
    representations: dict[str, np.ndarray]  # "z", "PolyDis", "X": (N, D) each

    @property
    def peculiar(self) -> np.ndarray:
        return self.grid["group"] < 0


def _snr_name(snr: float) -> str:
    return "inf" if math.isinf(snr) else f"{snr:g}"


def decoder_residual(model, flux: np.ndarray, parameters: np.ndarray, seed: int = 0) -> np.ndarray:
    """What the disentangler cannot explain, as the catalog scores it (``catalog.services.peculiar``):
    the residual flux − D(E(x, cp), cp) on a ``ml.peculiar.ResidualBasis`` fitted to a sample of
    the catalog's size (``BASIS_SAMPLE`` spectra). (N, 25)."""
    from ml.peculiar import ResidualBasis

    residual = model.residual(flux, parameters)
    sample = np.random.default_rng(seed).choice(len(flux), min(BASIS_SAMPLE, len(flux)), replace=False)
    return ResidualBasis.fit(residual[np.sort(sample)]).project(residual)


def prepare(work: Path, *, spectra: int = 15_000, minutes: float = 20.0, seed: int = 0,
            generators=GENERATORS, residual: bool = False, log=print):
    """Yield an :class:`Injected` per (generator, S/N), building and training what is not cached;
    with ``residual``, the representations include the decoder residual."""
    for generator in generators:
        paths = {}
        for snr in SNRS:
            folder = work / "grids" / f"snr{_snr_name(snr)}"
            paths[snr] = folder / f"{generator}.npz"
            if not paths[snr].exists():
                folder.mkdir(parents=True, exist_ok=True)
                make(generator, spectra, snr, seed, folder, PECULIAR_FRACTION)
        model_dir = work / "runs" / generator
        if not (model_dir / "model.pt").exists():
            log(f"training the twins preset on {paths[50.0]} for up to {minutes:g} min")
            run(load_grid(paths[50.0]), preset="twins", minutes=minutes, out=model_dir, seed=seed, log=log)
        model = TrainedDisentangler.load(model_dir / "model.pt", device="cpu")
        for snr in SNRS:
            grid = load_grid(paths[snr])
            parameters = np.stack([grid["teff"], grid["logg"]], axis=1).astype(np.float32)
            cached = model_dir / f"z_snr{_snr_name(snr)}.npy"
            if not cached.exists():
                np.save(cached, model.encode(grid["flux"], parameters))
            latents = np.load(cached)
            polydis = PolyDis(seed=seed).fit(grid["flux"], parameters).transform(grid["flux"], parameters)
            representations = {"z": latents, "PolyDis": polydis, "X": grid["flux"]}
            if residual:
                representations["decoder residual"] = decoder_residual(model, grid["flux"], parameters, seed)
            yield Injected(generator, snr, grid, representations)


def add_arguments(parser) -> None:
    parser.add_argument("--work", type=Path, default=ROOT / "bench" / "out" / "injected",
                        help="where the grids, models and latents are cached")
    parser.add_argument("--minutes", type=float, default=20.0, help="training budget per generator")
    parser.add_argument("--spectra", type=int, default=15_000, help="spectra per grid")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only", choices=GENERATORS, help="one generator")
