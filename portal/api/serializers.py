"""API representations. Units: ra/dec deg (ICRS), teff K, logg/abundances dex, wavelength Å."""
from rest_framework import serializers

from catalog.models import ModelVersion, TrainingRun


class StarSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    designation = serializers.CharField()
    ra = serializers.FloatField(help_text="deg, ICRS")
    dec = serializers.FloatField(help_text="deg, ICRS")
    apogee_id = serializers.CharField()
    gaia_source_id = serializers.IntegerField(allow_null=True)
    sdss_id = serializers.CharField()
    teff = serializers.FloatField(allow_null=True, help_text="K")
    logg = serializers.FloatField(allow_null=True, help_text="dex")
    fe_h = serializers.FloatField(allow_null=True, help_text="dex")
    alpha_fe = serializers.FloatField(allow_null=True, help_text="dex")
    bhb_score = serializers.FloatField(allow_null=True, help_text="P(BHB) from the active BATMM")

    def to_representation(self, star):
        data = super().to_representation(star)
        if getattr(star, "distance", None) is not None:
            data["distance"] = star.distance
        return data


class LabelsSerializer(serializers.Serializer):
    source = serializers.CharField()
    teff = serializers.FloatField(allow_null=True)
    teff_err = serializers.FloatField(allow_null=True)
    logg = serializers.FloatField(allow_null=True)
    logg_err = serializers.FloatField(allow_null=True)
    fe_h = serializers.FloatField(allow_null=True)
    fe_h_err = serializers.FloatField(allow_null=True)
    alpha_fe = serializers.FloatField(allow_null=True)
    alpha_fe_err = serializers.FloatField(allow_null=True)
    abundances = serializers.DictField()


class SpectrumMetaSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    survey = serializers.CharField(source="survey.code")
    snr = serializers.FloatField(allow_null=True)
    source_file = serializers.CharField()
    source_key = serializers.CharField()
    balmer = serializers.SerializerMethodField(
        help_text="SDSS only: Hδ D0.2 (Å) and fm, Hγ c and b (Å), converged, xue_bhb (Xue et al. 2011 cuts), "
                  "problem; null for other surveys or where not measured yet")

    def get_balmer(self, spectrum) -> dict | None:
        stored = getattr(spectrum, "balmer", None)
        return None if stored is None else stored.as_dict()


class ModelVersionSerializer(serializers.ModelSerializer):
    class Meta:
        model = ModelVersion
        fields = ["id", "kind", "state", "config", "metrics", "created_at", "activated_at", "parent"]


class TrainingRunSerializer(serializers.ModelSerializer):
    """A run's progress for anyone; its traceback (``error``) and worker log (``logs``) for staff
    only (they name paths, hosts and settings), null for everyone else."""

    kind = serializers.CharField(source="model_version.kind", read_only=True)
    STAFF_ONLY = ("error", "logs")

    class Meta:
        model = TrainingRun
        fields = ["id", "model_version", "kind", "state", "phase", "progress", "epoch", "interruptions", "loss_history",
                  "timings", "error", "logs", "started_at", "finished_at"]

    def to_representation(self, instance):
        data = super().to_representation(instance)
        request = self.context.get("request")
        if not (request and request.user.is_staff):
            data.update({name: None for name in self.STAFF_ONLY})
        return data


class TrainingRunCreateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ModelVersion.Kind.choices)
    config = serializers.DictField(required=False, default=dict)


# -- Response shapes (the OpenAPI schema's; the views build these dicts directly) -----------------
class ErrorDetailSerializer(serializers.Serializer):
    status = serializers.IntegerField(help_text="the HTTP status")
    code = serializers.CharField(help_text="e.g. invalid, not_found, conflict, throttled")
    detail = serializers.JSONField(help_text="the reason: a sentence, or {parameter: [reasons]}")


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()


class ImageMetaSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    bands = serializers.CharField(help_text="e.g. ugriz")
    height = serializers.IntegerField(help_text="pixels")
    width = serializers.IntegerField(help_text="pixels")
    pixel_scale = serializers.FloatField(allow_null=True, help_text="arcsec per pixel")
    source_file = serializers.CharField()


class StarDetailSerializer(StarSerializer):
    labels = LabelsSerializer(many=True, help_text="one row per label source (grid, aspcap, …)")
    spectra = SpectrumMetaSerializer(many=True)
    images = ImageMetaSerializer(many=True)


class SpectrumResponseSerializer(serializers.Serializer):
    star = serializers.CharField(help_text="designation")
    spectrum_id = serializers.IntegerField()
    survey = serializers.CharField()
    air_or_vacuum = serializers.ChoiceField(choices=["vacuum"])
    units = serializers.DictField(child=serializers.CharField(), help_text="wavelength, flux, error")
    wavelength = serializers.ListField(child=serializers.FloatField(), help_text="Å, vacuum")
    flux = serializers.ListField(child=serializers.FloatField(allow_null=True), help_text="null at a bad pixel")
    error = serializers.ListField(child=serializers.FloatField(allow_null=True), allow_null=True, help_text="1σ")
    files = serializers.DictField(child=serializers.URLField(), help_text="the same spectrum as FITS and ECSV")


class TwinRowSerializer(serializers.Serializer):
    star_id = serializers.IntegerField()
    designation = serializers.CharField()
    spectrum_id = serializers.IntegerField(help_text="the spectrum whose latent matched")
    survey = serializers.CharField()
    distance = serializers.FloatField(help_text="L2 in the latent space (dimensionless)")
    teff = serializers.FloatField(allow_null=True, help_text="K")
    logg = serializers.FloatField(allow_null=True, help_text="dex")
    fe_h = serializers.FloatField(allow_null=True, help_text="dex")
    alpha_fe = serializers.FloatField(allow_null=True, help_text="dex")


class TwinsResponseSerializer(serializers.Serializer):
    model_version = serializers.IntegerField(help_text="the disentangler version searched")
    plan = serializers.ChoiceField(choices=["hnsw", "exact"], help_text="HNSW index, or an exact scan for selective filters")
    query = serializers.DictField(help_text="what was asked: the star or the file, k, the parameters used")
    latent = serializers.ListField(child=serializers.FloatField(), help_text="the query's z, 25 values")
    count = serializers.IntegerField()
    outside_training_range = serializers.BooleanField(allow_null=True)
    beyond_range = serializers.DictField(child=serializers.FloatField(), help_text="{parameter: K or dex outside}")
    nearest_distance = serializers.FloatField(allow_null=True, help_text="to the nearest other star, whatever the filters")
    unlike_catalog = serializers.BooleanField(allow_null=True, help_text="nearest_distance above the catalog's 99th percentile")
    warnings = serializers.ListField(child=serializers.CharField())
    twins = TwinRowSerializer(many=True)


class GeneratedSpectrumSerializer(serializers.Serializer):
    star = serializers.CharField(help_text="designation")
    model_version = serializers.IntegerField()
    parameters = serializers.DictField(child=serializers.FloatField(), help_text="teff K, logg dex, …: what D(z, cp) drew")
    outside_training_range = serializers.BooleanField()
    training_range = serializers.DictField(help_text="{parameter: [low, high]}")
    units = serializers.DictField(child=serializers.CharField())
    wavelength = serializers.ListField(child=serializers.FloatField(), help_text="Å, vacuum")
    flux = serializers.ListField(child=serializers.FloatField(), help_text="normalised")


class BHBCandidateSerializer(serializers.Serializer):
    star_id = serializers.IntegerField()
    designation = serializers.CharField()
    ra = serializers.FloatField(help_text="deg, ICRS")
    dec = serializers.FloatField(help_text="deg, ICRS")
    score = serializers.FloatField(help_text="calibrated P(BHB)")
    model_version = serializers.IntegerField()
    d02 = serializers.FloatField(allow_null=True, help_text="Hδ D0.2, Å")
    fm = serializers.FloatField(allow_null=True, help_text="Hδ fm")
    c = serializers.FloatField(allow_null=True, help_text="Hγ Sérsic c")
    b = serializers.FloatField(allow_null=True, help_text="Hγ Sérsic b, Å")
    xue_bhb = serializers.BooleanField(allow_null=True, help_text="selected by the Xue et al. 2011 cuts")


class PeculiarStarSerializer(serializers.Serializer):
    star_id = serializers.IntegerField()
    designation = serializers.CharField()
    spectrum_id = serializers.IntegerField()
    survey = serializers.CharField()
    score = serializers.FloatField(help_text="mean neighbour distance in z over the neighbours' own; 1 = ordinary")
    teff = serializers.FloatField(allow_null=True, help_text="K, as encoded")
    logg = serializers.FloatField(allow_null=True, help_text="dex, as encoded")
    model_version = serializers.IntegerField()


class ChemicalGroupSerializer(serializers.Serializer):
    group = serializers.IntegerField(help_text="0 the largest")
    size = serializers.IntegerField(help_text="spectra in the group")
    teff_min = serializers.FloatField(allow_null=True, help_text="K")
    teff_max = serializers.FloatField(allow_null=True, help_text="K")
    logg_min = serializers.FloatField(allow_null=True, help_text="dex")
    logg_max = serializers.FloatField(allow_null=True, help_text="dex")
    probability = serializers.FloatField(help_text="mean membership strength")


class GroupMemberSerializer(serializers.Serializer):
    star_id = serializers.IntegerField()
    designation = serializers.CharField()
    spectrum_id = serializers.IntegerField()
    survey = serializers.CharField()
    group = serializers.IntegerField()
    probability = serializers.FloatField()
    teff = serializers.FloatField(allow_null=True, help_text="K, as encoded")
    logg = serializers.FloatField(allow_null=True, help_text="dex, as encoded")
