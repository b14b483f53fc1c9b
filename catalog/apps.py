from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "catalog"
    verbose_name = "Catalog"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django.conf import settings

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
