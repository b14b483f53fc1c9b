"""Admin for every catalog model: list columns an operator needs, search and filters.

Heavy binary columns (flux, cubes, vectors) are never shown as raw bytes.
"""
from django.contrib import admin

from catalog import models


@admin.register(models.Survey)
class SurveyAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "resolution", "n_pixels", "flux_unit"]
    search_fields = ["code", "name"]
    exclude = ["wavelength"]


@admin.register(models.Star)
class StarAdmin(admin.ModelAdmin):
    list_display = ["designation", "ra", "dec", "apogee_id", "gaia_source_id", "sdss_id", "group"]
    search_fields = ["designation", "apogee_id", "=gaia_source_id"]
    list_filter = ["spectra__survey"]
    show_facets = admin.ShowFacets.NEVER


@admin.register(models.Spectrum)
class SpectrumAdmin(admin.ModelAdmin):
    list_display = ["id", "star", "survey", "snr", "source_file", "source_key", "created_at"]
    list_filter = ["survey"]
    search_fields = ["star__designation", "source_file", "source_sha256"]
    list_select_related = ["star", "survey"]
    raw_id_fields = ["star"]
    exclude = ["flux", "error"]
    readonly_fields = ["source_sha256", "created_at"]


@admin.register(models.Image)
class ImageAdmin(admin.ModelAdmin):
    list_display = ["id", "star", "bands", "height", "width", "pixel_scale", "source_file"]
    search_fields = ["star__designation", "source_file"]
    list_select_related = ["star"]
    raw_id_fields = ["star"]
    exclude = ["cube"]


@admin.register(models.Labels)
class LabelsAdmin(admin.ModelAdmin):
    list_display = ["star", "source", "teff", "logg", "fe_h", "alpha_fe"]
    list_filter = ["source"]
    search_fields = ["star__designation"]
    list_select_related = ["star"]
    raw_id_fields = ["star"]


@admin.register(models.BHBLabel)
class BHBLabelAdmin(admin.ModelAdmin):
    list_display = ["star", "is_bhb", "catalogue"]
    list_filter = ["is_bhb", "catalogue"]
    search_fields = ["star__designation"]
    list_select_related = ["star"]
    raw_id_fields = ["star"]


class TrainingRunInline(admin.TabularInline):
    model = models.TrainingRun
    fields = ["state", "progress", "epoch", "started_at", "finished_at", "interruptions", "error"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True


@admin.register(models.ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    list_display = ["id", "kind", "state", "created_at", "activated_at", "created_by", "parent"]
    list_filter = ["kind", "state"]
    search_fields = ["=id"]
    readonly_fields = ["state", "metrics", "artifact", "created_at", "activated_at"]
    inlines = [TrainingRunInline]


@admin.register(models.TrainingRun)
class TrainingRunAdmin(admin.ModelAdmin):
    list_display = ["id", "model_version", "state", "progress", "epoch", "interruptions", "started_at", "finished_at"]
    list_filter = ["state", "model_version__kind"]
    search_fields = ["celery_task_id", "=model_version__id"]
    list_select_related = ["model_version"]
    readonly_fields = [f.name for f in models.TrainingRun._meta.fields]


@admin.register(models.Embedding)
class EmbeddingAdmin(admin.ModelAdmin):
    list_display = ["id", "model_version", "spectrum"]
    list_filter = ["model_version"]
    search_fields = ["spectrum__star__designation"]
    raw_id_fields = ["spectrum", "model_version"]
    show_full_result_count = False


@admin.register(models.BHBScore)
class BHBScoreAdmin(admin.ModelAdmin):
    list_display = ["star", "model_version", "score"]
    list_filter = ["model_version"]
    search_fields = ["star__designation"]
    list_select_related = ["star", "model_version"]
    raw_id_fields = ["star", "model_version"]
    ordering = ["-score"]
