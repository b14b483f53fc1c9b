"""Bulk exports: the whole result of a list query as CSV or VOTable, streamed as it is read.

Rows come from a server-side cursor (``QuerySet.iterator``) a chunk at a time, so an export of a
million stars holds one chunk in memory, not the list. At most ``settings.EXPORT_MAX_ROWS`` rows
from ``offset``; when there are more, the VOTable says ``QUERY_STATUS = OVERFLOW`` (DALI) and both
formats carry the header ``Doppel-Overflow: true``. The columns are declared before the first row
(an empty result has them too); a VOTable's columns have the UCDs and units of
``portal.api.renderers`` and missing values are empty cells (nulls), never placeholders.
"""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Iterator
from xml.sax.saxutils import escape

from django.conf import settings
from django.http import StreamingHttpResponse

from portal.api.renderers import votable_bytes

CHUNK = 2000  # rows per fetch from the server-side cursor
CONTENT_TYPES = {"csv": "text/csv; charset=utf-8", "votable": "application/x-votable+xml"}


def rows_of(queryset, offset: int, to_row: Callable) -> tuple[Iterator[dict], bool]:
    """(rows from ``offset``, at most EXPORT_MAX_ROWS of them, read lazily; whether more exist)."""
    cap = settings.EXPORT_MAX_ROWS
    overflow = queryset[offset + cap : offset + cap + 1].count() > 0
    return (to_row(item) for item in queryset[offset : offset + cap].iterator(chunk_size=CHUNK)), overflow


def response(rows: Iterable[dict], columns: dict[str, type], fmt: str, *, overflow: bool, info: dict,
             filename: str) -> StreamingHttpResponse:
    """A streaming CSV or VOTable of ``rows`` with the ``columns`` ({name: int|float|str|bool}, in
    order); ``info`` (the query) goes into the VOTable's INFO elements."""
    body = _csv(rows, columns) if fmt == "csv" else _votable(rows, columns, overflow, info)
    answer = StreamingHttpResponse(body, content_type=CONTENT_TYPES[fmt])
    answer["Content-Disposition"] = f'attachment; filename="{filename}.{"csv" if fmt == "csv" else "vot"}"'
    answer["Doppel-Overflow"] = "true" if overflow else "false"
    return answer


def _batches(rows: Iterable[dict]) -> Iterator[list[dict]]:
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) == CHUNK:
            yield batch
            batch = []
    if batch:
        yield batch


def _csv(rows: Iterable[dict], columns: dict[str, type]) -> Iterator[bytes]:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns), lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    yield out.getvalue().encode()
    for batch in _batches(rows):
        out.seek(0)
        out.truncate()
        writer.writerows(batch)
        yield out.getvalue().encode()


def _cell(value, kind: type) -> str:
    if value is None or (kind is float and value != value):  # null; NaN is a null too
        return "<TD/>"
    if kind is bool:
        return f"<TD>{int(bool(value))}</TD>"  # the schema's datatype="bit"
    if kind is float:
        return f"<TD>{float(value)!r}</TD>"
    if kind is int:
        return f"<TD>{int(value)}</TD>"
    return f"<TD>{escape(str(value))}</TD>"


def _votable(rows: Iterable[dict], columns: dict[str, type], overflow: bool, info: dict) -> Iterator[bytes]:
    """The schema as ``votable_bytes`` writes an empty table (FIELDs, UCDs, units, INFOs), with
    variable-length strings, then TABLEDATA row by row."""
    skeleton = votable_bytes([], empty_columns=columns, info=info, overflow=overflow).decode()
    skeleton = re.sub(r'arraysize="\d+" (datatype="(unicodeChar|char)")', r'arraysize="*" \1', skeleton)
    head, tail = skeleton.rsplit("</TABLE>", 1)
    yield (head + "<DATA><TABLEDATA>\n").encode()
    kinds = list(columns.items())
    for batch in _batches(rows):
        yield "".join("<TR>" + "".join(_cell(row.get(name), kind) for name, kind in kinds) + "</TR>\n"
                      for row in batch).encode()
    yield ("</TABLEDATA></DATA>\n</TABLE>" + tail).encode()
