"""The score tables follow the latents: ``catalog_bhbscore``, ``catalog_peculiarity`` and
``catalog_groupmember`` become list-partitioned by model version (``catalog.partitions``).

Each table is rebuilt the same way: a partitioned copy with the same columns, defaults and checks,
one partition per version of its kind, the rows copied (ids kept), the old table dropped, then its
foreign keys, unique constraints and indexes made again under their own names, and the views that
read it (the TAP schema's) recreated from their own definitions with their grants. Going back
rebuilds plain tables the same way.
"""
from django.db import migrations

TABLES = {"catalog_bhbscore": "bhb", "catalog_peculiarity": "disentangler", "catalog_groupmember": "disentangler"}


def _rebuild(cursor, table: str, kind: str, partitioned: bool) -> None:
    new, sequence = f"{table}_new", f"{table}_new_id_seq"
    cursor.execute("""SELECT DISTINCT v.oid::regclass::text, pg_get_viewdef(v.oid)
                      FROM pg_depend d JOIN pg_rewrite r ON r.oid = d.objid JOIN pg_class v ON v.oid = r.ev_class
                      WHERE d.refobjid = %s::regclass AND v.oid <> d.refobjid""", [table])
    views = cursor.fetchall()
    cursor.execute("SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass "
                   "AND contype IN ('f', 'u') ORDER BY contype, conname", [table])
    constraints = cursor.fetchall()
    cursor.execute("""SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i
                      WHERE i.indrelid = %s::regclass AND NOT i.indisprimary
                      AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)""", [table])
    indexes = [row[0] for row in cursor.fetchall()]
    for name, _ in views:
        cursor.execute(f"DROP VIEW {name}")
    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    layout = " PARTITION BY LIST (model_version_id)" if partitioned else ""
    cursor.execute(f"CREATE TABLE {new} (LIKE {table} INCLUDING DEFAULTS INCLUDING CONSTRAINTS){layout}")
    cursor.execute(f"CREATE SEQUENCE {sequence} OWNED BY {new}.id")
    cursor.execute(f"ALTER TABLE {new} ALTER COLUMN id SET DEFAULT nextval('{sequence}')")
    cursor.execute(f"ALTER TABLE {new} ADD PRIMARY KEY ({'model_version_id, id' if partitioned else 'id'})")
    if partitioned:
        cursor.execute(f"SELECT id FROM catalog_modelversion WHERE kind = %s UNION SELECT DISTINCT model_version_id "
                       f"FROM {table} ORDER BY 1", [kind])
        for (version,) in cursor.fetchall():
            cursor.execute(f"CREATE TABLE {table}_v{version} PARTITION OF {new} FOR VALUES IN ({version})")
    cursor.execute(f"INSERT INTO {new} SELECT * FROM {table}")
    cursor.execute(f"SELECT setval('{sequence}', coalesce((SELECT max(id) FROM {new}), 0) + 1, false)")
    cursor.execute(f"DROP TABLE {table}")
    cursor.execute(f"ALTER TABLE {new} RENAME TO {table}")
    cursor.execute(f"ALTER SEQUENCE {sequence} RENAME TO {table}_id_seq")
    cursor.execute(f"ALTER TABLE {table} RENAME CONSTRAINT {new}_pkey TO {table}_pkey")
    for name, definition in constraints:
        cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")
    for definition in indexes:
        cursor.execute(definition)
    for name, definition in views:
        cursor.execute(f"CREATE VIEW {name} AS {definition}")
        cursor.execute(f"""DO $$ BEGIN
                               IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'doppel_tap') THEN
                                   GRANT SELECT ON {name} TO doppel_tap;
                               END IF;
                           END $$""")


def partition(apps, schema_editor):
    cursor = schema_editor.connection.cursor()
    for table, kind in TABLES.items():
        _rebuild(cursor, table, kind, partitioned=True)


def unpartition(apps, schema_editor):
    cursor = schema_editor.connection.cursor()
    for table, kind in TABLES.items():
        _rebuild(cursor, table, kind, partitioned=False)


class Migration(migrations.Migration):

    dependencies = [
        ("catalog", "0012_embedding_partitions"),
    ]

    operations = [
        migrations.RunPython(partition, unpartition),
    ]
