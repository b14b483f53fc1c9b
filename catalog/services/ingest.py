"""Writes. Every change to the catalog goes through these keyword-only functions.

Ingestion rules:
* one file = one transaction: a file is stored whole or not at all;
* a file whose sha256 is already in the catalog is skipped (re-running creates nothing twice);
* every SDSS spectrum gets its Balmer-line measurement (``catalog.balmer``, made where the file
  is read) in the same transaction;
* bad input raises :class:`~catalog.ingest.records.BadInput` inside the reader or here, and the
  caller reports it with the file name and carries on with the next file.
"""
from __future__ import annotations

import functools
import glob
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from django.db import IntegrityError, transaction
from django.db.models import Q

from catalog.arrays import array_to_bytes
from catalog.balmer import BALMER_SURVEYS
from catalog.ingest.detect import SPECTRUM_SUFFIXES
from catalog.ingest.labels import CatalogueMapping, read_catalogue
from catalog.ingest.pool import ReadFile, read_file, read_files
from catalog.ingest.records import (
    BadInput, BHBLabelRecord, ImageRecord, LabelRecord, SpectrumRecord, StarIdentity,
)
from catalog.models import BalmerLines, BHBLabel, Image, Labels, Spectrum, Star, Survey
from ml import surveys

logger = logging.getLogger(__name__)

SURVEYS = {
    "apogee": {"name": "APOGEE", "flux_unit": "normalised", "grid": surveys.apogee_wavelength,
               "resolution": surveys.APOGEE_RESOLUTION},
    "gaia_rvs": {"name": "Gaia RVS", "flux_unit": "normalised", "grid": surveys.rvs_wavelength,
                 "resolution": surveys.RVS_RESOLUTION},
    "sdss": {"name": "SDSS", "flux_unit": "1e-17 erg/s/cm2/Å", "grid": surveys.sdss_wavelength,
             "resolution": surveys.SDSS_RESOLUTION},
}


# --------------------------------------------------------------------------- surveys and stars


def survey_ensure(*, code: str) -> Survey:
    """The Survey row for ``code``, created with its canonical wavelength grid on first use."""
    if code not in SURVEYS:
        raise BadInput(f"unknown survey {code!r}; known: {', '.join(SURVEYS)}")
    spec = SURVEYS[code]
    grid = functools.cache(spec["grid"])  # computed only if the row is created
    survey, _ = Survey.objects.get_or_create(code=code, defaults={
        "name": spec["name"], "resolution": spec["resolution"], "flux_unit": spec["flux_unit"],
        "wavelength": lambda: array_to_bytes(grid()), "n_pixels": lambda: len(grid()),
    })
    return survey


def _star_lookup(identity: StarIdentity) -> Q:
    if identity.sdss_plate is not None:
        return Q(sdss_plate=identity.sdss_plate, sdss_mjd=identity.sdss_mjd, sdss_fiber=identity.sdss_fiber)
    if identity.gaia_source_id is not None:
        return Q(gaia_source_id=identity.gaia_source_id)
    if identity.apogee_id:
        return Q(apogee_id=identity.apogee_id) | Q(designation=identity.designation)
    return Q(designation=identity.designation)


def star_find_or_create(*, identity: StarIdentity) -> Star:
    """The star matching ``identity`` (survey ids first, then designation), created if new."""
    return _star_found_or_created(identity)[0]


def _star_found_or_created(identity: StarIdentity) -> tuple[Star, bool]:
    """The star matching ``identity`` and whether it was created just now."""
    star = Star.objects.filter(_star_lookup(identity)).first()
    if star is not None:
        return star, False
    if identity.ra is None or identity.dec is None:
        raise BadInput(f"star {identity.designation} is not in the catalog and the file gives no RA/Dec")
    if not (0 <= identity.ra < 360 and -90 <= identity.dec <= 90):
        raise BadInput(f"star {identity.designation}: RA {identity.ra} / Dec {identity.dec} out of range")
    return Star.objects.create(
        designation=identity.designation, ra=identity.ra, dec=identity.dec, apogee_id=identity.apogee_id,
        gaia_source_id=identity.gaia_source_id, sdss_plate=identity.sdss_plate, sdss_mjd=identity.sdss_mjd,
        sdss_fiber=identity.sdss_fiber, group=identity.group,
    ), True


# --------------------------------------------------------------------------- files


@dataclass
class FileOutcome:
    path: str
    status: str  # 'ingested', 'skipped' or 'failed'
    reason: str = ""
    n_spectra: int = 0
    n_images: int = 0


@dataclass
class IngestReport:
    outcomes: list[FileOutcome] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for outcome in self.outcomes if outcome.status == status)

    @property
    def n_spectra(self) -> int:
        return sum(outcome.n_spectra for outcome in self.outcomes)

    @property
    def n_images(self) -> int:
        return sum(outcome.n_images for outcome in self.outcomes)

    @property
    def exit_code(self) -> int:
        """0: nothing failed; 1: some files failed; 2: nothing to do or every file failed."""
        failed = self.count("failed")
        if not self.outcomes or failed == len(self.outcomes):
            return 2
        return 1 if failed else 0


def expand_paths(paths: Iterable[str]) -> tuple[list[Path], list[str]]:
    """Files from files, directories (recursively, known suffixes) and globs; plus what matched nothing."""
    files: list[Path] = []
    missing: list[str] = []
    for item in paths:
        matches = sorted(glob.glob(item, recursive=True)) if any(ch in item for ch in "*?[") else [item]
        if not matches or not all(os.path.exists(match) for match in matches):
            missing.append(item)
            continue
        for match in matches:
            path = Path(match)
            if path.is_dir():
                files.extend(sorted(p for p in path.rglob("*") if p.is_file() and _looks_ingestible(p)))
            else:
                files.append(path)
    unique = list(dict.fromkeys(path.resolve() for path in files))
    return unique, missing


def _looks_ingestible(path: Path) -> bool:
    """In a directory scan: FITS files, and tables only when their header names RVS arrays (a
    label catalogue such as labels.csv lying beside the spectra is not a spectrum file)."""
    name = path.name.lower()
    if not name.endswith(SPECTRUM_SUFFIXES):
        return False
    if name.endswith((".fits", ".fit", ".fits.gz")):
        return True
    with open(path, "rb") as handle:
        head = handle.read(65536).lower()
    return b"source_id" in head and b"flux_error" in head


def _ingested_as(sha256: str) -> str | None:
    """The file name under which these exact bytes were ingested, or None (one query)."""
    spectra = Spectrum.objects.filter(source_sha256=sha256).values_list("source_file", flat=True)
    images = Image.objects.filter(source_sha256=sha256).values_list("source_file", flat=True)
    return next(iter(spectra.union(images, all=True)[:1]), None)


def _store(records, path: Path, sha256: str, surveys: dict[str, Survey]) -> FileOutcome:
    """Write one file's records (the caller holds the transaction). ``surveys`` holds the Survey
    rows already known to exist; those this file creates are added to it only when it is stored.

    A star created by this file has no rows but this file's, so its duplicates are looked for in
    what this file has written so far, not in the database."""
    n_spectra = n_images = 0
    known = dict(surveys)
    created: set[int] = set()  # stars this file created
    written: set[tuple] = set()  # (star, survey or None, source_key) this file wrote
    for record in records:
        star, new = _star_found_or_created(record.star)
        if new:
            created.add(star.pk)
        if isinstance(record, SpectrumRecord):
            if record.survey not in known:
                known[record.survey] = survey_ensure(code=record.survey)
            survey = known[record.survey]
            if record.flux.shape != (survey.n_pixels,):
                raise BadInput(f"{star.designation}: spectrum has {record.flux.shape[0]} pixels; the {survey.code} grid has {survey.n_pixels}")
            key = (star.pk, survey.pk, record.source_key)
            if key in written:
                raise BadInput(f"{star.designation}: the file holds two {survey.code} spectra under {record.source_key!r}")
            if star.pk not in created and Spectrum.objects.filter(star=star, survey=survey, source_key=record.source_key).exists():
                raise BadInput(f"duplicate: {star.designation} already has a {survey.code} spectrum ({record.source_key}) from another file")
            spectrum = Spectrum(star=star, survey=survey, snr=record.snr, source_file=path.name,
                                source_sha256=sha256, source_key=record.source_key)
            spectrum.set_arrays(record.flux, record.error)
            spectrum.save(force_insert=True)
            written.add(key)
            if survey.code in BALMER_SURVEYS:  # measured by the reader; stored in the same transaction
                BalmerLines(spectrum_id=spectrum.pk, **record.balmer).save(force_insert=True)
            n_spectra += 1
        elif isinstance(record, ImageRecord):
            key = (star.pk, None, record.source_key)
            if key in written:
                raise BadInput(f"{star.designation}: the file holds two {record.source_key} cutouts")
            if star.pk not in created and Image.objects.filter(star=star, source_key=record.source_key).exists():
                raise BadInput(f"duplicate: {star.designation} already has a {record.source_key} cutout from another file")
            image = Image(star=star, bands=record.bands, pixel_scale=record.pixel_scale, source_file=path.name,
                          source_sha256=sha256, source_key=record.source_key)
            image.set_cube(record.cube)
            image.save(force_insert=True)
            written.add(key)
            n_images += 1
    transaction.on_commit(lambda: surveys.update(known))
    return FileOutcome(path=str(path), status="ingested", n_spectra=n_spectra, n_images=n_images)


def ingest_file(*, path: str | Path, file_format: str = "auto") -> FileOutcome:
    """Read and store one file in one transaction; never raises for bad input."""
    return _store_read(read_file(Path(path), file_format), {})


def _store_read(read: ReadFile, surveys: dict[str, Survey]) -> FileOutcome:
    """Store what a reader gave, in one transaction, unless these bytes are in the catalog already.
    ``surveys``: the Survey rows known to exist, shared by the files of one run."""
    path = read.path
    if read.unexpected is not None:
        logger.error("unexpected error reading %s:\n%s", path, read.unexpected)
        last = read.unexpected.strip().splitlines()[-1]
        return FileOutcome(path=str(path), status="failed", reason=f"unexpected error ({last[:200]})")
    try:
        stored_name = _ingested_as(read.sha256) if read.sha256 else None
        if stored_name == path.name:
            return FileOutcome(path=str(path), status="skipped", reason="already ingested (same sha256)")
        if stored_name is not None:
            return FileOutcome(path=str(path), status="skipped", reason=f"duplicate: same content as {stored_name} (sha256)")
        if read.bad_input is not None:
            raise BadInput(read.bad_input)
        with transaction.atomic():
            return _store(read.records, path, read.sha256, surveys)
    except BadInput as error:
        status = "skipped" if str(error).startswith("duplicate") else "failed"
        return FileOutcome(path=str(path), status=status, reason=str(error))
    except IntegrityError as error:
        return FileOutcome(path=str(path), status="failed", reason=f"rejected by the catalog's rules ({str(error).splitlines()[0]})")
    except Exception as error:  # storing tripped on something unforeseen: report it, keep going
        logger.exception("unexpected error ingesting %s", path)
        return FileOutcome(path=str(path), status="failed", reason=f"unexpected error ({type(error).__name__}: {str(error)[:160]})")


def ingest_paths(*, paths: Iterable[str], file_format: str = "auto",
                 on_file: Callable[[FileOutcome], None] | None = None, jobs: int = 1) -> IngestReport:
    """Ingest every file (one transaction each, in order); ``on_file(outcome)`` as each one ends.
    With ``jobs`` > 1, that many reader processes parse files ahead of this one, which stores them
    (:mod:`catalog.ingest.pool`)."""
    files, missing = expand_paths(paths)
    report = IngestReport(outcomes=[FileOutcome(path=item, status="failed", reason="no such file or no match") for item in missing])
    for outcome in report.outcomes:
        if on_file:
            on_file(outcome)
    surveys: dict[str, Survey] = {}
    for read in read_files(files, file_format, jobs):
        outcome = _store_read(read, surveys)
        report.outcomes.append(outcome)
        if on_file:
            on_file(outcome)
    return report


# --------------------------------------------------------------------------- label catalogues


@dataclass
class LabelImportReport:
    n_rows: int = 0
    n_labels: int = 0
    n_bhb_labels: int = 0
    n_unmatched: int = 0
    n_stars_created: int = 0


def _star_index() -> dict:
    """Existing stars by every key a catalogue can match on."""
    index: dict = {}
    for pk, designation, apogee_id, gaia, plate, mjd, fiber in Star.objects.values_list(
            "pk", "designation", "apogee_id", "gaia_source_id", "sdss_plate", "sdss_mjd", "sdss_fiber"):
        index[("designation", designation)] = pk
        if apogee_id:
            index[("apogee_id", apogee_id)] = pk
        if gaia is not None:
            index[("gaia", gaia)] = pk
        if plate is not None:
            index[("sdss", plate, mjd, fiber)] = pk
    return index


def _key(identity: StarIdentity):
    if identity.sdss_plate is not None:
        return ("sdss", identity.sdss_plate, identity.sdss_mjd, identity.sdss_fiber)
    if identity.gaia_source_id is not None:
        return ("gaia", identity.gaia_source_id)
    if identity.apogee_id:
        return ("apogee_id", identity.apogee_id)
    return ("designation", identity.designation)


def labels_import(*, path: str | Path, mapping: CatalogueMapping, create_missing_stars: bool = False) -> LabelImportReport:
    """Import a label catalogue in one transaction. Rows whose star is not in the catalog are
    counted as unmatched, or create the star when ``create_missing_stars`` and coordinates exist.
    Existing labels of the same (star, source) and BHB labels of the same catalogue are updated."""
    records = read_catalogue(path, mapping)
    report = LabelImportReport(n_rows=len({id(r.star) for r in records}))
    with transaction.atomic():
        index = _star_index()
        labels, bhb_labels = {}, {}
        unmatched: set[int] = set()
        for record in records:
            key = _key(record.star)
            star_id = index.get(key)
            if star_id is None and create_missing_stars and record.star.ra is not None:
                star_id = star_find_or_create(identity=record.star).pk
                index[key] = star_id
                report.n_stars_created += 1
            if star_id is None:
                unmatched.add(id(record.star))  # one row may give a Labels and a BHBLabel record
                continue
            if isinstance(record, LabelRecord):
                labels[star_id] = Labels(star_id=star_id, source=record.source, abundances=record.abundances,
                                         abundance_errors=record.abundance_errors, **record.values)
            elif isinstance(record, BHBLabelRecord):
                bhb_labels[star_id] = BHBLabel(star_id=star_id, is_bhb=record.is_bhb, catalogue=record.catalogue)
        if labels:
            update = [name for name in ("teff", "teff_err", "logg", "logg_err", "fe_h", "fe_h_err", "alpha_fe",
                                        "alpha_fe_err", "abundances", "abundance_errors")]
            Labels.objects.bulk_create(list(labels.values()), batch_size=2000, update_conflicts=True,
                                       unique_fields=["star", "source"], update_fields=update)
        if bhb_labels:
            BHBLabel.objects.bulk_create(list(bhb_labels.values()), batch_size=2000, update_conflicts=True,
                                         unique_fields=["star", "catalogue"], update_fields=["is_bhb"])
    report.n_unmatched = len(unmatched)
    report.n_labels, report.n_bhb_labels = len(labels), len(bhb_labels)
    return report
