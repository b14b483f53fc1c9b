"""PostgreSQL binary COPY: the fast path for bulk rows (grids, embeddings).

Binary COPY sends bytea as raw bytes (no hex or escape encoding) and numbers without text
formatting, which matters when every row carries a 29 kB spectrum. Rows are encoded lazily and
streamed to ``cursor.copy_expert`` through a file-like object, so memory stays flat.

Supported column types: ``int8`` (bigint), ``int4``, ``float8``, ``float4``, ``bool``, ``text``,
``bytea``, ``jsonb``, ``timestamptz`` (a datetime) and ``vector`` (pgvector's binary format:
int16 dim, int16 unused, then float4 values). ``None`` is NULL.
"""
from __future__ import annotations

import datetime as dt
import io
import json
import struct
from typing import Iterable, Iterator, Sequence

import numpy as np

_HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack("!ii", 0, 0)
_TRAILER = struct.pack("!h", -1)
_NULL = struct.pack("!i", -1)
_EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)


def _vector(value) -> bytes:
    array = np.asarray(value, dtype=">f4")
    return struct.pack("!hh", array.size, 0) + array.tobytes()


# the binary COPY value of one non-NULL field, by column type: bytes, or for ``bytea`` any
# contiguous buffer (a NumPy row), passed on uncopied
_ENCODERS = {
    "int8": lambda v: struct.pack("!q", int(v)),
    "int4": lambda v: struct.pack("!i", int(v)),
    "float8": lambda v: struct.pack("!d", float(v)),
    "float4": lambda v: struct.pack("!f", float(v)),
    "bool": lambda v: b"\x01" if v else b"\x00",
    "text": lambda v: str(v).encode(),
    "bytea": lambda v: v if isinstance(v, bytes) else memoryview(v).cast("B"),
    "jsonb": lambda v: b"\x01" + json.dumps(v).encode(),
    "timestamptz": lambda v: struct.pack("!q", int((v - _EPOCH).total_seconds() * 1_000_000)),
    "vector": _vector,
}


def encode_rows(rows: Iterable[Sequence], column_types: Sequence[str]) -> Iterator[list]:
    """The binary COPY stream for ``rows`` as lists of byte pieces: header, one list per row,
    trailer. A row's pieces are only joined into the buffer that is sent, so a 29 kB spectrum is
    copied once on its way to the server."""
    encoders = [_ENCODERS[kind] for kind in column_types]
    yield [_HEADER]
    count = struct.pack("!h", len(column_types))
    for row in rows:
        pieces = [count]
        for value, encode in zip(row, encoders):
            if value is None:
                pieces.append(_NULL)
            else:
                payload = encode(value)
                pieces += (struct.pack("!i", len(payload)), payload)
        yield pieces
    yield [_TRAILER]


class _Stream(io.RawIOBase):
    """A read-only file over an iterator of lists of byte pieces."""

    def __init__(self, rows: Iterator[list]):
        self._rows = rows

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        """At least ``size`` bytes (whole rows; psycopg2 sends whatever it is given), b"" at the end."""
        parts, total = [], 0
        for pieces in self._rows:
            parts += pieces
            total += sum(map(len, pieces))
            if 0 <= size <= total:
                break
        return b"".join(parts)


def copy_rows(cursor, table: str, columns: Sequence[str], column_types: Sequence[str], rows: Iterable[Sequence]) -> None:
    """COPY ``rows`` into ``table(columns)`` in binary format on a psycopg2 cursor."""
    if len(columns) != len(column_types):
        raise ValueError("columns and column_types differ in length")
    for kind in column_types:
        if kind not in _ENCODERS:
            raise ValueError(f"unsupported COPY column type {kind!r}")
    statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT binary)"
    cursor.copy_expert(statement, _Stream(encode_rows(rows, column_types)), size=1 << 20)


def reserve_ids(cursor, table: str, count: int) -> np.ndarray:
    """``count`` fresh primary keys from ``table``'s id sequence (for COPY with explicit ids)."""
    if count == 0:
        return np.zeros(0, dtype=np.int64)
    cursor.execute(f"SELECT nextval(pg_get_serial_sequence('{table}', 'id')) FROM generate_series(1, %s)", [count])
    return np.fromiter((row[0] for row in cursor.fetchall()), dtype=np.int64, count=count)


# ----------------------------------------------------------------------------- reading


_DECODERS = {
    "int8": lambda b: int.from_bytes(b, "big", signed=True),  # any integer width (int2/int4/int8)
    "int4": lambda b: int.from_bytes(b, "big", signed=True),
    "float8": lambda b: struct.unpack("!d", b)[0],
    "float4": lambda b: struct.unpack("!f", b)[0],
    "bool": lambda b: b == b"\x01",
    "text": lambda b: bytes(b).decode(),
    "bytea": bytes,
    "jsonb": lambda b: json.loads(bytes(b[1:])),
    "vector": lambda b: np.frombuffer(bytes(b[4:]), ">f4").astype(np.float32),  # int16 dim, int16 unused, float4s
}


class _RowSink(io.RawIOBase):
    """A writable file that parses a binary COPY stream into rows as psycopg2 writes it."""

    def __init__(self, column_types: Sequence[str], on_row):
        self._decoders = [_DECODERS[kind] for kind in column_types]
        self._on_row = on_row
        self._buffer = bytearray()
        self._header_done = False

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self._buffer += data
        view, offset = memoryview(self._buffer), 0
        if not self._header_done:
            if len(view) < 19:
                return len(data)
            header_extension = struct.unpack_from("!i", view, 15)[0]
            offset = 19 + header_extension
            self._header_done = True
        while len(view) - offset >= 2:
            (n_fields,) = struct.unpack_from("!h", view, offset)
            if n_fields == -1:  # trailer
                offset = len(view)
                break
            position, row = offset + 2, []
            for decode in self._decoders:
                if len(view) - position < 4:
                    row = None
                    break
                (length,) = struct.unpack_from("!i", view, position)
                position += 4
                if length == -1:
                    row.append(None)
                    continue
                if len(view) - position < length:
                    row = None
                    break
                row.append(decode(view[position : position + length]))
                position += length
            if row is None:  # incomplete row: wait for more bytes
                break
            self._on_row(row)
            offset = position
        view.release()
        del self._buffer[:offset]
        return len(data)


def read_rows(cursor, query: str, column_types: Sequence[str], on_row) -> None:
    """Run ``COPY (query) TO STDOUT`` in binary format and call ``on_row(list)`` for every row.

    ``query`` must be fully bound (use ``cursor.mogrify``). bytea arrives as raw bytes, with no
    hex decoding: the fast way to read many spectra.
    """
    cursor.copy_expert(f"COPY ({query}) TO STDOUT WITH (FORMAT binary)", _RowSink(column_types, on_row), size=1 << 20)
