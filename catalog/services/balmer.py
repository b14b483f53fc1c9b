"""Balmer-line measurements of SDSS spectra (Xue et al. 2008): one ``BalmerLines`` row per spectrum.

New SDSS spectra are measured as they are read (``catalog.balmer`` from ``catalog.ingest.pool``, in
the reader processes) and stored in the same transaction as the spectrum, so every SDSS spectrum
has its row.
``balmer_lines_fill`` measures the spectra stored before this existed (``manage.py
measure_balmer``), a batch per transaction: an interrupted fill leaves whole batches and picks
up where it stopped.
"""
from __future__ import annotations

from typing import Callable

from django.db import transaction

from catalog.arrays import bytes_to_array, bytes_to_error
from catalog.balmer import BALMER_SURVEYS, balmer_lines_measure
from catalog.models import BalmerLines, Survey
from catalog.selectors.stars import balmer_lines_unmeasured


def balmer_lines_fill(*, batch_size: int = 500, on_batch: Callable[[int], None] | None = None) -> int:
    """Measure every SDSS spectrum that has no row yet, ``batch_size`` per transaction, in id order.
    Returns how many spectra it measured; ``on_batch(n)`` after each batch. Running it twice, or
    beside another fill, writes nothing twice (rows that appeared meanwhile are kept as they are)."""
    wavelengths = {survey.pk: survey.wavelength_array for survey in Survey.objects.filter(code__in=BALMER_SURVEYS)}
    written, after = 0, 0
    while True:
        rows = list(balmer_lines_unmeasured().filter(pk__gt=after).order_by("pk")
                    .values_list("pk", "survey_id", "flux", "error")[:batch_size])
        if not rows:
            return written
        measured = []
        for pk, survey_id, flux, error in rows:
            flux = bytes_to_array(flux)
            measured.append(balmer_lines_measure(spectrum_id=pk, wavelength=wavelengths[survey_id], flux=flux,
                                                 error=bytes_to_error(error, flux.size)))
        with transaction.atomic():
            BalmerLines.objects.bulk_create(measured, ignore_conflicts=True)
        written += len(measured)
        after = rows[-1][0]
        if on_batch:
            on_batch(len(measured))
