"""Write generated data in the real survey formats, so the demo and the tests go through the
same readers that real data would use."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np

from catalog.ingest import apogee, gaia_rvs, images, sdss
from catalog.ingest.labels import read_table, write_labels_csv
from ml.synth.bhb import bhb_sample
from ml.synth.gridbuilder import GridSpec, iter_grid

GRID_FILE_FORMATS = {"apogee": ("aspcapstar", "apstar"), "gaia_rvs": ("ecsv", "csv", "vot")}
RVS_ROWS_PER_FILE = 1000


def write_grid_files(*, spec: GridSpec, model, out_dir: str | Path, file_format: str | None = None,
                     on_batch: Callable[[int], None] | None = None) -> list[Path]:
    """Write a grid as survey files plus ``labels.csv`` (import it with the 'grid' mapping)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    allowed = GRID_FILE_FORMATS[spec.band]
    file_format = file_format or allowed[0]
    if file_format not in allowed:
        raise ValueError(f"{spec.band} grids are written as {' or '.join(allowed)}, not {file_format!r}")
    written: list[Path] = []
    label_rows: dict[str, list] = {}
    for batch_number, batch in enumerate(iter_grid(spec, model, batch_size=RVS_ROWS_PER_FILE if spec.band == "gaia_rvs" else 256)):
        if spec.band == "apogee":
            writer = apogee.write_aspcapstar if file_format == "aspcapstar" else apogee.write_apstar
            prefix = "aspcapStar" if file_format == "aspcapstar" else "apStar"
            for k, name in enumerate(batch.designation):
                error = None if batch.error is None else batch.error[k]
                written.append(writer(out_dir / f"{prefix}-{name}.fits", name, batch.ra[k], batch.dec[k],
                                      batch.flux[k], error, group=int(batch.group[k])))
        else:
            source_ids = [spec.seed * 10**9 + int(g) * 10**4 + int(name.rsplit("-", 1)[1])
                          for g, name in zip(batch.group, batch.designation)]
            path = out_dir / f"rvs-{spec.seed:03d}-{batch_number:04d}.{file_format}"
            written.append(gaia_rvs.write_gaia_rvs(path, source_ids, batch.flux, batch.error, ra=batch.ra,
                                                   dec=batch.dec, group=batch.group, designation=batch.designation))
        label_rows.setdefault("designation", []).extend(batch.designation)
        label_rows.setdefault("group", []).extend(batch.group.tolist())
        for name, values in batch.labels.items():
            label_rows.setdefault(name, []).extend(np.round(np.asarray(values, dtype=np.float64), 4).tolist())
        if on_batch:
            on_batch(len(batch.designation))
    write_labels_csv(out_dir / "labels.csv", label_rows)
    return written


def load_identifiers(path: str | Path, exclude_column: str | None = None) -> dict[str, np.ndarray]:
    """plate, mjd, fiber, ra, dec from a catalogue (e.g. the Xue tables), to name a sample."""
    table = read_table(path)
    lookup = {name.lower(): name for name in table.colnames}
    keep = np.ones(len(table), dtype=bool)
    if exclude_column and exclude_column in lookup:
        keep = np.asarray(table[lookup[exclude_column]]) == 0
    return {key: np.asarray(table[lookup[key]])[keep] for key in ("plate", "mjd", "fiber", "ra", "dec")}


def _synthetic_identifiers(n: int, rng: np.random.Generator, plate_offset: int) -> dict[str, np.ndarray]:
    index = np.arange(n)
    return {"plate": 9000 + plate_offset + index // 640, "mjd": np.full(n, 59000), "fiber": index % 640 + 1,
            "ra": rng.uniform(0, 360, n), "dec": np.degrees(np.arcsin(rng.uniform(-0.5, 0.9, n)))}


def write_bhb_files(*, out_dir: str | Path, n_bhb: int, n_other: int, seed: int = 0,
                    bhb_identifiers: dict | None = None, other_identifiers: dict | None = None,
                    image_layout: str = "hdus", with_images: bool = True,
                    on_star: Callable[[int], None] | None = None) -> list[Path]:
    """SDSS spec files and ugriz cutouts for a BHB / non-BHB sample, plus ``truth.csv``.

    Stars are named after real plate-mjd-fiber rows when identifier tables are given (so the real
    label catalogues join onto the sample), otherwise after synthetic plates 9000+.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)

    def pick(identifiers, n, plate_offset):
        if identifiers is None:
            return _synthetic_identifiers(n, rng, plate_offset)
        available = len(identifiers["plate"])
        if n > available:
            raise ValueError(f"asked for {n} stars but the identifier table has {available} rows")
        chosen = np.sort(rng.choice(available, size=n, replace=False))
        return {key: values[chosen] for key, values in identifiers.items()}

    ids_bhb, ids_other = pick(bhb_identifiers, n_bhb, 0), pick(other_identifiers, n_other, 500)
    ids = {key: np.concatenate([ids_bhb[key], ids_other[key]]) for key in ids_bhb}
    written: list[Path] = []
    truth: dict[str, list] = {key: [] for key in ("plate", "mjd", "fiber", "ra", "dec", "is_bhb", "d02", "fm", "c", "b",
                                                  "u_g", "g_r", "g_mag", "snr")}
    chunk = 200
    order = np.arange(n_bhb + n_other)
    for start in range(0, len(order), chunk):
        stop = min(start + chunk, len(order))
        n_b = int(np.clip(n_bhb - start, 0, stop - start))
        sample = bhb_sample(n_b, stop - start - n_b, rng, with_images=with_images)
        for k in range(stop - start):
            plate, mjd, fiber = int(ids["plate"][start + k]), int(ids["mjd"][start + k]), int(ids["fiber"][start + k])
            ra, dec = float(ids["ra"][start + k]) % 360.0, float(ids["dec"][start + k])
            written.append(sdss.write_sdss_spec(out_dir / sdss.spec_file_name(plate, mjd, fiber), plate, mjd, fiber, ra, dec,
                                                sample.flux[k], sample.error[k]))
            if with_images:
                written.append(images.write_cutout(out_dir / images.cutout_file_name(plate, mjd, fiber), plate, mjd, fiber,
                                                   ra, dec, sample.images[k], layout=image_layout))
            for key, value in (("plate", plate), ("mjd", mjd), ("fiber", fiber), ("ra", ra), ("dec", dec),
                               ("is_bhb", int(sample.is_bhb[k])), ("d02", sample.d02[k]), ("fm", sample.fm[k]),
                               ("c", sample.c[k]), ("b", sample.b[k]), ("u_g", sample.u_g[k]), ("g_r", sample.g_r[k]),
                               ("g_mag", sample.g_mag[k]), ("snr", sample.snr[k])):
                truth[key].append(round(float(value), 4) if isinstance(value, (float, np.floating)) else value)
        if on_star:
            on_star(stop - start)
    write_labels_csv(out_dir / "truth.csv", truth)
    return written
