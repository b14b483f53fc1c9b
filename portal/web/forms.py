"""Forms of the web pages; every bad input becomes a form error naming the field."""
from __future__ import annotations

from django import forms

from django.conf import settings

from catalog.inference import too_large
from catalog.selectors import SORTABLE, StarQuery, TwinFilters
from portal.coordinates import CoordinateError, parse_angle, parse_position

SURVEYS = [("", "any survey"), ("apogee", "APOGEE"), ("gaia_rvs", "Gaia RVS"), ("sdss", "SDSS")]


class StarSearchForm(forms.Form):
    q = forms.CharField(required=False, label="Star", max_length=100,
                        widget=forms.TextInput(attrs={"placeholder": "designation, APOGEE id, Gaia id, plate-mjd-fiber"}))
    ra = forms.CharField(required=False, label="RA", max_length=40, widget=forms.TextInput(attrs={"placeholder": "deg or hh:mm:ss"}))
    dec = forms.CharField(required=False, label="Dec", max_length=40, widget=forms.TextInput(attrs={"placeholder": "deg or dd:mm:ss"}))
    radius = forms.CharField(required=False, label="radius", max_length=20, widget=forms.TextInput(attrs={"placeholder": "deg, or 30s / 2m"}))
    teff_min = forms.FloatField(required=False, label="Teff ≥ (K)")
    teff_max = forms.FloatField(required=False, label="Teff ≤ (K)")
    logg_min = forms.FloatField(required=False, label="logg ≥")
    logg_max = forms.FloatField(required=False, label="logg ≤")
    fe_h_min = forms.FloatField(required=False, label="[Fe/H] ≥")
    fe_h_max = forms.FloatField(required=False, label="[Fe/H] ≤")
    survey = forms.ChoiceField(required=False, choices=SURVEYS)
    ordering = forms.CharField(required=False, widget=forms.HiddenInput)

    def clean(self):
        data = super().clean()
        cone = [data.get(k) for k in ("ra", "dec", "radius")]
        data["ra_deg"] = data["dec_deg"] = data["radius_deg"] = None
        if any(cone):
            if not all(cone):
                raise forms.ValidationError("a cone search needs RA, Dec and a radius")
            try:
                data["ra_deg"], data["dec_deg"] = parse_position(data["ra"], data["dec"])
            except CoordinateError as error:
                self.add_error("ra", str(error))
            try:
                data["radius_deg"] = parse_angle(data["radius"])
            except CoordinateError as error:
                self.add_error("radius", str(error))
        for name in ("teff", "logg", "fe_h"):
            low, high = data.get(f"{name}_min"), data.get(f"{name}_max")
            if low is not None and high is not None and low > high:
                self.add_error(f"{name}_max", "the maximum is below the minimum")
        order = data.get("ordering") or "designation"
        if order.lstrip("-") not in SORTABLE or (order.lstrip("-") == "distance" and data.get("ra_deg") is None):
            order = "designation"
        data["ordering"] = order
        return data

    def query(self) -> StarQuery:
        data = self.cleaned_data
        return StarQuery(text=data.get("q") or "", ra=data["ra_deg"], dec=data["dec_deg"], radius=data["radius_deg"],
                         teff=(data.get("teff_min"), data.get("teff_max")), logg=(data.get("logg_min"), data.get("logg_max")),
                         fe_h=(data.get("fe_h_min"), data.get("fe_h_max")), survey=data.get("survey") or "",
                         order=data["ordering"])


class ParameterRangeForm(forms.Form):
    """Teff and logg ranges (K, dex), either end optional; a minimum above its maximum is a form error."""

    teff_min = forms.FloatField(required=False, label="Teff ≥ (K)")
    teff_max = forms.FloatField(required=False, label="Teff ≤ (K)")
    logg_min = forms.FloatField(required=False, label="logg ≥")
    logg_max = forms.FloatField(required=False, label="logg ≤")

    def clean(self):
        data = super().clean()
        for name in ("teff", "logg"):
            low, high = data.get(f"{name}_min"), data.get(f"{name}_max")
            if low is not None and high is not None and low > high:
                self.add_error(f"{name}_max", "the maximum is below the minimum")
        return data


class TwinFilterForm(ParameterRangeForm):
    k = forms.IntegerField(min_value=1, max_value=100, initial=10, required=False, label="k")
    survey = forms.ChoiceField(required=False, choices=SURVEYS)
    exclude_same_group = forms.BooleanField(required=False, label="exclude the same synthetic group")
    include_self = forms.BooleanField(required=False, label="include the star itself")
    field_order = ["k", "teff_min", "teff_max", "logg_min", "logg_max", "survey"]

    def neighbours(self) -> int:
        return self.cleaned_data.get("k") or 10

    def filters(self) -> TwinFilters:
        data = self.cleaned_data

        def bounds(name):
            low, high = data.get(f"{name}_min"), data.get(f"{name}_max")
            if low is None and high is None:
                return None
            return (low if low is not None else -1e30, high if high is not None else 1e30)

        return TwinFilters(teff=bounds("teff"), logg=bounds("logg"), survey=data.get("survey") or None,
                           exclude_same_group=bool(data.get("exclude_same_group")), include_self=bool(data.get("include_self")))


class SpectrumUploadForm(TwinFilterForm):
    file = forms.FileField(label="FITS spectrum")
    teff = forms.FloatField(required=False, label="its Teff (K)", help_text="needed unless the file carries it")
    logg = forms.FloatField(required=False, label="its logg", help_text="needed unless the file carries it")
    field_order = ["file", "teff", "logg", "k"]

    def __init__(self, *args, refused: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.refused = refused  # why the upload handler dropped the file (portal.uploads)
        if refused:
            self.fields["file"].required = False  # clean_file says why it is missing
        self.fields["file"].help_text = (f"apStar, aspcapStar, SDSS spec or Gaia RVS (.fits or .fits.gz); at most "
                                         f"{settings.UPLOAD_MAX_BYTES / 1e6:.0f} MB")

    def clean_file(self):
        upload = self.cleaned_data.get("file")
        if self.refused:
            raise forms.ValidationError(self.refused)
        if upload.size > settings.UPLOAD_MAX_BYTES:
            raise forms.ValidationError(too_large(upload.name, upload.size))
        return upload


class BHBThresholdForm(forms.Form):
    threshold = forms.FloatField(min_value=0.0, max_value=1.0, required=False, initial=0.5,
                                 widget=forms.NumberInput(attrs={"type": "range", "min": 0, "max": 1, "step": 0.01}))


class PeculiarForm(ParameterRangeForm):
    """Filters of the peculiar-stars page (the API's parameters)."""

    min_score = forms.FloatField(required=False, min_value=0.0, label="score ≥", initial=None,
                                 help_text="1 is an ordinary star")
    survey = forms.ChoiceField(required=False, choices=SURVEYS)
    field_order = ["min_score", "survey"]

    def query(self) -> dict:
        """Keyword arguments of ``catalog.selectors.peculiar_stars``."""
        data = self.cleaned_data
        return {"min_score": data.get("min_score"), "survey": data.get("survey") or "",
                "teff": (data.get("teff_min"), data.get("teff_max")), "logg": (data.get("logg_min"), data.get("logg_max"))}


class AdqlForm(forms.Form):
    """An ADQL query run on the VO page (the same query ``/tap/sync`` runs), its rows shown there."""

    MAX_ROWS_SHOWN = 1000

    query = forms.CharField(label="ADQL", max_length=20_000, strip=True,
                            widget=forms.Textarea(attrs={"rows": 5, "cols": 100, "spellcheck": "false"}))
    maxrec = forms.IntegerField(label="rows shown", min_value=1, max_value=MAX_ROWS_SHOWN, initial=100, required=False,
                                help_text=f"at most {MAX_ROWS_SHOWN:,}; the downloads take up to the TAP limit")

    def clean_maxrec(self):
        return self.cleaned_data.get("maxrec") or self.fields["maxrec"].initial
