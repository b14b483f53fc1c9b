"""Measuring the Balmer lines of one spectrum (Xue et al. 2008 Sérsic fits), shared by the ingest
service that stores them and the selector that shows an unmeasured spectrum's lines. It computes
and returns an unsaved ``BalmerLines``; it never writes."""
from __future__ import annotations

import math

import numpy as np

from catalog.models import BalmerLines


def balmer_lines_measure(*, spectrum_id: int, wavelength: np.ndarray, flux: np.ndarray,
                         error: np.ndarray | None) -> BalmerLines:
    """The (unsaved) measurement of one spectrum: wavelength (P,) Å, flux and error (P,) in any one
    unit. A spectrum that cannot be measured gets null values and the reason in ``problem``."""
    from ml.balmer import measure, xue_cuts

    try:
        measured = measure(wavelength, flux, error)
    except ValueError as error_message:
        return BalmerLines(spectrum_id=spectrum_id, problem=str(error_message)[:200])
    values = {name: getattr(measured, name) for name in ("d02", "fm", "c", "b")}
    if not all(math.isfinite(value) for value in values.values()):
        return BalmerLines(spectrum_id=spectrum_id, problem="the Sérsic fit gave a non-finite value")
    return BalmerLines(spectrum_id=spectrum_id, **values, converged=measured.ok, xue_bhb=xue_cuts(measured))
