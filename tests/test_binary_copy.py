"""Binary COPY writes every supported column type as PostgreSQL reads it, and reads it back: a
spectrum handed over as a NumPy row (not copied to bytes first) arrives byte for byte, NULLs stay
NULL, and rows large enough to span several sent buffers are neither split nor lost."""
import datetime as dt

import numpy as np
import pytest
from django.db import connection

from catalog.bulk_copy import copy_rows, read_rows

pytestmark = pytest.mark.django_db

COLUMNS = ["id", "n4", "x8", "x4", "flag", "name", "blob", "doc", "at", "vec"]
TYPES = ["int8", "int4", "float8", "float4", "bool", "text", "bytea", "jsonb", "timestamptz", "vector"]


@pytest.fixture
def table():
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMPORARY TABLE copy_probe (id bigint, n4 integer, x8 double precision, x4 real, "
                       "flag boolean, name text, blob bytea, doc jsonb, at timestamptz, vec vector(3))")
    yield "copy_probe"


def test_every_type_round_trips_and_a_numpy_row_arrives_byte_for_byte(table):
    flux = np.random.default_rng(0).normal(1.0, 0.02, (40, 7214)).astype("<f4")
    at = dt.datetime(2026, 12, 5, 10, 30, 15, 250000, tzinfo=dt.timezone.utc)
    rows = [(k, -k, k / 3, 0.5, k % 2 == 0, f"star ü{k}", flux[k] if k % 2 else flux[k].tobytes(),
             {"fe_h": -0.25, "k": k}, at, [0.5, -1.0, float(k)]) for k in range(40)]
    rows.append((40, None, None, None, None, None, None, None, None, None))
    with connection.cursor() as cursor:
        copy_rows(cursor.cursor, table, COLUMNS, TYPES, rows)  # 40 × 29 kB: more than one 1 MiB buffer
        read = []
        readable = [name for name in COLUMNS if name != "at"]  # read_rows decodes no timestamps
        read_rows(cursor.cursor, f"SELECT {', '.join(readable)} FROM {table} ORDER BY id",
                  [kind for kind in TYPES if kind != "timestamptz"], read.append)
    assert len(read) == 41
    for k, row in enumerate(read[:40]):
        assert row[:6] == [k, -k, pytest.approx(k / 3), 0.5, k % 2 == 0, f"star ü{k}"]
        assert row[6] == flux[k].tobytes()
        assert row[7] == {"fe_h": -0.25, "k": k}
        np.testing.assert_array_equal(row[8], [0.5, -1.0, k])
    assert read[40] == [40] + [None] * 8
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table} WHERE at = %s AND octet_length(blob) = %s", [at, 7214 * 4])
        assert cursor.fetchone()[0] == 40


def test_an_unknown_column_type_is_refused_before_anything_is_sent(table):
    with connection.cursor() as cursor, pytest.raises(ValueError, match="unsupported COPY column type 'money'"):
        copy_rows(cursor.cursor, table, ["id", "x8"], ["int8", "money"], [(1, 2.0)])
