"""Training sets and inference inputs read from the catalog, fast (binary COPY, no ORM per row).

A *disentangler* set is every spectrum of ``config.survey`` whose star has ``config.label_source``
labels for all the conditional parameters, narrowed for training by ``config.selection``. The
embedding fill encodes every such spectrum, without the training selection: a star outside the
training ranges still gets a latent, and a twin search can show it.

A *BHB* set is every star with an SDSS spectrum and an ugriz image (the first of each by id), plus
its ``config.catalogue`` label for training.

Training arrays are cached on disk per dataset snapshot (``<cache>/<fingerprint>/*.npy``, read
back as memmaps), so a retrain, a resumed run or a second variant re-reads nothing from
PostgreSQL. The fingerprint covers the selection and the rows it matches (count and largest ids of
spectra and labels), so new data means a new snapshot.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import numpy as np
from django.db import connection

from catalog.copy import read_rows
from catalog.model_config import ConfigError
from catalog.models import Survey


@dataclass
class DisentanglerDataset:
    """spectrum_ids (N,) int64; flux (N, P) float32 (normalised); parameters (N, C) float32 in
    ``conditional`` order (K, dex); groups (N,) int64 (-1 = none); abundances {name: (N,) float32,
    NaN = missing}; wavelength (P,) Å."""

    spectrum_ids: np.ndarray
    flux: np.ndarray
    parameters: np.ndarray
    groups: np.ndarray
    labels: dict[str, np.ndarray]
    conditional: list[str]
    wavelength: np.ndarray
    fingerprint: str = ""

    def __len__(self) -> int:
        return len(self.spectrum_ids)


@dataclass
class BHBDataset:
    """star_ids (N,); spectra (N, 3522) SDSS flux (1e-17 erg/s/cm²/Å); images (N, 5, H, W);
    labels (N,) 1 = BHB."""

    star_ids: np.ndarray
    spectra: np.ndarray
    images: np.ndarray
    labels: np.ndarray
    fingerprint: str = ""
    extra: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.star_ids)


# ----------------------------------------------------------------------------- disentangler


def _survey(code: str) -> Survey:
    survey = Survey.objects.filter(code=code).first()
    if survey is None:
        known = ", ".join(Survey.objects.values_list("code", flat=True)) or "none yet"
        raise ConfigError(f"no survey {code!r} in the catalog (known: {known})")
    return survey


def _embeddable_sql(config: dict, training: bool) -> tuple[str, list]:
    """FROM/WHERE over spectra s, labels l, stars st for the config (training adds the selection)."""
    survey = _survey(config["survey"])
    clauses = ["s.survey_id = %s"] + [f"l.{name} IS NOT NULL" for name in config["conditional"]]
    params: list = [config["label_source"], survey.pk]
    if training:
        selection = config["selection"]
        if selection.get("snr_min") is not None:
            clauses.append("s.snr >= %s")
            params.append(selection["snr_min"])
        for name in ("teff", "logg"):
            if selection.get(name):
                clauses.append(f"l.{name} BETWEEN %s AND %s")
                params += selection[name]
    sql = ("FROM catalog_spectrum s JOIN catalog_labels l ON l.star_id = s.star_id AND l.source = %s "
           "JOIN catalog_star st ON st.id = s.star_id WHERE " + " AND ".join(clauses))
    return sql, params


def embeddable_count(config: dict, training: bool = False, id_range: tuple[int, int] | None = None) -> int:
    sql, params = _embeddable_sql(config, training)
    if id_range:
        sql, params = sql + " AND s.id BETWEEN %s AND %s", params + list(id_range)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) " + sql, params)
        return int(cursor.fetchone()[0])


def _id_ranges(query: str, params: list, chunk: int) -> list[tuple[int, int]]:
    """Ranges [lo, hi] of the ids ``query`` returns (in order), at most ``chunk`` ids each."""
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        ids = np.fromiter((row[0] for row in cursor.fetchall()), dtype=np.int64)
    return [(int(ids[start]), int(ids[min(start + chunk, len(ids)) - 1])) for start in range(0, len(ids), chunk)]


def embeddable_ranges(config: dict, chunk: int) -> list[tuple[int, int]]:
    """Spectrum-id ranges [lo, hi] holding at most ``chunk`` embeddable spectra each, in id order."""
    sql, params = _embeddable_sql(config, training=False)
    return _id_ranges("SELECT s.id " + sql + " ORDER BY s.id", params, chunk)


def embeddable_spectra(config: dict, lo: int, hi: int, batch: int = 4096) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """(spectrum_ids (n,), flux (n, P) float32, parameters (n, C) float32 in ``conditional`` order,
    teff_logg (n, 2) float32, NaN = missing) batches for spectrum ids in [lo, hi]."""
    sql, params = _embeddable_sql(config, training=False)
    survey = _survey(config["survey"])
    columns = ", ".join(f"l.{name}" for name in [*config["conditional"], "teff", "logg"])
    n_conditional = len(config["conditional"]) + 2
    last = lo - 1
    while True:
        ids, parameters, fluxes = [], [], []

        def on_row(row):
            ids.append(row[0])
            parameters.append(row[1 : 1 + n_conditional])
            fluxes.append(row[-1])

        with connection.cursor() as cursor:
            query = cursor.mogrify(f"SELECT s.id, {columns}, s.flux {sql} AND s.id > %s AND s.id <= %s ORDER BY s.id LIMIT %s",
                                   params + [last, hi, batch]).decode()
            read_rows(cursor, query, ["int8"] + ["float8"] * n_conditional + ["bytea"], on_row)
        if not ids:
            return
        # one copy of the whole batch, no per-row numpy work
        flux = np.frombuffer(bytearray().join(fluxes), dtype="<f4").reshape(len(ids), survey.n_pixels)
        values = np.asarray([[np.nan if v is None else v for v in row] for row in parameters], np.float32)
        yield np.asarray(ids, np.int64), flux, values[:, :-2], values[:, -2:]
        last = ids[-1]
        if len(ids) < batch:
            return


def spectra_flux(spectrum_ids: np.ndarray) -> np.ndarray:
    """Flux (n, P) float32 of these spectra, in the given order (one survey)."""
    rows: dict[int, np.ndarray] = {}
    with connection.cursor() as cursor:
        query = cursor.mogrify("SELECT id, flux FROM catalog_spectrum WHERE id = ANY(%s)", [list(map(int, spectrum_ids))]).decode()
        read_rows(cursor, query, ["int8", "bytea"], lambda row: rows.__setitem__(row[0], np.frombuffer(row[1], dtype="<f4")))
    return np.stack([rows[int(i)] for i in spectrum_ids]).astype(np.float32)


def _fingerprint(parts: dict) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _load_cached(directory: Path, names: list[str]) -> dict | None:
    if not (directory / "complete").exists():
        return None
    return {name: np.load(directory / f"{name}.npy", mmap_mode="r") for name in names}


def _store_cached(directory: Path, arrays: dict[str, np.ndarray], meta: dict) -> None:
    """Write the arrays to a temporary folder and rename it: a cache is whole or absent."""
    temporary = directory.with_name(directory.name + f".tmp{os.getpid()}")
    shutil.rmtree(temporary, ignore_errors=True)
    temporary.mkdir(parents=True)
    for name, array in arrays.items():
        np.save(temporary / f"{name}.npy", array)
    (temporary / "meta.json").write_text(json.dumps(meta, default=str))
    (temporary / "complete").touch()
    try:
        os.replace(temporary, directory)
    except OSError:  # another process cached the same snapshot first
        shutil.rmtree(temporary, ignore_errors=True)


def disentangler_dataset(*, config: dict, cache_root: Path, abundances: list[str] | None = None) -> DisentanglerDataset:
    """The training set of a disentangler config (spectra, conditional parameters, groups, labels)."""
    sql, params = _embeddable_sql(config, training=True)
    survey = _survey(config["survey"])
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*), max(s.id), max(l.id) " + sql, params)
        count, max_spectrum, max_labels = cursor.fetchone()
    if not count:
        raise ConfigError(f"the selection matches no {config['survey']} spectrum with {config['label_source']!r} "
                          f"labels for {', '.join(config['conditional'])}")
    cap = config["selection"].get("max_spectra")
    label_names = list(dict.fromkeys(["teff", "logg", "fe_h", "alpha_fe", *(abundances or [])]))
    fingerprint = _fingerprint({"kind": "disentangler", "survey": survey.pk, "label_source": config["label_source"],
                                "conditional": config["conditional"], "selection": config["selection"],
                                "labels": label_names, "count": count, "max_spectrum": max_spectrum,
                                "max_labels": max_labels})
    directory = Path(cache_root) / "datasets" / fingerprint
    names = ["spectrum_ids", "flux", "parameters", "groups", *[f"label_{name}" for name in label_names]]
    cached = _load_cached(directory, names)
    if cached is None:
        n = count if not cap else min(count, int(cap))
        ids = np.empty(n, np.int64)
        flux = np.lib.format.open_memmap(_scratch(directory), mode="w+", dtype=np.float32, shape=(n, survey.n_pixels))
        groups = np.full(n, -1, np.int64)
        labels = {name: np.full(n, np.nan, np.float32) for name in label_names}
        row_count = 0
        scalar = [name for name in label_names if name in ("teff", "logg", "fe_h", "alpha_fe")]

        def on_row(row):
            nonlocal row_count
            if row_count >= n:
                return
            ids[row_count] = row[0]
            groups[row_count] = -1 if row[1] is None else row[1]
            for k, name in enumerate(scalar):
                labels[name][row_count] = np.nan if row[2 + k] is None else row[2 + k]
            other = row[2 + len(scalar)] or {}
            for name in label_names:
                if name not in scalar and other.get(name) is not None:
                    labels[name][row_count] = other[name]
            flux[row_count] = np.frombuffer(row[-1], dtype="<f4")
            row_count += 1

        # A seeded, reproducible subsample when capped: order by a hash of the id.
        order = "ORDER BY md5(s.id::text)" if cap and cap < count else "ORDER BY s.id"
        with connection.cursor() as cursor:
            query = cursor.mogrify(
                f"SELECT s.id, st.\"group\", {', '.join('l.' + name for name in scalar)}, l.abundances, s.flux {sql} {order}"
                + (" LIMIT %s" if cap else ""), params + ([int(cap)] if cap else [])).decode()
            read_rows(cursor, query, ["int8", "int4"] + ["float8"] * len(scalar) + ["jsonb", "bytea"], on_row)
        flux.flush()
        parameters = np.stack([labels[name] for name in config["conditional"]], axis=1)
        arrays = {"spectrum_ids": ids, "flux": np.asarray(flux), "parameters": parameters, "groups": groups,
                  **{f"label_{name}": values for name, values in labels.items()}}
        _store_cached(directory, arrays, {"count": n, "config": config})
        os.unlink(flux.filename)
        cached = _load_cached(directory, names)
    return DisentanglerDataset(
        spectrum_ids=np.asarray(cached["spectrum_ids"]), flux=cached["flux"], parameters=np.asarray(cached["parameters"]),
        groups=np.asarray(cached["groups"]), conditional=list(config["conditional"]),
        labels={name: np.asarray(cached[f"label_{name}"]) for name in label_names},
        wavelength=survey.wavelength_array, fingerprint=fingerprint)


def _scratch(directory: Path) -> Path:
    """A scratch file beside the cache folder, for building the flux memmap without holding it in RAM."""
    directory.parent.mkdir(parents=True, exist_ok=True)
    return directory.parent / f"{directory.name}.flux.{os.getpid()}.npy"


# ----------------------------------------------------------------------------- BHB


_BHB_INPUTS = """
    FROM catalog_star st
    JOIN LATERAL (SELECT sp.id, sp.flux FROM catalog_spectrum sp JOIN catalog_survey su ON su.id = sp.survey_id
                  WHERE sp.star_id = st.id AND su.code = 'sdss' ORDER BY sp.id LIMIT 1) s ON true
    JOIN LATERAL (SELECT im.id, im.cube, im.height, im.width FROM catalog_image im
                  WHERE im.star_id = st.id ORDER BY im.id LIMIT 1) i ON true
"""


def bhb_eligible_count() -> int:
    """Stars with both an SDSS spectrum and an image (the stars a BHB model scores)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) " + _BHB_INPUTS)
        return int(cursor.fetchone()[0])


def bhb_inputs(*, lo: int = 0, hi: int | None = None, catalogue: str | None = None, image_size: int = 64):
    """(star_ids, spectra (n, 3522), images (n, 5, S, S), labels (n,) or None) for stars with id in
    [lo, hi], ordered by star id. With ``catalogue``, only labelled stars (labels 1 = BHB).
    Images of another size are cropped or zero-padded to S × S around the centre."""
    join = ("JOIN catalog_bhblabel b ON b.star_id = st.id AND b.catalogue = %s " if catalogue else "")
    params = ([catalogue] if catalogue else []) + [lo, hi if hi is not None else 2**62]
    star_ids, spectra, images, labels = [], [], [], []

    def on_row(row):
        star_ids.append(row[0])
        spectra.append(np.frombuffer(row[1], dtype="<f4"))
        cube = np.frombuffer(row[2], dtype="<f4").reshape(5, row[3], row[4])
        images.append(_fit_image(cube, image_size))
        if catalogue:
            labels.append(row[5])

    with connection.cursor() as cursor:
        query = cursor.mogrify(
            "SELECT st.id, s.flux, i.cube, i.height, i.width" + (", b.is_bhb " if catalogue else " ")
            + _BHB_INPUTS + join + "WHERE st.id BETWEEN %s AND %s ORDER BY st.id", params).decode()
        read_rows(cursor, query, ["int8", "bytea", "bytea", "int8", "int8"] + (["bool"] if catalogue else []), on_row)
    n_pixels = Survey.objects.get(code="sdss").n_pixels if spectra else 0
    return (np.asarray(star_ids, np.int64), np.stack(spectra) if spectra else np.zeros((0, n_pixels), np.float32),
            np.stack(images) if images else np.zeros((0, 5, image_size, image_size), np.float32),
            np.asarray(labels, np.int64) if catalogue else None)


def bhb_star_ranges(chunk: int) -> list[tuple[int, int]]:
    """Star-id ranges [lo, hi] holding at most ``chunk`` stars with both modalities each."""
    return _id_ranges("SELECT st.id " + _BHB_INPUTS + " ORDER BY st.id", [], chunk)


def _fit_image(cube: np.ndarray, size: int) -> np.ndarray:
    out = np.zeros((cube.shape[0], size, size), np.float32)
    h, w = min(size, cube.shape[1]), min(size, cube.shape[2])
    top, left = (cube.shape[1] - h) // 2, (cube.shape[2] - w) // 2
    out_top, out_left = (size - h) // 2, (size - w) // 2
    out[:, out_top : out_top + h, out_left : out_left + w] = cube[:, top : top + h, left : left + w]
    return out


def bhb_dataset_size(config: dict) -> int:
    """Labelled stars with both modalities for a BHB config."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) " + _BHB_INPUTS + "JOIN catalog_bhblabel b ON b.star_id = st.id AND b.catalogue = %s",
                       [config["catalogue"]])
        return int(cursor.fetchone()[0])


def bhb_dataset(*, config: dict, cache_root: Path) -> BHBDataset:
    """The labelled training set of a BHB config, cached per snapshot like the disentangler's."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*), max(st.id), max(b.id) " + _BHB_INPUTS
                       + "JOIN catalog_bhblabel b ON b.star_id = st.id AND b.catalogue = %s", [config["catalogue"]])
        count, max_star, max_label = cursor.fetchone()
    if not count:
        raise ConfigError(f"no star has an SDSS spectrum, an image and a {config['catalogue']!r} BHB label")
    fingerprint = _fingerprint({"kind": "bhb", "catalogue": config["catalogue"], "count": count,
                                "max_star": max_star, "max_label": max_label})
    directory = Path(cache_root) / "datasets" / fingerprint
    names = ["star_ids", "spectra", "images", "labels"]
    cached = _load_cached(directory, names)
    if cached is None:
        star_ids, spectra, images, labels = bhb_inputs(catalogue=config["catalogue"])
        _store_cached(directory, {"star_ids": star_ids, "spectra": spectra, "images": images, "labels": labels},
                      {"count": count, "catalogue": config["catalogue"]})
        cached = _load_cached(directory, names)
    labels = np.asarray(cached["labels"])
    if len(np.unique(labels)) < 2:
        raise ConfigError(f"the {config['catalogue']!r} labels hold only one class; a classifier needs both")
    return BHBDataset(star_ids=np.asarray(cached["star_ids"]), spectra=cached["spectra"], images=cached["images"],
                      labels=labels, fingerprint=fingerprint)
