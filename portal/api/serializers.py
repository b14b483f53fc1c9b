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
