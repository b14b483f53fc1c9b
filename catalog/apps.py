from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "catalog"
    verbose_name = "Catalog"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django.conf import settings
        from django.db.models.signals import post_migrate

        post_migrate.connect(_fill_tap_schema, sender=self)

        path = getattr(settings, "APOGEE_CONTINUUM_PIXELS", "")
        if path:
            import numpy as np
            from django.core.exceptions import ImproperlyConfigured

            from catalog.ingest import apogee

            try:
                with np.load(path) as archive:
                    apogee.set_continuum_pixels(archive[archive.files[0]])
            except (OSError, ValueError, IndexError) as error:
                raise ImproperlyConfigured(f"DOPPEL_APOGEE_CONTINUUM_PIXELS={path!r}: {error}") from None


def _fill_tap_schema(sender, using="default", **kwargs):
    """TAP_SCHEMA follows catalog/tap_schema.py after every migrate (once migration 0008 made it)."""
    from django.db import connections

    from catalog.services.tap import tap_schema_fill

    with connections[using].cursor() as cursor:
        cursor.execute("SELECT to_regclass('tap_schema.columns') IS NOT NULL")
        if cursor.fetchone()[0]:
            tap_schema_fill()
