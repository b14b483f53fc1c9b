"""CSV and VOTable renderers for tabular endpoints (lists of flat rows, or {"results": [...]}).
``?format=csv`` / ``?format=votable``, or the Accept header."""
from __future__ import annotations

import csv
import io

from rest_framework.renderers import BaseRenderer


def _rows(data) -> list[dict]:
    if isinstance(data, dict) and "results" in data:
        data = data["results"]
    if isinstance(data, dict) and "twins" in data:
        data = data["twins"]
    if isinstance(data, dict) and "error" in data:
        return [{"error": str(data["error"].get("detail"))}]
    if isinstance(data, dict):
        data = [data]
    return [{k: v for k, v in row.items() if not isinstance(v, (list, dict))} for row in data or []]


class CSVRenderer(BaseRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        rows = _rows(data)
        out = io.StringIO()
        if rows:
            writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
        return out.getvalue().encode()


# UCDs and units of the columns we know (what TOPCAT shows and uses to find positions).
COLUMN_META = {
    "id": ("meta.id", None), "designation": ("meta.id;meta.main", None),
    "ra": ("pos.eq.ra;meta.main", "deg"), "dec": ("pos.eq.dec;meta.main", "deg"),
    "teff": ("phys.temperature.effective", "K"), "logg": ("phys.gravity", None),  # log10 of cm s⁻²: no valid VOUnit string
    "fe_h": ("phys.abund.Fe", "dex"), "alpha_fe": ("phys.abund", "dex"), "distance": ("pos.distance", None),
    "score": ("stat.probability", None), "bhb_score": ("stat.probability", None),
}


def votable_bytes(rows: list[dict], name: str = "doppel", description: str = "",
                  empty_columns: dict[str, type] | None = None) -> bytes:
    """A VOTable 1.4 (TABLEDATA) of flat rows, with UCDs and units on the columns we know.
    ``empty_columns`` ({name: type}) describes the table when there are no rows."""
    from astropy.io.votable import from_table
    from astropy.table import Table

    if rows:
        columns = list(rows[0])
        table = Table(rows=[[row.get(c) if row.get(c) is not None else _blank(rows, c) for c in columns] for row in rows],
                      names=columns)
    else:
        empty_columns = empty_columns or {"designation": str}
        table = Table(names=list(empty_columns), dtype=list(empty_columns.values()))
    votable = from_table(table, table_id=name)
    resource_table = votable.get_first_table()
    resource_table.description = description or None
    for field in resource_table.fields:
        ucd, unit = COLUMN_META.get(field.name, (None, None))
        if ucd:
            field.ucd = ucd
        if unit:
            field.unit = unit
    out = io.BytesIO()
    votable.to_xml(out, tabledata_format="tabledata")
    return out.getvalue()


def _blank(rows, column):
    """A typed missing value for a column (NaN for numbers, '' for text)."""
    sample = next((row.get(column) for row in rows if row.get(column) is not None), None)
    return float("nan") if isinstance(sample, (int, float)) and not isinstance(sample, bool) else ""


class VOTableRenderer(BaseRenderer):
    media_type = "application/x-votable+xml"
    format = "votable"
    charset = None

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return votable_bytes(_rows(data))
