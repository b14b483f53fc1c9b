"""Admin for every catalog model: list columns an operator needs, search and filters.

Heavy binary columns (flux, cubes, vectors) are never shown as raw bytes.
"""
import json

from django import forms
from django.contrib import admin, messages
from django.utils.html import format_html, format_html_join, json_script

from catalog import model_config, models, selectors, services
from portal import plots


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


@admin.register(models.BalmerLines)
class BalmerLinesAdmin(admin.ModelAdmin):
    """Read-only: the measurements come from the spectra (ingest, ``manage.py measure_balmer``)."""

    list_display = ["spectrum", "d02", "fm", "c", "b", "converged", "xue_bhb", "problem"]
    list_filter = ["xue_bhb", "converged"]
    search_fields = ["spectrum__star__designation"]
    list_select_related = ["spectrum__star", "spectrum__survey"]
    raw_id_fields = ["spectrum"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


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

    def has_add_permission(self, request, obj=None):
        return False  # runs are created by the registry, never by hand

    fields = ["state", "progress", "epoch", "started_at", "finished_at", "interruptions", "error"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True


class TrainingStartForm(forms.ModelForm):
    """Start a training run: a kind and a JSON config, validated before anything is queued."""

    config = forms.JSONField(
        required=False, initial=dict, widget=forms.Textarea(attrs={"rows": 14, "cols": 90, "class": "vLargeTextField"}),
        help_text='Settings that differ from the defaults, e.g. {"training": {"epochs": 50}, '
                  '"selection": {"snr_min": 50}}. See catalog/model_config.py for every setting.')

    class Meta:
        model = models.ModelVersion
        fields = ["kind", "config"]

    def clean(self):
        cleaned = super().clean()
        kind, config = cleaned.get("kind"), cleaned.get("config") or {}
        if kind:
            try:
                cleaned["config"] = services.training_config_check(kind=kind, config=config)
            except model_config.ConfigError as error:
                raise forms.ValidationError({"config": str(error)}) from None
        return cleaned


@admin.register(models.ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    """Model registry. Starting, retraining, activating, rolling back and cancelling need the
    ``catalog.change_modelversion`` permission; everyone else with access sees, read-only."""

    list_display = ["id", "kind", "state", "run_progress", "headline_metric", "created_at", "activated_at", "created_by"]
    list_filter = ["kind", "state"]
    search_fields = ["=id"]
    readonly_fields = ["kind", "state", "run_progress", "completeness", "metrics_table", "loss_curves", "run_logs",
                       "config_json", "artifact", "parent", "created_by", "created_at", "activated_at"]
    exclude = ["config", "metrics", "latent_map"]
    inlines = [TrainingRunInline]
    actions = ["retrain_action", "activate_action", "rollback_action", "cancel_action"]
    change_form_template = "admin/catalog/modelversion/change_form.html"

    # ---------------------------------------------------------------- permissions

    def has_add_permission(self, request):
        return super().has_add_permission(request) and self.has_change_permission(request)

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = TrainingStartForm
        return super().get_form(request, obj, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.readonly_fields

    def get_exclude(self, request, obj=None):
        return ["state", "metrics", "artifact", "parent", "created_by", "activated_at", "latent_map"] if obj is None else self.exclude

    def get_inlines(self, request, obj):
        return [] if obj is None else self.inlines

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """Read-only page: versions change through the actions, so no save buttons."""
        extra_context = {**(extra_context or {}), "show_save": False, "show_save_and_continue": False,
                         "show_save_and_add_another": False, "show_delete": False}
        return super().change_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        if change:
            return  # versions are changed through the actions only
        from tasks.pipeline import start_retrain

        version = start_retrain(kind=form.cleaned_data["kind"], config=form.cleaned_data["config"], created_by=request.user)
        obj.pk, obj.state = version.pk, version.state
        self.message_user(request, f"{version} queued for training; progress appears on its page.")

    # ---------------------------------------------------------------- columns

    @admin.display(description="progress")
    def run_progress(self, version):
        run = version.latest_run
        if run is None:
            return "—"
        eta = (run.timings or {}).get("eta_s")
        eta = f", ETA {eta:.0f} s" if eta and run.state == "running" else ""
        return f"{run.state} · {run.phase or '—'} · epoch {run.epoch} ({run.progress:.0%}{eta})"

    @admin.display(description="headline metric")
    def headline_metric(self, version):
        metric = version.config.get("activation", {}).get("metric")
        value = version.metrics.get(metric) if metric else None
        return f"{metric} = {value:.3f}" if isinstance(value, (int, float)) else "—"

    @admin.display(description="completeness")
    def completeness(self, version):
        try:
            progress = selectors.version_progress(version)
        except model_config.ConfigError as error:
            return f"unknown: {error}"
        index = "" if version.kind == "bhb" else (" · index built" if progress["indexed"] else " · index not built")
        return f"{progress['done']} of {progress['total']} {progress['unit']}{index}"

    @admin.display(description="metrics")
    def metrics_table(self, version):
        rows = [(key, value) for key, value in version.metrics.items() if isinstance(value, (int, float, str))]
        for group in ("r2_latent", "twins"):
            rows += [(f"{group}.{k}", v) for k, v in (version.metrics.get(group) or {}).items()]
        if not rows:
            return "—"
        return format_html("<table>{}</table>", format_html_join(
            "", "<tr><th>{}</th><td>{}</td></tr>", ((k, f"{v:.4f}" if isinstance(v, float) else v) for k, v in rows)))

    @admin.display(description="loss curves")
    def loss_curves(self, version):
        item = plots.loss_curves_item(selectors.loss_curves(version), version.kind)
        if item is None:
            return "no epoch finished yet"
        return format_html('<div id="loss-curves" style="min-width:640px"></div>{}',
                           json_script(item, "loss-curves-item"))

    @admin.display(description="log")
    def run_logs(self, version):
        run = version.latest_run
        text = (run.logs + ("\n" + run.error if run.error else "")) if run else ""
        return format_html("<pre style='white-space:pre-wrap'>{}</pre>", text or "—")

    @admin.display(description="config")
    def config_json(self, version):
        return format_html("<pre>{}</pre>", json.dumps(version.config, indent=2))

    # ---------------------------------------------------------------- actions

    def _each(self, request, queryset, operation, verb):
        for version in queryset:
            try:
                outcome = operation(version)
                self.message_user(request, f"{verb}: {outcome or version}", messages.SUCCESS)
            except (services.RegistryError, model_config.ConfigError) as error:
                self.message_user(request, f"{version}: {error}", messages.ERROR)

    @admin.action(description="Retrain with this config", permissions=["change"])
    def retrain_action(self, request, queryset):
        from tasks.pipeline import start_retrain

        self._each(request, queryset, lambda v: start_retrain(kind=v.kind, config=v.config, created_by=request.user,
                                                              parent=v), "queued")

    @admin.action(description="Activate (must be ready and complete)", permissions=["change"])
    def activate_action(self, request, queryset):
        self._each(request, queryset, lambda v: services.activate(version=v), "active")

    @admin.action(description="Roll back to the previously active version of this kind", permissions=["change"])
    def rollback_action(self, request, queryset):
        kinds = sorted(set(queryset.values_list("kind", flat=True)))
        for kind in kinds:
            try:
                self.message_user(request, f"rolled back: {services.rollback(kind=kind)} is active", messages.SUCCESS)
            except services.RegistryError as error:
                self.message_user(request, str(error), messages.ERROR)

    @admin.action(description="Cancel training", permissions=["change"])
    def cancel_action(self, request, queryset):
        from portal.celery import app

        def cancel(version):
            task_id = services.version_cancel(version=version)
            if task_id:
                app.control.revoke(task_id)  # a queued run never starts; a running one stops at its next epoch
            return f"{version.pk} cancelled"

        self._each(request, queryset, cancel, "cancelled")


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
