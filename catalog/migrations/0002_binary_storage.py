"""Spectra and cubes are float32 noise-dominated bytes that barely compress: store them
uncompressed out of line (STORAGE EXTERNAL), which makes bulk COPY and reads much cheaper."""
from django.db import migrations

COLUMNS = [("catalog_spectrum", "flux"), ("catalog_spectrum", "error"), ("catalog_image", "cube"),
           ("catalog_survey", "wavelength")]


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_initial")]

    operations = [
        migrations.RunSQL(
            [f"ALTER TABLE {table} ALTER COLUMN {column} SET STORAGE EXTERNAL" for table, column in COLUMNS],
            [f"ALTER TABLE {table} ALTER COLUMN {column} SET STORAGE EXTENDED" for table, column in COLUMNS],
        ),
    ]
