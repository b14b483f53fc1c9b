"""Per-version partitions of ``catalog_embedding``: each disentangler version's latents live in
their own table, ``catalog_embedding_v<id>`` (list partitioning on ``model_version_id``).

Filling, indexing and dropping a version then touch that table only: the HNSW index is built on
it alone, a twin query restricted to the version is planned against it alone (partition pruning),
and pruning the version is a ``DROP TABLE`` that leaves every other version's rows and indexes as
they were. The partition is made with the version (``ModelVersion.save``); writers make sure of it
again, which costs one catalog lookup.
"""
from __future__ import annotations

EMBEDDINGS = "catalog_embedding"


def partition_name(version_id: int) -> str:
    return f"{EMBEDDINGS}_v{int(version_id)}"


def ensure(cursor, version_id: int) -> str:
    """Create the version's partition unless it exists; its name. Takes a short lock on the
    parent table, so call it where a version is made or before its first rows are written."""
    name = partition_name(version_id)
    cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [name])
    if not cursor.fetchone()[0]:
        cursor.execute(f"CREATE TABLE IF NOT EXISTS {name} PARTITION OF {EMBEDDINGS} FOR VALUES IN ({int(version_id)})")
    return name


def drop(cursor, version_id: int) -> int:
    """Drop the version's partition (its rows and its index); how many rows it held."""
    name = partition_name(version_id)
    cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [name])
    if not cursor.fetchone()[0]:
        return 0
    cursor.execute(f"SELECT count(*) FROM {name}")
    rows = int(cursor.fetchone()[0])
    cursor.execute(f"DROP TABLE {name}")
    return rows
