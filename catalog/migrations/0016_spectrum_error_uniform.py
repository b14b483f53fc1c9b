"""A spectrum's error may be one float32 for every pixel (``catalog.arrays.error_to_bytes``); rows
stored before keep their per-pixel arrays, which read the same."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('catalog', '0015_peculiarity_from_residuals'),
    ]

    operations = [
        migrations.AlterField(
            model_name='spectrum',
            name='error',
            field=models.BinaryField(blank=True, help_text='float32 1σ flux error, same unit: one per pixel, or one for every pixel', null=True),
        ),
    ]
