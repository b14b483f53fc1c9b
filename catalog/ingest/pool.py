"""Reading survey files side by side: parsing FITS and measuring the Balmer lines of SDSS spectra
are CPU work that needs no database, so a pool of reader processes does it while one process
stores what they return, in file order.

Readers are started with ``spawn`` (a fresh interpreter that imports the readers only): nothing
of the storing process (its database connection, the broker's sockets) is inherited.
"""
from __future__ import annotations

import hashlib
import multiprocessing
import traceback
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Iterable, Iterator

from catalog.balmer import balmer_records_measure
from catalog.ingest.detect import read_any
from catalog.ingest.records import BadInput


@dataclass
class ReadFile:
    """What reading one file gave: its records, or why it has none."""

    path: Path
    sha256: str | None = None  # of the file's bytes
    records: list | None = None
    bad_input: str | None = None  # a one-line reason (BadInput)
    unexpected: str | None = None  # a reader's own failure: the traceback


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_file(path: Path, file_format: str = "auto") -> ReadFile:
    """Hash and parse one file, and measure what is measured on ingest; never raises."""
    result = ReadFile(path=Path(path))
    try:
        if not result.path.is_file():
            raise BadInput("no such file")
        result.sha256 = file_sha256(result.path)
        result.records = read_any(result.path, file_format)
        if not result.records:
            raise BadInput("the file holds no spectra or images")
        balmer_records_measure(result.records)
    except BadInput as error:
        result.records, result.bad_input = None, str(error)
    except Exception:  # a reader tripped on something unforeseen: the storing process reports it
        result.records, result.unexpected = None, traceback.format_exc(limit=8)
    return result


def read_files(paths: Iterable[Path], file_format: str = "auto", jobs: int = 1) -> Iterator[ReadFile]:
    """Each file read, in the order given. With ``jobs`` > 1, that many reader processes parse
    ahead of the caller, at most two files each (memory stays bounded whatever the file count);
    inside a daemonic process (a Celery prefork child cannot have children) files are read here."""
    paths = list(paths)
    if jobs <= 1 or len(paths) < 2 or multiprocessing.current_process().daemon:
        yield from (read_file(path, file_format) for path in paths)
        return
    with ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
        waiting = iter(paths)
        ahead = deque(pool.submit(read_file, path, file_format) for path in islice(waiting, 2 * jobs))
        while ahead:
            result = ahead.popleft().result()
            following = next(waiting, None)
            if following is not None:
                ahead.append(pool.submit(read_file, following, file_format))
            yield result
