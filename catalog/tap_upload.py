"""Tables a user sends with a TAP query and joins as ``TAP_UPLOAD.<name>`` (TAP 1.1, section 2.5).

A request names its tables in ``UPLOAD=name,param:part[;name2,param:part2]``; each part of the
multipart request is a VOTable (what TOPCAT and pyvo send). The table is read here into plain rows,
checked against the limits, and lives for one query only: a temporary table of the query's own
transaction (``catalog.selectors.tap.run_adql``), gone when it ends. An asynchronous job keeps its
tables as JSON with the job (``TapJob.uploads``), so the worker that runs it needs nothing but the
database.

Column names become ADQL regular identifiers (lower case; other characters become ``_``), so that
``u.ra`` finds a VOTable column named ``RA``; values a VOTable masks, empty text and NaN become NULL.
"""
from __future__ import annotations

import io
import math
import re
from dataclasses import dataclass

import numpy as np

MAX_TABLES = 8  # tables in one request
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,62}$")


class UploadError(ValueError):
    """An upload that cannot be used: the message names the table (and column) and says why."""


@dataclass
class UploadTable:
    """One uploaded table: its ADQL name (lower case), columns as (name, PostgreSQL type), and rows."""

    name: str
    columns: list[tuple[str, str]]
    rows: list[list]

    def to_json(self) -> dict:
        return {"name": self.name, "columns": [list(column) for column in self.columns], "rows": self.rows}

    @classmethod
    def from_json(cls, stored: dict) -> "UploadTable":
        return cls(name=stored["name"], columns=[tuple(column) for column in stored["columns"]], rows=stored["rows"])


def upload_parts(value: str) -> list[tuple[str, str]]:
    """``UPLOAD``'s (table name, request part) pairs, table names lower case; UploadError on a
    malformed value, a name ADQL cannot use, a name given twice, or a URI other than ``param:``."""
    pairs = []
    for item in filter(None, (item.strip() for item in value.split(";"))):
        name, comma, uri = (text.strip() for text in item.partition(","))
        if not comma or not uri:
            raise UploadError(f"UPLOAD={item!r}: give name,param:part (the table's name, then the request part that holds it)")
        if not _NAME.match(name):
            raise UploadError(f"UPLOAD table name {name!r}: a letter, then letters, digits or _ (at most 63)")
        if not uri.startswith("param:") or not uri[len("param:"):]:
            raise UploadError(f"UPLOAD {name}: only tables sent inline with the request are taken (param:part), "
                              f"not {uri!r}")
        if name.lower() in (seen for seen, _ in pairs):
            raise UploadError(f"UPLOAD names the table {name!r} twice")
        pairs.append((name.lower(), uri[len("param:"):]))
    if len(pairs) > MAX_TABLES:
        raise UploadError(f"UPLOAD names {len(pairs)} tables; at most {MAX_TABLES}")
    return pairs


def read_votable(name: str, content: bytes, *, max_rows: int) -> UploadTable:
    """The first table of a VOTable document as an :class:`UploadTable` named ``name``; UploadError
    when it is not a VOTable, holds no table, has more than ``max_rows`` rows, or has a column of
    arrays (only scalar columns can be joined)."""
    from astropy.io.votable import parse

    try:
        document = parse(io.BytesIO(content), verify="ignore")
        table = document.get_first_table().to_table(use_names_over_ids=True)
    except IndexError:
        raise UploadError(f"TAP_UPLOAD.{name} holds no table") from None
    except Exception as error:  # astropy raises many kinds for a file that is not a VOTable
        raise UploadError(f"TAP_UPLOAD.{name} is not a readable VOTable: {_first_line(error)}") from None
    if len(table) > max_rows:
        raise UploadError(f"TAP_UPLOAD.{name} has {len(table):,} rows; at most {max_rows:,}")
    if not table.colnames:
        raise UploadError(f"TAP_UPLOAD.{name} has no columns")
    names = column_names(table.colnames)
    columns, values = [], []
    for original, column_name in zip(table.colnames, names):
        column = table[original]
        if column.ndim > 1:
            raise UploadError(f"TAP_UPLOAD.{name}.{original} holds arrays; only columns of single values can be uploaded")
        kind = _sql_type(column.dtype)
        if kind is None:
            raise UploadError(f"TAP_UPLOAD.{name}.{original}: values of type {column.dtype} cannot be uploaded")
        columns.append((column_name, kind))
        values.append(_cells(column, kind, f"TAP_UPLOAD.{name}.{original}"))
    return UploadTable(name=name, columns=columns, rows=[list(row) for row in zip(*values)])


def column_names(names: list[str]) -> list[str]:
    """VOTable column names as unique ADQL regular identifiers: lower case, other characters as ``_``,
    ``c_`` before a leading digit or ``_``, ``_2``, ``_3`` … after a repeat."""
    out: list[str] = []
    for name in names:
        plain = re.sub(r"[^a-z0-9_]", "_", name.strip().lower()) or "c"
        if not plain[0].isalpha():
            plain = f"c_{plain}"
        candidate, count = plain[:63], 1
        while candidate in out:
            count += 1
            candidate = f"{plain[:60]}_{count}"
        out.append(candidate)
    return out


def _sql_type(dtype: np.dtype) -> str | None:
    return {"b": "boolean", "i": "bigint", "u": "bigint" if dtype.itemsize < 8 else "numeric",
            "f": "double precision", "U": "text", "S": "text", "O": "text"}.get(dtype.kind)


def _cells(column, kind: str, label: str) -> list:
    """A column's values as plain Python values, None where masked, NaN or empty text."""
    mask = np.ma.getmaskarray(column) if hasattr(column, "mask") else np.zeros(len(column), bool)
    data = np.asarray(column.data if hasattr(column, "mask") else column)
    cells = []
    for masked, value in zip(mask, data.tolist()):
        if isinstance(value, (list, tuple, np.ndarray)):  # a variable-length array (arraysize="*")
            raise UploadError(f"{label} holds arrays; only columns of single values can be uploaded")
        if masked or value is None or (isinstance(value, float) and math.isnan(value)):
            cells.append(None)
        elif kind == "text":  # an empty cell is the VOTable's null for text
            text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
            cells.append(text or None)
        else:
            cells.append(value)
    for row, value in enumerate(cells, start=1):
        if kind == "text" and value is not None and "\x00" in value:
            raise UploadError(f"{label}, row {row}: text with a NUL character")
    return cells


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
