"""Opening FITS files with errors an astronomer can act on."""
from __future__ import annotations

import contextlib
import gzip
import math
import warnings
from pathlib import Path

from astropy.io import fits

from catalog.ingest.records import BadInput


BLOCK = 2880  # bytes in a FITS block
CARD = 80
MAX_HEADER_BLOCKS = 1000  # 2.9 MB of header cards: far beyond any survey file
GZIP_MAGIC = b"\x1f\x8b"


def is_gzip(path: str | Path) -> bool:
    with open(path, "rb") as handle:
        return handle.read(2) == GZIP_MAGIC


def _header_cards(stream, first_block: bytes, index: int) -> dict[str, str]:
    """The value strings of one header's cards, up to END (reads whole blocks)."""
    cards, block, blocks = {}, first_block, 1
    while True:
        for start in range(0, BLOCK, CARD):
            card = block[start : start + CARD].decode("ascii", errors="replace")
            keyword = card[:8].strip()
            if keyword == "END":
                return cards
            if card[8:10] == "= ":
                cards.setdefault(keyword, card[10:].split("/")[0].strip())
        if blocks >= MAX_HEADER_BLOCKS:
            raise BadInput(f"HDU {index}: no END card in the first {MAX_HEADER_BLOCKS} header blocks")
        block = stream.read(BLOCK)
        blocks += 1
        if len(block) < BLOCK:
            raise BadInput(f"HDU {index}: the file ends inside its header (truncated)")


def _data_bytes(cards: dict[str, str], index: int) -> int:
    """Bytes of data a header declares: |BITPIX|/8 · GCOUNT · (PCOUNT + Π NAXISn)."""
    try:
        bitpix, naxis = int(cards["BITPIX"]), int(cards["NAXIS"])
        if naxis == 0:
            return 0
        axes = [int(cards[f"NAXIS{i}"]) for i in range(1, naxis + 1)]
        pcount, gcount = int(cards.get("PCOUNT", "0")), int(cards.get("GCOUNT", "1"))
    except (KeyError, ValueError):
        raise BadInput(f"HDU {index}: BITPIX, NAXIS or NAXISn missing or not an integer") from None
    if bitpix not in (8, 16, 32, 64, -32, -64) or min(axes + [pcount, gcount]) < 0:
        raise BadInput(f"HDU {index}: impossible BITPIX or axis lengths")
    return abs(bitpix) // 8 * gcount * (pcount + math.prod(axes))


def fits_layout(path: str | Path, max_bytes: int | None = None) -> list[int]:
    """The data size (bytes) each HDU of a FITS file (plain or gzip) declares, after checking that
    the file holds all of it and, with ``max_bytes``, that the whole (decompressed) file fits under
    it. Reads headers only and streams past the data, so a gzip bomb or a huge declared image costs
    one block of memory. Raises :class:`BadInput` naming the HDU."""
    path = Path(path)
    opener = gzip.open if is_gzip(path) else open
    sizes, total = [], 0
    try:
        with opener(path, "rb") as stream:
            while True:
                block = stream.read(BLOCK)
                if not block.strip(b"\0 "):  # end of file (or trailing padding)
                    break
                index = len(sizes)
                if len(block) < BLOCK and block.startswith((b"SIMPLE", b"XTENSION")):
                    raise BadInput(f"HDU {index}: the file ends inside its header (truncated, or not a FITS file)")
                if len(block) < BLOCK or not block.startswith(b"SIMPLE  =" if index == 0 else b"XTENSION="):
                    if index == 0:
                        raise BadInput("not a FITS file (no SIMPLE card)")
                    break  # trailing bytes after the last HDU: astropy ignores them too
                size = _data_bytes(_header_cards(stream, block, index), index)
                padded = math.ceil(size / BLOCK) * BLOCK
                if max_bytes is not None and total + padded > max_bytes:
                    raise BadInput(f"HDU {index} declares {size / 1e6:.1f} MB of data; the file would be over the "
                                   f"{max_bytes / 1e6:.1f} MB limit")
                remaining = padded
                while remaining:
                    chunk = stream.read(min(remaining, 1 << 20))
                    if not chunk:
                        break
                    remaining -= len(chunk)
                if padded - remaining < size:
                    raise BadInput(f"HDU {index} declares {size:,} bytes of data but the file holds only "
                                   f"{padded - remaining:,} of them (truncated)")
                sizes.append(size)
                total += padded
    except (OSError, EOFError, gzip.BadGzipFile) as error:
        raise BadInput(f"not a readable FITS file ({str(error).splitlines()[0][:100]})") from None
    if not sizes:
        raise BadInput("not a FITS file (no SIMPLE card)")
    return sizes


def gunzip_capped(source: str | Path, target: str | Path, max_bytes: int) -> None:
    """Decompress ``source`` into ``target``, refusing (BadInput) past ``max_bytes`` of output."""
    written = 0
    try:
        with gzip.open(source, "rb") as stream, open(target, "wb") as out:
            while chunk := stream.read(1 << 20):
                written += len(chunk)
                if written > max_bytes:
                    raise BadInput(f"decompresses to more than the {max_bytes / 1e6:.1f} MB limit")
                out.write(chunk)
    except (OSError, EOFError, gzip.BadGzipFile) as error:
        raise BadInput(f"not a readable gzip file ({str(error).splitlines()[0][:100]})") from None


@contextlib.contextmanager
def open_fits(path: str | Path):
    """``fits.open`` that turns empty, truncated or non-FITS files into :class:`BadInput` (files
    reach it through ``detect.read_any``, which has checked their declared sizes: :func:`fits_layout`)."""
    path = Path(path)
    if path.stat().st_size == 0:
        raise BadInput("empty file")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            hdus = fits.open(path, memmap=False, lazy_load_hdus=False)
    except (OSError, ValueError, TypeError, IndexError, fits.VerifyError) as error:
        raise BadInput(f"not a readable FITS file ({str(error).splitlines()[0][:120]})") from None
    try:
        yield hdus  # cards are parsed as the reader asks for them (verifying all first cost a third of a read)
    except fits.VerifyError as error:
        raise BadInput(f"a header card cannot be parsed ({str(error).split(', fix it')[0][:120]})") from None
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
