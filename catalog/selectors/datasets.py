"""Inference and training inputs read from the catalog, fast (binary COPY, no ORM per row).

A *disentangler* input is every spectrum of ``config.survey`` whose star has ``config.label_source``
labels for all the conditional parameters, narrowed for training by ``config.selection``. The
embedding fill encodes every such spectrum, without the training selection: a star outside the
training ranges still gets a latent, and a twin search can show it.

A *BHB* input is every star with an SDSS spectrum and an ugriz image (the first of each by id), plus
its ``config.catalogue`` label for training.

The cached training snapshots built from these reads are in ``catalog.services.datasets``.
"""
from __future__ import annotations

from typing import Iterator

import numpy as np
from django.db import connection

from catalog.bulk_copy import read_rows
from catalog.model_config import ConfigError
from catalog.models import Survey

# ----------------------------------------------------------------------------- disentangler


def survey_by_code(code: str) -> Survey:
    survey = Survey.objects.filter(code=code).first()
    if survey is None:
        known = ", ".join(Survey.objects.values_list("code", flat=True)) or "none yet"
        raise ConfigError(f"no survey {code!r} in the catalog (known: {known})")
    return survey


def embeddable_sql(config: dict, training: bool) -> tuple[str, list]:
    """FROM/WHERE over spectra s, labels l, stars st for the config (training adds the selection)."""
    survey = survey_by_code(config["survey"])
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
    sql, params = embeddable_sql(config, training)
    if id_range:
        sql, params = sql + " AND s.id BETWEEN %s AND %s", params + list(id_range)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) " + sql, params)
        return int(cursor.fetchone()[0])


class IdRanges(list):
    """Id ranges [(lo, hi), …] in order, and ``total``: how many ids they hold in all."""

    def __init__(self, ranges=(), total: int = 0):
        super().__init__(ranges)
        self.total = total


def _id_ranges(id_column: str, sql: str, params: list, chunk: int) -> IdRanges:
    """Ranges [lo, hi] of the ids that ``SELECT id_column sql`` returns, at most ``chunk`` ids each.
    The server numbers the ids and returns one row per range, so nothing per id crosses the wire
    and no range is counted on its own."""
    if chunk < 1:
        raise ValueError("chunk must be at least 1")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT min(id), max(id), count(*) FROM (SELECT {id_column} AS id, "
                       f"(row_number() OVER (ORDER BY {id_column}) - 1) / %s AS part {sql}) numbered "
                       "GROUP BY part ORDER BY part", [chunk, *params])
        rows = cursor.fetchall()
    return IdRanges([(int(lo), int(hi)) for lo, hi, _ in rows], total=sum(int(n) for _, _, n in rows))


def embeddable_ranges(config: dict, chunk: int) -> IdRanges:
    """Spectrum-id ranges [lo, hi] holding at most ``chunk`` embeddable spectra each, in id order."""
    sql, params = embeddable_sql(config, training=False)
    return _id_ranges("s.id", sql, params, chunk)


def _unembedded_sql(version) -> tuple[str, list]:
    """``embeddable_sql`` narrowed to the spectra without a latent of ``version``."""
    sql, params = embeddable_sql(version.config, training=False)
    return (sql + " AND NOT EXISTS (SELECT 1 FROM catalog_embedding e WHERE e.model_version_id = %s "
                  "AND e.spectrum_id = s.id)", [*params, version.pk])


def unembedded_ranges(version, chunk: int) -> IdRanges:
    """Like :func:`embeddable_ranges`, over the embeddable spectra that have no latent of
    ``version`` yet (one pass: what a finished fill still has to do)."""
    return _id_ranges("s.id", *_unembedded_sql(version), chunk)


def embeddings_missing(version, lo: int, hi: int) -> bool:
    """Whether an embeddable spectrum with id in [lo, hi] still lacks the version's latent (stops
    at the first one)."""
    sql, params = _unembedded_sql(version)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT EXISTS (SELECT 1 {sql} AND s.id BETWEEN %s AND %s)", [*params, lo, hi])
        return bool(cursor.fetchone()[0])


def embeddable_spectra(config: dict, lo: int, hi: int, batch: int = 4096) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """(spectrum_ids (n,), flux (n, P) float32, parameters (n, C) float32 in ``conditional`` order,
    teff_logg (n, 2) float32, NaN = missing) batches for spectrum ids in [lo, hi]."""
    sql, params = embeddable_sql(config, training=False)
    survey = survey_by_code(config["survey"])
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


# ----------------------------------------------------------------------------- BHB


BHB_INPUTS_SQL = """
    FROM catalog_star st
    JOIN LATERAL (SELECT sp.id, sp.flux FROM catalog_spectrum sp JOIN catalog_survey su ON su.id = sp.survey_id
                  WHERE sp.star_id = st.id AND su.code = 'sdss' ORDER BY sp.id LIMIT 1) s ON true
    JOIN LATERAL (SELECT im.id, im.cube, im.height, im.width FROM catalog_image im
                  WHERE im.star_id = st.id ORDER BY im.id LIMIT 1) i ON true
"""


def bhb_eligible_count() -> int:
    """Stars with both an SDSS spectrum and an image (the stars a BHB model scores)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) " + BHB_INPUTS_SQL)
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
            + BHB_INPUTS_SQL + join + "WHERE st.id BETWEEN %s AND %s ORDER BY st.id", params).decode()
        read_rows(cursor, query, ["int8", "bytea", "bytea", "int8", "int8"] + (["bool"] if catalogue else []), on_row)
    n_pixels = Survey.objects.get(code="sdss").n_pixels if spectra else 0
    return (np.asarray(star_ids, np.int64), np.stack(spectra) if spectra else np.zeros((0, n_pixels), np.float32),
            np.stack(images) if images else np.zeros((0, 5, image_size, image_size), np.float32),
            np.asarray(labels, np.int64) if catalogue else None)


def bhb_star_ranges(chunk: int) -> IdRanges:
    """Star-id ranges [lo, hi] holding at most ``chunk`` stars with both modalities each."""
    return _id_ranges("st.id", BHB_INPUTS_SQL, [], chunk)


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
        cursor.execute("SELECT count(*) " + BHB_INPUTS_SQL + "JOIN catalog_bhblabel b ON b.star_id = st.id AND b.catalogue = %s",
                       [config["catalogue"]])
        return int(cursor.fetchone()[0])
