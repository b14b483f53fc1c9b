"""Opening FITS files with errors an astronomer can act on."""
from __future__ import annotations

import contextlib
import warnings
from pathlib import Path

from astropy.io import fits

from catalog.ingest.records import BadInput


@contextlib.contextmanager
def open_fits(path: str | Path):
    """``fits.open`` that turns empty, truncated or non-FITS files into :class:`BadInput`."""
    path = Path(path)
    if path.stat().st_size == 0:
        raise BadInput("empty file")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            hdus = fits.open(path, memmap=False, lazy_load_hdus=False)
            hdus.verify("silentfix")
    except (OSError, ValueError, TypeError, IndexError) as error:
        raise BadInput(f"not a readable FITS file ({str(error).splitlines()[0][:120]})") from None
    try:
        yield hdus
    except (TypeError, ValueError, IndexError, KeyError, OSError) as error:
        if isinstance(error, BadInput):
            raise
        raise BadInput(f"unexpected FITS content ({type(error).__name__}: {str(error)[:120]})") from None
    finally:
        hdus.close()


def read_data(hdu, what: str):
    """The HDU's data, with a truncated file reported as such."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            data = hdu.data
    except (OSError, ValueError, TypeError) as error:
        raise BadInput(f"{what}: data cannot be read, the file looks truncated ({str(error)[:100]})") from None
    if data is None:
        raise BadInput(f"{what}: HDU has no data")
    return data
