"""Gaia DR3 RVS mean spectra as the Gaia archive serves them (CSV, ECSV or VOTable).

One row per source: ``source_id``, ``flux`` and ``flux_error`` as arrays of 2401 values
(normalised flux), on λ = 846 + 0.01·k nm (k = 0..2400). In the archive's CSV the arrays are
written as text like ``"(0.99,1.01,…)"`` or ``"[…]"``; ECSV and VOTable hold them natively. The
archive's table carries no coordinates, so ``ra``/``dec`` columns (deg) are used when present;
without them a row can only attach to a star that is already in the catalog. An optional
``designation`` column names the star (synthetic grids); otherwise it is "Gaia DR3 <source_id>".

A file is one unit: if any row is bad, the whole file is rejected, with the row in the reason.
"""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
from astropy.table import Table

from catalog.ingest.records import BadInput, SpectrumRecord, StarIdentity, check_finite, snr_from_error
from ml import surveys

FORMATS = {".csv": "ascii.csv", ".ecsv": "ascii.ecsv", ".vot": "votable", ".xml": "votable", ".votable": "votable"}


def rvs_format(path: Path) -> str | None:
    for suffix, name in FORMATS.items():
        if path.name.lower().endswith(suffix):
            return name
    return None


def _array(value, what: str, row: int) -> np.ndarray:
    if isinstance(value, str):
        text = value.strip().strip("()[]{}")
        try:
            array = np.array([float(item) for item in text.replace(" ", ",").split(",") if item.strip()], dtype=np.float64)
        except ValueError:
            raise BadInput(f"row {row}: {what} is not a list of numbers") from None
    else:
        array = np.ma.filled(np.ma.asarray(value, dtype=np.float64), np.nan).ravel()
    if array.size != surveys.RVS_N_PIXELS:
        raise BadInput(f"row {row}: {what} has {array.size} values; Gaia RVS spectra have {surveys.RVS_N_PIXELS}")
    return array


def read_gaia_rvs(path: str | Path) -> list[SpectrumRecord]:
    path = Path(path)
    if path.stat().st_size == 0:
        raise BadInput("empty file")
    table_format = rvs_format(path)
    if table_format is None:
        raise BadInput("unknown table format; use .csv, .ecsv or .vot/.xml")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            table = Table.read(path, format=table_format)
    except Exception as error:  # astropy raises many types for malformed tables
        raise BadInput(f"cannot read the {table_format} table ({str(error).splitlines()[0][:120]})") from None
    columns = {name.lower(): name for name in table.colnames}
    missing = [name for name in ("source_id", "flux", "flux_error") if name not in columns]
    if missing:
        raise BadInput(f"missing column(s) {', '.join(missing)} (columns: {', '.join(table.colnames)})")
    if len(table) == 0:
        raise BadInput("the table has no rows")
    records = []
    for row_number, row in enumerate(table):
        try:
            source_id = int(row[columns["source_id"]])
        except (TypeError, ValueError):
            raise BadInput(f"row {row_number}: source_id {row[columns['source_id']]!r} is not an integer") from None
        flux = _array(row[columns["flux"]], "flux", row_number)
        error = _array(row[columns["flux_error"]], "flux_error", row_number)
        try:
            check_finite("flux", flux)
        except BadInput as error_message:
            raise BadInput(f"row {row_number} (source_id {source_id}): {error_message}") from None
        error = np.where(np.isfinite(error) & (error > 0), error, 1e6 * np.nanmedian(error[error > 0]) if (error > 0).any() else 1.0)
        ra = float(row[columns["ra"]]) % 360.0 if "ra" in columns else None
        dec = float(row[columns["dec"]]) if "dec" in columns else None
        group = int(row[columns["group"]]) if "group" in columns else None
        designation = str(row[columns["designation"]]).strip() if "designation" in columns else f"Gaia DR3 {source_id}"
        star = StarIdentity(designation=designation, gaia_source_id=source_id, ra=ra, dec=dec, group=group)
        records.append(SpectrumRecord(star=star, survey="gaia_rvs", flux=flux.astype(np.float32),
                                      error=error.astype(np.float32), snr=snr_from_error(flux, error),
                                      source_key="mean"))
    return records


def write_gaia_rvs(path: str | Path, source_ids, flux: np.ndarray, flux_error: np.ndarray | None,
                   ra=None, dec=None, group=None, designation=None) -> Path:
    """Write N RVS spectra (N, 2401) as CSV (archive-style text arrays), ECSV or VOTable by suffix."""
    path = Path(path)
    table_format = rvs_format(path)
    if table_format is None:
        raise ValueError(f"{path.name}: use a .csv, .ecsv or .vot suffix")
    flux = np.asarray(flux, dtype=np.float32)
    flux_error = np.full_like(flux, 0.005) if flux_error is None else np.asarray(flux_error, dtype=np.float32)
    columns = {"source_id": np.asarray(source_ids, dtype=np.int64)}
    if ra is not None:
        columns["ra"], columns["dec"] = np.asarray(ra, dtype=np.float64), np.asarray(dec, dtype=np.float64)
    if group is not None:
        columns["group"] = np.asarray(group, dtype=np.int64)
    if designation is not None:
        columns["designation"] = [str(name) for name in designation]
    if table_format == "ascii.csv":
        columns["flux"] = ["(" + ",".join(f"{v:.6g}" for v in row) + ")" for row in flux]
        columns["flux_error"] = ["(" + ",".join(f"{v:.4g}" for v in row) + ")" for row in flux_error]
    else:
        columns["flux"], columns["flux_error"] = flux, flux_error
    table = Table(columns)
    table.meta["wavelength"] = "846 + 0.01*k nm, k = 0..2400"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table.write(path, format=table_format, overwrite=True)
    return path
