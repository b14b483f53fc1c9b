"""Per-version partitions of the output tables: each model version's rows live in their own
table, ``<table>_v<id>`` (list partitioning on ``model_version_id``):

- disentangler versions: ``catalog_embedding`` (latents), ``catalog_peculiarity``,
  ``catalog_groupmember``;
- BHB versions: ``catalog_bhbscore``.

Filling, indexing and dropping a version then touch its own tables only: the HNSW index is built
on the version's latents alone, a query restricted to one version is planned against its
partition alone (partition pruning), and pruning a version is a ``DROP TABLE`` per table that
leaves every other version's rows and indexes as they were. Activating or archiving a version
changes its state only. The partitions are made with the version (``ModelVersion.save``; migrations
0012–0013 for versions made before), so writers and queries can count on them.
"""
from __future__ import annotations

EMBEDDINGS = "catalog_embedding"
TABLES = {
    "disentangler": (EMBEDDINGS, "catalog_peculiarity", "catalog_groupmember"),
    "bhb": ("catalog_bhbscore",),
}


def partition_name(table: str, version_id: int) -> str:
    return f"{table}_v{int(version_id)}"


def ensure(cursor, table: str, version_id: int) -> str:
    """Create the version's partition of ``table`` unless it exists; its name. Takes a short lock
    on the parent table: call it where a version is made."""
    name = partition_name(table, version_id)
    cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [name])
    if not cursor.fetchone()[0]:
        cursor.execute(f"CREATE TABLE IF NOT EXISTS {name} PARTITION OF {table} FOR VALUES IN ({int(version_id)})")
    return name


def ensure_all(cursor, kind: str, version_id: int) -> None:
    """Every partition a version of ``kind`` writes to."""
    for table in TABLES.get(kind, ()):
        ensure(cursor, table, version_id)


def existing(cursor, kind: str, version_id: int) -> list[str]:
    """The version's partitions that exist (none once it is pruned)."""
    names = [partition_name(table, version_id) for table in TABLES.get(kind, ())]
    cursor.execute("SELECT n FROM unnest(%s::text[]) n WHERE to_regclass(n) IS NOT NULL", [names])
    return [row[0] for row in cursor.fetchall()]


def drop(cursor, table: str, version_id: int) -> int:
    """Drop the version's partition of ``table`` (its rows and indexes); how many rows it held."""
    name = partition_name(table, version_id)
    cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [name])
    if not cursor.fetchone()[0]:
        return 0
    cursor.execute(f"SELECT count(*) FROM {name}")
    rows = int(cursor.fetchone()[0])
    cursor.execute(f"DROP TABLE {name}")
    return rows


def drop_all(cursor, version_id: int) -> int:
    """Drop the version's partitions of every output table; how many rows they held."""
    return sum(drop(cursor, table, version_id) for tables in TABLES.values() for table in tables)
