"""Web pages. Thin: forms → catalog.selectors / catalog.inference → templates + Bokeh items."""
from __future__ import annotations

from urllib.parse import urlencode

import numpy as np
from django.conf import settings
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.cache import cache_control, cache_page
from django.views.decorators.http import require_GET, require_http_methods

from catalog import inference, selectors
from catalog.balmer import BALMER_COLUMNS
from catalog.ingest.records import BadInput
from catalog.models import Star
from catalog.selectors.tap import TapError, run_adql
from catalog.tap_schema import EXAMPLES, TABLES
from catalog.targets import disentangler_checks
from portal import plots, uploads
from portal.api.filters import PECULIAR_PARAMETERS, STAR_PARAMETERS
from portal.api.renderers import CSVRenderer, votable_bytes
from portal.api.throttling import TapThrottle
from portal.web.pagination import EstimatingPaginator
from portal.plots.thumbnails import bands_png, cutout_png, spectrum_png
from portal.web.forms import AdqlForm, BHBThresholdForm, PeculiarForm, SpectrumUploadForm, StarSearchForm, TwinFilterForm

PAGE_SIZE = 25
SORT_COLUMNS = [("designation", "star"), ("ra", "RA"), ("dec", "Dec"), ("teff", "Teff"), ("logg", "logg"),
                ("fe_h", "[Fe/H]"), ("bhb_score", "BHB")]


def _page(request, items, size=PAGE_SIZE):
    return EstimatingPaginator(items, size).get_page(request.GET.get("page"))


def _votable_url(request, path: str, params: dict) -> str:
    """The absolute URL of a VOTable of ``path`` with the non-empty ``params``: what a SAMP client
    (TOPCAT, Aladin) is sent to load."""
    query = urlencode({**{key: value for key, value in params.items() if value not in (None, "")}, "format": "votable"})
    return request.build_absolute_uri(f"{path}?{query}")


@require_GET
def home(request):
    """Search by identifier, cone or parameter ranges; the catalog summary."""
    form = StarSearchForm(request.GET or None)
    page = None
    order = "designation"
    if form.is_bound and form.is_valid():
        try:
            page = _page(request, selectors.stars_search(form.query()))
        except selectors.StarQueryError as error:
            form.add_error(None, str(error))
        order = form.cleaned_data["ordering"]
    columns = SORT_COLUMNS + ([("distance", "distance (°)")] if form.is_bound and form.is_valid() and form.cleaned_data["ra_deg"] is not None else [])
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("ordering", None)
    votable = _votable_url(request, reverse("star-list"), {**{k: v for k, v in request.GET.items() if k in STAR_PARAMETERS},
                                                         "ordering": order}) if page is not None else None
    return render(request, "catalog/home.html", {
        "form": form, "page": page, "summary": selectors.catalog_summary(), "columns": columns, "order": order,
        "query": query.urlencode(), "votable_url": votable})


def _latent_context(star: Star) -> dict:
    version = selectors.active_version("disentangler")
    if version is None:
        return {}
    try:
        spectrum_id, latent = selectors.star_latent(star=star, version=version)
    except selectors.TwinSearchError:
        return {"latent_version": version}
    return {"latent_version": version, "latent": [round(float(v), 3) for v in latent]}


@require_GET
def star_detail(request, star_id: int):
    star = selectors.star_detail(star_id)
    if star is None:
        raise Http404("no such star")
    spectra = selectors.star_spectra(star)
    context = {"star": star, "labels": selectors.star_labels(star), "spectra": spectra, "images": selectors.star_images(star),
               "bhb_score": star.bhb_score, "balmer": selectors.balmer_measurements(star),
               "peculiarity": selectors.star_peculiarity(star.pk),
               **_latent_context(star)}
    reconstruction, generated = None, None
    if context.get("latent") is not None:
        try:
            reconstruction = inference.reconstruct(star)
        except inference.InferenceError as error:
            context["model_note"] = str(error)
    plots_items = {}
    for spectrum in spectra[:3]:
        arrays = selectors.spectrum_arrays(spectrum)
        own = reconstruction if reconstruction is not None and spectrum.survey.code == context["latent_version"].config.get("survey") else None
        plots_items[f"spectrum-{spectrum.pk}"] = plots.spectrum_item(
            wavelength=arrays["wavelength"], flux=arrays["flux"], error=arrays["error"], unit=arrays["unit"],
            survey=arrays["survey"], title=f"{star.designation} — {spectrum.survey.name}",
            reconstruction=None if own is None else own.flux)
    if reconstruction is not None:
        generated = plots.generated_item(wavelength=reconstruction.wavelength, own_flux=reconstruction.flux,
                                         title="This star at another Teff / logg (decoder D(z, cp))")
        plots_items["generated"] = generated
        number = _slider_number
        context["sliders"] = [{"name": name, "value": number(reconstruction.parameters[name], name),
                               "low": number(low - 0.25 * (high - low), name), "high": number(high + 0.25 * (high - low), name),
                               "train_low": number(low, name), "train_high": number(high, name),
                               "step": "10" if name == "teff" else "0.05"}
                              for name, (low, high) in reconstruction.training_range.items()]
    if context.get("peculiarity"):
        try:
            explained = inference.peculiarity_explanation(star)
        except inference.InferenceError as error:
            context["model_note"] = str(error)
        else:
            context["peculiar_features"] = explained.features
            plots_items["peculiarity-plot"] = plots.peculiarity_item(
                wavelength=explained.wavelength, difference=explained.difference, features=explained.features,
                title=f"What the model cannot explain in this star and can in its {explained.neighbours} nearest twins",
                legend="residual (spectrum − decoder) minus the twins' median residual")
    context["plots"] = plots_items
    return render(request, "catalog/star.html", context)


def _slider_number(value: float, name: str) -> float:
    """A slider's number as a person reads it: whole K for Teff, 0.01 dex otherwise (the model's
    float32 limits would read 3.20000002384186)."""
    return round(float(value), 0 if name == "teff" else 2)


def _twin_rows(result, query_star: Star | None):
    own = {"teff": getattr(query_star, "teff", None), "logg": getattr(query_star, "logg", None),
           "fe_h": getattr(query_star, "fe_h", None)}
    rows = []
    for twin in result.rows:
        row = {"star_id": twin.star_id, "designation": twin.designation, "survey": twin.survey,
               "distance": round(twin.distance, 4), "teff": twin.teff, "logg": twin.logg, "fe_h": twin.fe_h,
               "alpha_fe": twin.alpha_fe}
        for name in ("teff", "logg", "fe_h"):
            value = getattr(twin, name)
            row[f"d_{name}"] = None if value is None or own[name] is None else round(value - own[name], 3)
        rows.append(row)
    return rows


def _overlay(result, query_flux, query_label, version):
    if not result.rows:
        return None
    survey = version.config.get("survey")
    wavelength = selectors.survey_wavelength(survey)
    shown = [t for t in result.rows if t.survey == survey][:10]
    fluxes = selectors.spectra_flux(np.array([t.spectrum_id for t in shown])) if shown else []
    return plots.twins_overlay_item(wavelength=wavelength, query_flux=query_flux, query_label=query_label,
                                    twins=[(f"{t.designation} (d={t.distance:.2f})", f) for t, f in zip(shown, fluxes)])


def _export(rows, fmt: str, filename: str):
    if fmt == "csv":
        response = HttpResponse(CSVRenderer().render(rows), content_type="text/csv")
    else:
        response = HttpResponse(votable_bytes(rows, name="twins"), content_type="application/x-votable+xml")
    response["Content-Disposition"] = f'attachment; filename="{filename}.{"csv" if fmt == "csv" else "vot"}"'
    return response


@require_GET
def star_twins(request, star_id: int):
    star = selectors.star_detail(star_id)
    if star is None:
        raise Http404("no such star")
    form = TwinFilterForm(request.GET or {"k": 10})
    context = {"star": star, "form": form}
    if form.is_valid():
        try:
            result = selectors.twins_for_star(star=star, k=form.neighbours(), filters=form.filters())
        except selectors.TwinSearchError as error:
            context["error"] = str(error)
        else:
            rows = _twin_rows(result, star)
            fmt = request.GET.get("format")
            if fmt in ("csv", "votable"):
                return _export(rows, fmt, f"twins-{star.designation}")
            query_flux = selectors.spectra_flux(np.array([result.query_spectrum_id]))[0]
            context.update(result=result, rows=rows, plots={"overlay": _overlay(result, query_flux, star.designation, result.version)},
                           export_query=request.GET.urlencode(), votable_url=_votable_url(request, request.path, request.GET.dict()))
    return render(request, "catalog/twins.html", context)


@require_http_methods(["GET", "POST"])
def twins_upload(request):
    if request.method == "POST":  # parsing the body here fills uploads.refused
        form = SpectrumUploadForm(request.POST, request.FILES, refused=uploads.refused(request))
    else:
        form = SpectrumUploadForm()
    context = {"form": form}
    if request.method == "POST" and form.is_valid():
        try:
            found = inference.twins_for_upload(form.cleaned_data["file"], k=form.neighbours(), filters=form.filters(),
                                               given={n: form.cleaned_data.get(n) for n in ("teff", "logg")})
        except BadInput as error:
            form.add_error("file", str(error))
        except inference.MissingParameters as error:
            form.add_error("teff", str(error))
        except (inference.InferenceError, selectors.TwinSearchError) as error:
            form.add_error(None, str(error))
        else:
            context.update(result=found.result, rows=_twin_rows(found.result, None), uploaded=found.spectrum.name,
                           parameters=found.parameters,
                           plots={"overlay": _overlay(found.result, found.spectrum.flux, found.spectrum.name, found.version)})
    return render(request, "catalog/upload.html", context)


COLOURS = {"teff": "K", "logg": "dex", "fe_h": "dex", "alpha_fe": "dex", "group": ""}


@require_GET
def latent_map(request):
    version = selectors.active_version("disentangler")
    colour_by = request.GET.get("colour", "teff")
    if colour_by not in COLOURS:
        colour_by = "teff"
    context = {"version": version, "colour_by": colour_by, "colours": list(COLOURS)}
    if version is not None and version.latent_map.get("spectrum_ids"):
        spectrum_map = version.latent_map
        info = selectors.map_points(spectrum_map["spectrum_ids"], colour_by)
        context["plots"] = {"map": plots.latent_map_item(
            latent_xy=spectrum_map["latent"], raw_xy=spectrum_map["raw"], star_ids=info["star_ids"],
            designations=info["designations"], values=info["values"], colour_by=colour_by, unit=COLOURS[colour_by])}
        context["n_points"] = len(spectrum_map["spectrum_ids"])
    return render(request, "catalog/latent_map.html", context)


@require_GET
def bhb_candidates(request):
    form = BHBThresholdForm(request.GET or None)
    threshold = form.cleaned_data.get("threshold") if form.is_bound and form.is_valid() else 0.5
    threshold = 0.5 if threshold is None else threshold
    candidates = selectors.bhb_candidates(threshold=threshold)
    if request.GET.get("format") == "csv":
        rows = [{"designation": c.star.designation, "ra": c.star.ra, "dec": c.star.dec, "score": round(c.score, 4),
                 "model_version": c.model_version_id, **{name: getattr(c, name) for name in BALMER_COLUMNS}}
                for c in candidates[:100_000]]
        return _export(rows, "csv", f"bhb-candidates-{threshold:.2f}")
    return render(request, "catalog/bhb.html", {"form": form, "threshold": threshold, "page": _page(request, candidates),
                                                "version": selectors.active_version("bhb"),
                                                "xue": selectors.xue_agreement(top=50),
                                                "votable_url": _votable_url(request, reverse("bhb-candidate-list"),
                                                                            {"threshold": threshold})})


@require_GET
def peculiar_stars(request):
    """Spectra ranked by peculiarity under the active disentangler, with filters."""
    form = PeculiarForm(request.GET or None)
    if form.is_bound and not form.is_valid():
        rows = selectors.peculiar_stars().none()  # the form shows what to fix
    else:
        rows = selectors.peculiar_stars(**(form.query() if form.is_bound else {}))
    query = request.GET.copy()
    query.pop("page", None)
    api_params = {k: v for k, v in request.GET.items() if k in PECULIAR_PARAMETERS}
    return render(request, "catalog/peculiar.html", {
        "form": form, "page": _page(request, rows), "version": selectors.active_version("disentangler"),
        "injected": selectors.injected_peculiar(top=50),
        "query": query.urlencode(), "votable_url": _votable_url(request, reverse("peculiar-star-list"), api_params),
        "csv_url": reverse("peculiar-star-list") + "?" + urlencode({**api_params, "format": "csv"})})


@require_GET
def chemical_groups(request):
    """The active disentangler's chemical groups, largest first, with their Teff and logg span."""
    return render(request, "catalog/groups.html", {"version": selectors.active_version("disentangler"),
                                                   "groups": selectors.chemical_groups()})


@require_GET
def chemical_group(request, group: int):
    """One group: what its members share (the decoder's mean-latent difference spectrum) and its members."""
    members = selectors.group_members(group)
    if not members.exists():
        raise Http404("no such group under the active disentangler")
    context = {"group": group, "page": _page(request, members), "plots": {},
               "summary": next((g for g in selectors.chemical_groups() if g["group"] == group), None),
               "votable_url": _votable_url(request, reverse("chemical-group-members", args=[group]), {})}
    try:
        explained = inference.group_explanation(group)
    except inference.InferenceError as error:
        context["model_note"] = str(error)
    else:
        context["features"] = explained.features
        context["plots"]["group-plot"] = plots.peculiarity_item(
            wavelength=explained.wavelength, difference=explained.difference, features=explained.features,
            title=f"What group {group} shares: its mean latent minus the catalog's (decoder, at its median Teff and logg)",
            legend="group − catalog (decoder, same Teff and logg)")
    return render(request, "catalog/group.html", context)


@require_GET
def models(request):
    versions = list(selectors.model_versions()[:50])
    curves = {v.pk: plots.loss_curves_item(selectors.loss_curves(v), v.kind) for v in versions[:10]}
    for version in versions:
        version.checks = disentangler_checks(version.metrics) if version.kind == "disentangler" else []
    return render(request, "catalog/models.html", {
        "versions": versions, "plots": {f"curves-{pk}": item for pk, item in curves.items() if item}})


# The longest URL a VO client is handed over SAMP: gunicorn refuses request lines past 4,094 bytes.
SAMP_URL_MAX = 4000


@require_http_methods(["GET", "POST"])
def vo_services(request):
    """The VO services (TAP, cone search, SAMP) and how to reach them, with an ADQL query run here
    (the query ``/tap/sync`` runs; its first ``maxrec`` rows shown, the whole answer downloadable).
    The form posts (a query of any length); a GET with ``query`` (the examples, a shared link) runs too."""
    data = request.POST if request.method == "POST" else request.GET
    form = AdqlForm(data if "query" in data else None, initial={"query": EXAMPLES[0][1]})
    tap_url = request.build_absolute_uri(reverse("tap-sync")).removesuffix("/sync")
    result, download, samp_url, refused = None, {}, "", None
    if form.is_bound and form.is_valid():
        query = form.cleaned_data["query"]
        try:
            if refused := TapThrottle().refusal(request):
                raise TapError(refused)
            result = run_adql(query, maxrec=form.cleaned_data["maxrec"], timeout_s=settings.TAP_SYNC_TIMEOUT_S)
        except TapError as error:
            form.add_error("query", str(error))
        else:
            download = {"REQUEST": "doQuery", "LANG": "ADQL", "MAXREC": settings.TAP_MAX_ROWS, "QUERY": query}
            url = f"{tap_url}/sync?" + urlencode({**download, "RESPONSEFORMAT": "votable"})
            samp_url = url if len(url) <= SAMP_URL_MAX else ""
    return render(request, "catalog/vo.html", {
        "form": form, "result": result, "download": download, "formats": (("votable", "VOTable"), ("csv", "CSV")),
        "samp_url": samp_url, "tap_url": tap_url,
        "headers": [(name, result.meta.get(name, ("", ""))[1]) for name in result.columns] if result else [],
        "rows": [[row[name] for name in result.columns] for row in result.rows] if result else [],
        "scs_url": request.build_absolute_uri(reverse("vo-scs")), "tables": TABLES,
        "examples": [(title, urlencode({"query": adql, "maxrec": AdqlForm.base_fields["maxrec"].initial}))
                     for title, adql in EXAMPLES],
        "max_rows": f"{settings.TAP_MAX_ROWS:,}", "sync_timeout_s": settings.TAP_SYNC_TIMEOUT_S,
        "async_timeout_s": settings.TAP_ASYNC_TIMEOUT_S, "upload_rows": f"{settings.TAP_UPLOAD_MAX_ROWS:,}"},
        status=429 if refused else 200)


THUMBNAIL_CACHE_S = 3600  # thumbnails are drawn once an hour at most, in the shared cache


@cache_page(THUMBNAIL_CACHE_S)
@cache_control(max_age=3600)
@require_GET
def spectrum_thumbnail(request, star_id: int):
    star = get_object_or_404(Star, pk=star_id)
    spectra = selectors.star_spectra(star)
    if not spectra:
        raise Http404("no spectrum")
    preferred = next((s for s in spectra if s.survey.code == "sdss"), spectra[0])
    arrays = selectors.spectrum_arrays(preferred)
    return HttpResponse(spectrum_png(arrays["wavelength"], arrays["flux"]), content_type="image/png")


@cache_page(THUMBNAIL_CACHE_S)
@cache_control(max_age=3600)
@require_GET
def cutout_thumbnail(request, star_id: int, layout: str = "gri"):
    """The star's first cutout: a gri composite, or (layout "bands") the five bands side by side."""
    image = selectors.first_image(star_id)
    if image is None:
        raise Http404("no image")
    png = bands_png(image.cube_array, image.bands) if layout == "bands" else cutout_png(image.cube_array)
    return HttpResponse(png, content_type="image/png")

