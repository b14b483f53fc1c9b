"""Model artifacts move into the database (table ``catalog_artifact``, keyed by sha256).

Each version's artifact file is read once and stored; the version then names its sha256. A file
that is no longer there leaves its version without an artifact (it could not be loaded before
either). Weights do not compress, so the column skips PostgreSQL's compression attempt.
"""
import hashlib
from pathlib import Path

from django.db import migrations, models

HEX = set("0123456789abcdef")


def is_sha256(value: str) -> bool:
    return len(value) == 64 and set(value) <= HEX


def files_to_rows(apps, schema_editor):
    ModelVersion = apps.get_model("catalog", "ModelVersion")
    Artifact = apps.get_model("catalog", "Artifact")
    for version in ModelVersion.objects.exclude(artifact="").order_by("pk"):
        if is_sha256(version.artifact):
            continue
        path = Path(version.artifact)
        if not path.is_file():
            version.artifact = ""
        else:
            data = path.read_bytes()
            digest = hashlib.sha256(data).hexdigest()
            Artifact.objects.get_or_create(sha256=digest, defaults={"data": data, "size": len(data)})
            version.artifact = digest
        version.save(update_fields=["artifact"])


class Migration(migrations.Migration):

    dependencies = [
        ("catalog", "0010_chemical_groups"),
    ]

    operations = [
        migrations.CreateModel(
            name="Artifact",
            fields=[
                ("sha256", models.CharField(max_length=64, primary_key=True, serialize=False)),
                ("data", models.BinaryField()),
                ("size", models.BigIntegerField(help_text="bytes")),
                ("created_at", models.DateTimeField(auto_now_add=True)),
            ],
        ),
        migrations.RunSQL("ALTER TABLE catalog_artifact ALTER COLUMN data SET STORAGE EXTERNAL",
                          migrations.RunSQL.noop),
        migrations.AlterField(
            model_name="modelversion",
            name="artifact",
            field=models.CharField(blank=True, help_text="sha256 of the saved weights, scalers and config (an Artifact row)",
                                   max_length=500),
        ),
        migrations.RunPython(files_to_rows, migrations.RunPython.noop),
    ]
