"""Which reader handles a file: by its name first, then by looking inside."""
from __future__ import annotations

import warnings
from pathlib import Path
from typing import Callable

import numpy as np
from astropy.io import fits

from catalog.ingest import apogee, gaia_rvs, images, sdss
from catalog.ingest.fitsio import fits_layout
from catalog.ingest.records import BadInput

READERS: dict[str, Callable] = {
    "sdss": sdss.read_sdss_spec,
    "apstar": apogee.read_apstar,
    "aspcapstar": apogee.read_aspcapstar,
    "gaia_rvs": gaia_rvs.read_gaia_rvs,
    "image": images.read_cutout,
}
SPECTRUM_SUFFIXES = (".fits", ".fit", ".fits.gz", ".csv", ".ecsv", ".vot", ".xml", ".votable")


def detect_format(path: str | Path) -> str:
    path = Path(path)
    name = path.name.lower()
    if name.startswith("spec-"):
        return "sdss"
    if name.startswith("apstar"):
        return "apstar"
    if name.startswith("aspcapstar"):
        return "aspcapstar"
    if name.startswith("img-"):
        return "image"
    if gaia_rvs.rvs_format(path):
        return "gaia_rvs"
    if path.stat().st_size == 0:
        raise BadInput("empty file")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with fits.open(path, memmap=False) as hdus:
                if "COADD" in hdus:
                    return "sdss"
                planes = [h for h in hdus if h.header.get("NAXIS", 0) >= 2 and isinstance(h, (fits.PrimaryHDU, fits.ImageHDU))]
                if len(planes) == 5 or (len(planes) == 1 and planes[0].header.get("NAXIS") == 3):
                    return "image"
                if len(hdus) >= 3 and hdus[1].header.get("NAXIS1") in (8575, 7214):
                    median = float(np.nanmedian(hdus[1].data))
                    return "aspcapstar" if 0.3 < median < 3.0 else "apstar"
    except OSError as error:
        raise BadInput(f"not a readable FITS file ({str(error).splitlines()[0][:100]})") from None
    raise BadInput("cannot tell the format from the name or the content; pass --format")


def read_any(path: str | Path, file_format: str = "auto", max_bytes: int | None = None):
    """Records from one file, with the format detected unless given. A FITS file's declared data
    sizes are checked against the file (truncation) and against ``max_bytes`` before anything
    reads its data (``fitsio.fits_layout``): the one check every reader's input passes."""
    path = Path(path)
    if path.stat().st_size == 0:
        raise BadInput("empty file")
    if gaia_rvs.rvs_format(path) is None:  # not a table: FITS, plain or gzip
        fits_layout(path, max_bytes)
    if file_format == "auto":
        file_format = detect_format(path)
    if file_format not in READERS:
        raise BadInput(f"unknown format {file_format!r}; known: {', '.join(READERS)}")
    return READERS[file_format](path)
