"""Training snapshots: the arrays a model version trains on, cached on disk per snapshot.

Each snapshot is written once (``<cache>/datasets/<fingerprint>/*.npy``, read back as memmaps), so
a retrain, a resumed run or a second variant re-reads nothing from PostgreSQL. The fingerprint
covers the selection and the rows it matches (count and largest ids of spectra and labels), so new
data means a new snapshot. A snapshot is written to a temporary folder and renamed: whole or absent.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from django.conf import settings
from django.db import connection

from catalog.bulk_copy import read_rows
from catalog.model_config import ConfigError
from catalog.selectors.datasets import BHB_INPUTS_SQL, bhb_inputs, embeddable_sql, survey_by_code
from catalog.services.retention import snapshots_prune

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


def _fingerprint(parts: dict) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _load_cached(directory: Path, names: list[str]) -> dict | None:
    if not (directory / "complete").exists():
        return None
    (directory / "complete").touch()  # recently used: the cache's LRU eviction reads this
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
    snapshots_prune(cache_root=directory.parent.parent, max_bytes=settings.SNAPSHOT_CACHE_BYTES, keep=directory.name)


def disentangler_dataset(*, config: dict, cache_root: Path, abundances: list[str] | None = None) -> DisentanglerDataset:
    """The training set of a disentangler config (spectra, conditional parameters, groups, labels)."""
    sql, params = embeddable_sql(config, training=True)
    survey = survey_by_code(config["survey"])
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


def bhb_dataset(*, config: dict, cache_root: Path) -> BHBDataset:
    """The labelled training set of a BHB config, cached per snapshot like the disentangler's."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*), max(st.id), max(b.id) " + BHB_INPUTS_SQL
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
