"""A star's spectrum as a file to open elsewhere: FITS (a binary table) or ECSV, and a twins list
as a tarball of such files.

Both formats hold one row per pixel, with the columns specutils' generic table reader looks for:

- ``wavelength``: vacuum Å (every survey Doppel holds publishes vacuum wavelengths),
- ``flux``: the survey's unit (``1e-17 erg / (s cm2 Angstrom)`` for SDSS; dimensionless where the
  survey's spectra are continuum-normalised),
- ``error``: the 1σ flux error in the flux's unit (absent when the catalog holds none),
- ``mask``: True for a pixel not to use (flux not finite, or an error that is not finite or ≤ 0).

The provenance (Doppel's star and spectrum ids, the source file and its sha256, the survey and its
resolving power, coordinates and cross-identifiers) is in the FITS headers and the ECSV's meta.

``specutils.Spectrum.read(path)`` reads a file with a physical flux unit as it is. A normalised
spectrum has a dimensionless flux, which specutils cannot tell from any other column, so name the
columns: ``Spectrum.read(path, format="tabular-fits", column_mapping=COLUMN_MAPPING)`` (or
``"ECSV"``), or use ``doppel.client``.
"""
from __future__ import annotations

import datetime as dt
import io
import tarfile
import warnings
from dataclasses import dataclass
from pathlib import PurePosixPath

import numpy as np

FORMATS = {"fits": "application/fits", "ecsv": "text/x-ecsv; charset=utf-8"}
# How specutils reads a normalised spectrum's file ("": a dimensionless flux, which FITS writes without a unit).
COLUMN_MAPPING = {"wavelength": ("spectral_axis", "Angstrom"), "flux": ("flux", ""), "error": ("uncertainty", "")}


@dataclass(frozen=True)
class SpectrumRecord:
    """One stored spectrum with what a file about it records. Wavelength in vacuum Å, shape (n,);
    flux and error (or None) in ``flux_unit``, shape (n,)."""

    designation: str
    star_id: int
    spectrum_id: int
    survey: str
    resolution: float  # R = λ/Δλ
    flux_unit: str  # the survey's text, e.g. "normalised" or "1e-17 erg/s/cm2/Å"
    wavelength: np.ndarray
    flux: np.ndarray
    error: np.ndarray | None
    ra: float  # deg, ICRS
    dec: float  # deg, ICRS
    source_file: str = ""
    source_sha256: str = ""
    source_key: str = ""
    snr: float | None = None
    identifiers: dict | None = None  # {"gaia_source_id": int, "apogee_id": str, "sdss_id": "plate-mjd-fiber"}


def record_of(spectrum) -> SpectrumRecord:
    """The record of a ``catalog.models.Spectrum`` (its star and survey loaded)."""
    star, survey = spectrum.star, spectrum.survey
    sdss = (f"{star.sdss_plate}-{star.sdss_mjd}-{star.sdss_fiber}"
            if None not in (star.sdss_plate, star.sdss_mjd, star.sdss_fiber) else None)
    return SpectrumRecord(
        designation=star.designation, star_id=star.pk, spectrum_id=spectrum.pk, survey=survey.code,
        resolution=survey.resolution, flux_unit=survey.flux_unit, wavelength=survey.wavelength_array,
        flux=spectrum.flux_array, error=spectrum.error_array, ra=star.ra, dec=star.dec,
        source_file=spectrum.source_file, source_sha256=spectrum.source_sha256, source_key=spectrum.source_key,
        snr=spectrum.snr, identifiers={"gaia_source_id": star.gaia_source_id, "apogee_id": star.apogee_id, "sdss_id": sdss})


def flux_unit(text: str):
    """The astropy unit of a survey's flux text: dimensionless for a normalised flux."""
    import astropy.units as u

    cleaned = text.strip().replace("Å", "Angstrom")
    if cleaned.lower() in ("", "normalised", "normalized", "relative"):
        return u.dimensionless_unscaled
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", u.UnitsWarning)  # "erg/s/cm2/Angstrom": several slashes, one meaning
        return u.Unit(cleaned)


def bad_pixels(flux: np.ndarray, error: np.ndarray | None) -> np.ndarray:
    """True where a pixel should not be used: flux not finite, or an error not finite or ≤ 0."""
    bad = ~np.isfinite(flux)
    if error is not None:
        bad |= ~np.isfinite(error) | (error <= 0)
    return bad


def spectrum_table(record: SpectrumRecord):
    """An astropy Table of the spectrum (columns above) with its provenance in ``meta``."""
    import astropy.units as u
    from astropy.table import Table

    unit = flux_unit(record.flux_unit)
    columns = {"wavelength": np.asarray(record.wavelength, np.float64) * u.AA,
               "flux": np.asarray(record.flux, np.float32) * unit}
    if record.error is not None:
        columns["error"] = np.asarray(record.error, np.float32) * unit
    columns["mask"] = bad_pixels(np.asarray(record.flux), None if record.error is None else np.asarray(record.error))
    table = Table(columns, meta=_provenance(record))
    table["wavelength"].description = "vacuum wavelength"
    table["flux"].description = f"flux ({record.flux_unit})"
    if "error" in table.colnames:
        table["error"].description = "1 sigma flux error"
    table["mask"].description = "true: do not use this pixel"
    return table


def _provenance(record: SpectrumRecord) -> dict:
    from importlib.metadata import version

    meta = {"ORIGIN": "Doppel", "DATE": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S"),
            "OBJECT": record.designation, "RA": record.ra, "DEC": record.dec, "RADESYS": "ICRS",
            "SURVEY": record.survey, "SPEC_RES": record.resolution, "AIRORVAC": "vac",
            "FLUXUNIT": _unit_text(record.flux_unit),
            "STAR_ID": record.star_id, "SPEC_ID": record.spectrum_id, "SRCFILE": PurePosixPath(record.source_file).name,
            "SRCSHA": record.source_sha256, "SRCKEY": record.source_key, "DOPPELV": version("doppel")}
    if record.snr is not None:
        meta["SNR"] = round(float(record.snr), 2)
    for key, value in (record.identifiers or {}).items():
        if value not in (None, ""):
            meta[{"gaia_source_id": "GAIA_ID", "apogee_id": "APOGEEID", "sdss_id": "SDSS_ID"}[key]] = value
    return meta


def _unit_text(text: str) -> str:
    """The flux unit as FITS writes it, or "normalised"."""
    unit = flux_unit(text)
    return "normalised" if unit.physical_type == "dimensionless" else unit.to_string("fits")


COMMENTS = {"ORIGIN": "written by Doppel", "DATE": "UTC the file was written", "OBJECT": "Doppel star designation",
            "RA": "[deg] ICRS", "DEC": "[deg] ICRS", "SURVEY": "survey of this spectrum", "SPEC_RES": "resolving power R",
            "AIRORVAC": "wavelengths in vacuum", "FLUXUNIT": "flux unit, or normalised (continuum = 1)",
            "STAR_ID": "Doppel star id", "SPEC_ID": "Doppel spectrum id", "SRCFILE": "file the spectrum was ingested from",
            "SRCSHA": "sha256 of that file", "SRCKEY": "HDU or row inside that file", "DOPPELV": "Doppel version",
            "SNR": "median S/N per pixel", "GAIA_ID": "Gaia DR3 source_id", "APOGEEID": "APOGEE id",
            "SDSS_ID": "SDSS plate-mjd-fiber"}


def fits_bytes(table) -> bytes:
    """A FITS file: an empty primary HDU and the table in HDU 1 (``SPECTRUM``), both with the
    provenance cards."""
    from astropy.io import fits

    bare = table.copy(copy_data=False)
    bare.meta = {}
    hdu = fits.table_to_hdu(bare)
    hdu.name = "SPECTRUM"
    primary = fits.PrimaryHDU()
    for header in (primary.header, hdu.header):
        for key, value in table.meta.items():
            comment = COMMENTS.get(key, "")  # where the card has room for it (80 characters)
            header[key] = (value, comment if len(str(value)) + len(comment) <= 62 else "")
    out = io.BytesIO()
    fits.HDUList([primary, hdu]).writeto(out, checksum=True)
    return out.getvalue()


def ecsv_bytes(table) -> bytes:
    """An ECSV 1.0 text file; the provenance is in its YAML header's meta."""
    out = io.StringIO()
    table.write(out, format="ascii.ecsv")
    return out.getvalue().encode()


def encode(record: SpectrumRecord, fmt: str) -> bytes:
    """The file's bytes in ``fmt`` (a key of FORMATS)."""
    table = spectrum_table(record)
    return fits_bytes(table) if fmt == "fits" else ecsv_bytes(table)


def file_name(record: SpectrumRecord, fmt: str) -> str:
    """e.g. ``doppel-2M00000002+7417074-apogee-12.fits`` (designation, survey, spectrum id)."""
    return f"doppel-{safe_name(record.designation)}-{record.survey}-{record.spectrum_id}.{fmt}"


def safe_name(text: str) -> str:
    """``text`` fit for a file name: letters, digits and + - . _ kept, anything else as _."""
    return "".join(c if c.isalnum() or c in "+-._" else "_" for c in text)


def twins_tarball(query: SpectrumRecord, twins: list[tuple[SpectrumRecord, dict]], fmt: str = "fits") -> bytes:
    """A gzipped tar of the query's spectrum and each twin's (the spectra whose latents matched),
    with ``twins.ecsv``: one row per file, rank 0 being the query, and each twin's row (distance,
    Teff, logg, [Fe/H]) as the twins list gave it."""
    from astropy.table import Table

    files, index = [], []
    for rank, (record, row) in enumerate([(query, {})] + twins):
        name = file_name(record, fmt)
        files.append((name, encode(record, fmt)))
        index.append({"rank": rank, "designation": record.designation, "star_id": record.star_id,
                      "spectrum_id": record.spectrum_id, "survey": record.survey, "file": name,
                      **{key: row.get(key) for key in ("distance", "teff", "logg", "fe_h", "alpha_fe")}})
    table = Table(rows=[[r[key] if r[key] is not None else np.nan for key in index[0]] for r in index], names=list(index[0]))
    table.meta = {"query": query.designation, "description": "rank 0 is the query star; distance is in the latent space"}
    files.append(("twins.ecsv", ecsv_bytes(table)))
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        for name, data in files:
            info = tarfile.TarInfo(name)
            info.size, info.mtime = len(data), int(dt.datetime.now().timestamp())
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()
