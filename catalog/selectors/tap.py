"""ADQL queries against the ``doppel`` schema (TAP).

ADQL is parsed and translated to PostgreSQL by queryparser (``queryparser-python3``); its geometry
(``CONTAINS``, ``INTERSECTS``, ``DISTANCE``) becomes the pg_sphere-style ``spoint``/``scircle``
expressions that migrations 0008 and 0017 define. The query may name only the ``doppel`` and
``tap_schema`` tables and the tables uploaded with it (``TAP_UPLOAD``, ``catalog.tap_upload``:
temporary tables of its own transaction, written before the transaction turns read-only). It runs
read-only, as the read-only role ``doppel_tap`` where it exists, under a statement timeout, read
through a server-side cursor up to ``maxrec`` rows (one more tells whether it overflowed).
"""
from __future__ import annotations

import logging
import re
import uuid
from dataclasses import dataclass, field

import psycopg2
from django.db import DatabaseError, connection, transaction
from psycopg2 import sql as psql
from psycopg2.extras import execute_values

from catalog.tap_schema import TABLES
from catalog.tap_upload import UploadTable

TAP_SCHEMA_TABLES = ("schemas", "tables", "columns", "keys", "key_columns")
# PostgreSQL type OIDs → the Python type of a result column
_TYPES = {16: bool, 20: int, 21: int, 23: int, 700: float, 701: float, 1700: float}


class _WithoutQueryparserChatter(logging.Filter):
    """queryparser logs each parse step at INFO on the root logger: keep it out of the logs."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "queryparser" not in record.pathname


logging.getLogger().addFilter(_WithoutQueryparserChatter())


class TapError(ValueError):
    """An ADQL query that cannot run: the message says why, in words a user can act on."""


@dataclass
class TapResult:
    columns: dict[str, type]  # name → int | float | str | bool, in order
    rows: list[dict]
    overflow: bool  # more rows than maxrec
    meta: dict[str, tuple[str, str]] = field(default_factory=dict)  # name → (UCD, unit) of known columns
    sql: str = ""


def adql_to_sql(adql: str) -> tuple[str, list[tuple[str | None, str]]]:
    """(PostgreSQL, the tables it reads as (schema or None, name)); TapError on bad ADQL."""
    from queryparser.exceptions import QueryError, QuerySyntaxError

    from catalog.adql import translate

    adql = (adql or "").strip().rstrip(";").strip()
    if not adql:
        raise TapError("QUERY is empty: give an ADQL SELECT")
    try:
        sql, tables = translate(adql)
    except QuerySyntaxError as error:
        # queryparser ends the query with ";": an error there is where the query stops short
        end = (adql.count("\n") + 1, len(adql.rsplit("\n", 1)[-1]))
        spots = "; ".join(f"line {line}, column {column + 1} " + ("(the end of the query: is something missing?)"
                                                              if (line, column) >= end else f"near {text!r}")
                          for line, column, text in error.syntax_errors)
        raise TapError(f"ADQL syntax error at {spots}") from None
    except (QueryError, ValueError, IndexError, AttributeError) as error:  # queryparser's other refusals
        if "schema specification" in str(error):
            raise TapError("name each table with its schema: doppel.stars, doppel.labels, …, TAP_SCHEMA.tables "
                           "(see /tap/tables)") from None
        raise TapError(f"the ADQL cannot be translated: {error}") from None
    return sql, tables


def _check_tables(tables: list[tuple[str | None, str]], uploaded: set[str]) -> None:
    known = {t.name.split(".")[1] for t in TABLES}
    for schema, name in tables:
        schema, name = (schema or "").lower(), name.lower()
        if (schema in ("", "doppel") and name in known) or (schema == "tap_schema" and name in TAP_SCHEMA_TABLES):
            continue
        if schema == "pg_temp":  # TAP_UPLOAD (catalog.adql)
            if name in uploaded:
                continue
            raise TapError(f"TAP_UPLOAD.{name} was not uploaded with this query: send it with UPLOAD={name},param:{name} "
                           + (f"(uploaded: {', '.join(sorted(uploaded))})" if uploaded else "and the table as that part"))
        raise TapError(f"unknown table {f'{schema}.' if schema else ''}{name}: query doppel."
                       f"{{{', '.join(sorted(known))}}} or TAP_SCHEMA (see /tap/tables)"
                       + (f", or TAP_UPLOAD.{{{', '.join(sorted(uploaded))}}}" if uploaded else ""))


def _reason(error: Exception, timeout_s: float) -> str:
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    text = text.replace("pg_temp.", "TAP_UPLOAD.")  # where catalog.adql put the uploads
    if "statement timeout" in text:
        return f"the query ran longer than {timeout_s:g} s: narrow it (a cone, TOP, a WHERE on an indexed column)"
    if re.search(r"function (doppel\.)?s(poly|box|line|path|ellipse)\b", text):
        return "of the ADQL regions only CIRCLE is supported (with POINT, CONTAINS, INTERSECTS and DISTANCE)"
    return text.removeprefix("ERROR:").strip()


def run_adql(adql: str, *, maxrec: int, timeout_s: float, uploads: list[UploadTable] = ()) -> TapResult:
    """Run one ADQL query, which may join ``uploads`` as ``TAP_UPLOAD.<name>``; at most ``maxrec``
    rows (0: the schema only). TapError on any refusal."""
    sql, tables = adql_to_sql(adql)
    _check_tables(tables, {upload.name for upload in uploads})
    nested = connection.in_atomic_block  # inside a caller's transaction (a test): a savepoint
    try:
        with transaction.atomic(), connection.cursor() as setup:
            setup.execute("SELECT current_setting('search_path'), current_setting('statement_timeout')")
            search_path, statement_timeout = setup.fetchone()
            setup.execute("SELECT set_config('statement_timeout', %s, true)", [str(int(timeout_s * 1000))])
            setup.execute("SELECT 1 FROM pg_roles WHERE rolname = 'doppel_tap'")
            tap_role = setup.fetchone() is not None
            for upload in uploads:
                _create_upload(setup.cursor, upload, tap_role)
            if not nested:  # a transaction of its own: read-only (in a savepoint it would outlive the query)
                setup.execute("SET LOCAL transaction_read_only = on")
            setup.execute("SELECT set_config('search_path', 'doppel, tap_schema', true)")
            if tap_role:
                setup.execute("SET LOCAL ROLE doppel_tap")
            cursor = connection.connection.cursor(name=f"tap_{uuid.uuid4().hex}")
            try:
                cursor.execute(sql)
                fetched = cursor.fetchmany(maxrec + 1)
                description = cursor.description
            finally:
                cursor.close()
            # a savepoint keeps SET LOCAL until the caller's transaction ends: put everything back
            setup.execute("RESET ROLE")
            setup.execute("SELECT set_config('search_path', %s, true), set_config('statement_timeout', %s, true)",
                          [search_path, statement_timeout])
            if nested:  # its own transaction drops the uploads as it ends; a savepoint's outlives the query
                for upload in uploads:
                    setup.cursor.execute(psql.SQL("DROP TABLE pg_temp.{}").format(psql.Identifier(upload.name)))
    except (DatabaseError, psycopg2.Error) as error:  # Django's, or the named cursor's own
        raise TapError(_reason(error, timeout_s)) from None
    names = _unique([column.name for column in description])
    columns = {name: _TYPES.get(column.type_code, str) for name, column in zip(names, description)}
    rows = [dict(zip(names, [_plain(value) for value in row])) for row in fetched[:maxrec]]
    return TapResult(columns=columns, rows=rows, overflow=len(fetched) > maxrec, meta=_known_columns(names), sql=sql)


def _create_upload(cursor, upload: UploadTable, tap_role: bool) -> None:
    """``upload`` as a temporary table of this transaction (dropped when it commits), readable by
    the role ``doppel_tap`` where it exists."""
    table = psql.SQL("pg_temp.{}").format(psql.Identifier(upload.name))
    columns = psql.SQL(", ").join(psql.SQL("{} {}").format(psql.Identifier(name), psql.SQL(kind))
                                  for name, kind in upload.columns)
    cursor.execute(psql.SQL("CREATE TEMPORARY TABLE {} ({}) ON COMMIT DROP").format(table, columns))
    if upload.rows:
        execute_values(cursor, psql.SQL("INSERT INTO {} VALUES %s").format(table).as_string(cursor), upload.rows,
                       page_size=1000)
    cursor.execute(psql.SQL("ANALYZE {}").format(table))  # its size, for the plan of the join
    if tap_role:
        cursor.execute(psql.SQL("GRANT SELECT ON {} TO doppel_tap").format(table))


def _unique(names: list[str]) -> list[str]:
    """Column names made unique (a join's two star_id become star_id and star_id_2)."""
    seen: dict[str, int] = {}
    out = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name}_{seen[name]}")
    return out


def _plain(value):
    """Database values as VOTable cells: Decimal → float, anything exotic → its text."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if hasattr(value, "as_integer_ratio"):  # Decimal
        return float(value)
    return str(value)


def _known_columns(names: list[str]) -> dict[str, tuple[str, str]]:
    meta = {}
    for name in names:
        column = next((c for t in TABLES for c in t.columns if c.name == name), None)
        if column is not None:
            meta[name] = (column.ucd, column.unit)
    return meta
