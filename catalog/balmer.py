"""Measuring the Balmer lines of one spectrum (Xue et al. 2008 Sérsic fits), shared by the ingest
readers, the ingest service that stores them and the selector that shows an unmeasured spectrum's
lines. Nothing here writes, and nothing here needs Django at import: the ingest readers measure
in their own processes (``catalog.ingest.pool``)."""
from __future__ import annotations

import math

import numpy as np

from catalog.arrays import array_to_bytes, bytes_to_array
from ml import surveys

# The surveys whose spectra cover Hδ and Hγ with their continuum windows (4040–4410 Å), each with
# its canonical wavelength grid (the one its Survey row stores), and the measured values that lists
# of stars carry (BHB candidates: the web table, CSV and API).
BALMER_GRIDS = {"sdss": surveys.sdss_wavelength}
BALMER_SURVEYS = tuple(BALMER_GRIDS)
BALMER_COLUMNS = ("d02", "fm", "c", "b", "xue_bhb")


def balmer_values(wavelength: np.ndarray, flux: np.ndarray, error: np.ndarray | None) -> dict:
    """The fields of one spectrum's ``BalmerLines`` row: wavelength (P,) Å, flux and error (P,) in
    any one unit. A spectrum that cannot be measured gets only ``problem``, the reason."""
    from ml.balmer import measure, xue_cuts

    try:
        measured = measure(wavelength, flux, error)
    except ValueError as error_message:
        return {"problem": str(error_message)[:200]}
    values = {name: getattr(measured, name) for name in ("d02", "fm", "c", "b")}
    if not all(math.isfinite(value) for value in values.values()):
        return {"problem": "the Sérsic fit gave a non-finite value"}
    return {**values, "converged": measured.ok, "xue_bhb": xue_cuts(measured)}


def balmer_lines_measure(*, spectrum_id: int, wavelength: np.ndarray, flux: np.ndarray,
                         error: np.ndarray | None):
    """The (unsaved) ``BalmerLines`` of one spectrum: :func:`balmer_values` for ``spectrum_id``."""
    from catalog.models import BalmerLines

    return BalmerLines(spectrum_id=spectrum_id, **balmer_values(wavelength, flux, error))


def balmer_records_measure(records) -> None:
    """Measure each spectrum record of a Balmer survey on that survey's grid as the catalog stores
    it (float32), in place (``SpectrumRecord.balmer``), so that the process that stores the file
    has only to write it."""
    for record in records:
        grid = BALMER_GRIDS.get(getattr(record, "survey", None))
        if grid is not None:
            record.balmer = balmer_values(bytes_to_array(array_to_bytes(grid())), record.flux, record.error)
