"""Reads about stars: search (identifier, cone, parameter ranges), one star's record, its arrays,
and BHB candidates. Angles in degrees (ICRS); Teff in K; logg and abundances in dex."""
from __future__ import annotations

import math
from dataclasses import dataclass

from django.db.models import F, FilteredRelation, FloatField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.expressions import RawSQL

from catalog.balmer import BALMER_COLUMNS, BALMER_SURVEYS
from catalog.models import BalmerLines, BHBScore, Image, Labels, ModelVersion, Spectrum, Star, Survey

# Which label source describes a star when it has several (first wins; then by name). The database
# applies it (migration 0014's catalog_star_parameters_refresh, and the TAP view doppel.stars).
LABEL_PREFERENCE = ("aspcap", "grid", "synthetic")
SORTABLE = {"designation", "ra", "dec", "teff", "logg", "fe_h", "alpha_fe", "bhb_score", "distance"}
LABEL_FIELDS = ("teff", "logg", "fe_h", "alpha_fe")


class StarQueryError(ValueError):
    """A search that cannot run; the message names the parameter."""


@dataclass
class StarQuery:
    text: str = ""  # designation, APOGEE id, Gaia source_id or SDSS plate-mjd-fiber (prefix match on designation)
    ra: float | None = None
    dec: float | None = None
    radius: float | None = None  # deg
    teff: tuple[float | None, float | None] = (None, None)
    logg: tuple[float | None, float | None] = (None, None)
    fe_h: tuple[float | None, float | None] = (None, None)
    survey: str = ""
    order: str = "designation"  # a SORTABLE name, "-" for descending

    def validate(self) -> "StarQuery":
        cone = (self.ra, self.dec, self.radius)
        if any(v is not None for v in cone) and not all(v is not None for v in cone):
            raise StarQueryError("a cone search needs ra, dec and radius together")
        if self.ra is not None:
            if not (0.0 <= self.ra < 360.0):
                raise StarQueryError(f"ra must be in [0, 360) deg, not {self.ra}")
            if not (-90.0 <= self.dec <= 90.0):
                raise StarQueryError(f"dec must be in [-90, 90] deg, not {self.dec}")
            if not (0.0 < self.radius <= 10.0):
                raise StarQueryError(f"radius must be in (0, 10] deg, not {self.radius}")
        for name in ("teff", "logg", "fe_h"):
            low, high = getattr(self, name)
            if low is not None and high is not None and low > high:
                raise StarQueryError(f"{name}: the minimum {low} is above the maximum {high}")
        if self.order.lstrip("-") not in SORTABLE or (self.order.lstrip("-") == "distance" and self.ra is None):
            raise StarQueryError(f"cannot sort by {self.order!r}; use one of {', '.join(sorted(SORTABLE))}")
        return self


def with_parameters(stars: QuerySet) -> QuerySet:
    """Annotate the active BHB score (``bhb_score``, None without one): a join to the active
    version's partition of the scores. The preferred labels (teff, logg, fe_h, alpha_fe) are
    columns of the star itself (kept in step with Labels by the database)."""
    active_bhb = ModelVersion.objects.filter(kind=ModelVersion.Kind.BHB, state=ModelVersion.State.ACTIVE) \
        .values_list("pk", flat=True).first()
    if active_bhb is None:
        return stars.annotate(bhb_score=Value(None, output_field=FloatField()))
    return stars.annotate(active_bhb=FilteredRelation("bhb_scores", condition=Q(bhb_scores__model_version_id=active_bhb)),
                          bhb_score=F("active_bhb__score"))


def angular_distance_sql(ra: float, dec: float) -> RawSQL:
    """Great-circle distance (deg) from (ra, dec) to each star, haversine form (exact at small angles)."""
    return RawSQL(
        "degrees(2 * asin(least(1, sqrt(power(sin(radians(catalog_star.dec - %s) / 2), 2) + "
        "cos(radians(%s)) * cos(radians(catalog_star.dec)) * power(sin(radians(catalog_star.ra - %s) / 2), 2)))))",
        (dec, dec, ra))


def cone_filter(ra: float, dec: float, radius: float) -> Q:
    """A box that the index on (dec, ra) can use; the exact distance is applied on top."""
    q = Q(dec__gte=dec - radius, dec__lte=dec + radius)
    if abs(dec) + radius < 89.0:
        half_width = radius / math.cos(math.radians(abs(dec) + radius))
        low, high = ra - half_width, ra + half_width
        if low >= 0 and high < 360:
            q &= Q(ra__gte=low, ra__lte=high)
        else:  # wraps through ra = 0
            q &= Q(ra__gte=low % 360) | Q(ra__lte=high % 360)
    return q


def stars_search(query: StarQuery) -> QuerySet:
    """Stars matching the query, annotated with parameters (and ``distance`` for a cone)."""
    query.validate()
    stars = with_parameters(Star.objects.all())
    text = query.text.strip()
    if text:
        match = Q(designation__istartswith=text) | Q(apogee_id__iexact=text)
        if text.isdigit():
            match |= Q(gaia_source_id=int(text))
        parts = text.replace("/", "-").split("-")
        if len(parts) == 3 and all(p.isdigit() for p in parts):
            match |= Q(sdss_plate=int(parts[0]), sdss_mjd=int(parts[1]), sdss_fiber=int(parts[2]))
        stars = stars.filter(match)
    if query.ra is not None:
        stars = stars.filter(cone_filter(query.ra, query.dec, query.radius)).annotate(
            distance=angular_distance_sql(query.ra, query.dec)).filter(distance__lte=query.radius)
    for name in ("teff", "logg", "fe_h"):
        low, high = getattr(query, name)
        if low is not None:
            stars = stars.filter(**{f"{name}__gte": low})
        if high is not None:
            stars = stars.filter(**{f"{name}__lte": high})
    if query.survey:
        stars = stars.filter(spectra__survey__code=query.survey).distinct()
    field = query.order.lstrip("-")
    descending = query.order.startswith("-")
    ordering = F(field).desc(nulls_last=True) if descending else F(field).asc(nulls_last=True)
    return stars.order_by(ordering, "pk")


def star_detail(star_id: int) -> Star | None:
    return with_parameters(Star.objects.filter(pk=star_id)).first()


def star_labels(star: Star) -> list[Labels]:
    return list(star.labels.order_by("source"))


def star_spectra(star: Star) -> list[Spectrum]:
    return list(star.spectra.select_related("survey", "balmer").order_by("survey__code", "pk"))


def star_images(star: Star) -> list[Image]:
    return list(star.images.order_by("pk"))


def spectra_by_id(spectrum_ids: list[int]) -> dict[int, Spectrum]:
    """{id: Spectrum} with its star and survey loaded (absent ids are left out)."""
    return Spectrum.objects.select_related("star", "survey").in_bulk(spectrum_ids)


def spectrum_arrays(spectrum: Spectrum) -> dict:
    """{wavelength (Å), flux, error (or None), unit} as float32 arrays of one length."""
    wavelength = spectrum.survey.wavelength_array
    return {"wavelength": wavelength, "flux": spectrum.flux_array,
            "error": spectrum.error_array, "unit": spectrum.survey.flux_unit, "survey": spectrum.survey.code}


def bhb_candidates(*, threshold: float = 0.5, version: ModelVersion | None = None) -> QuerySet:
    """Stars scored by the active (or given) BHB model with score ≥ threshold, best first, each
    with the Balmer lines of its first SDSS spectrum (``BALMER_COLUMNS``; None where unmeasured)."""
    from catalog.selectors.models import active_version

    version = version or active_version(ModelVersion.Kind.BHB)
    if version is None:
        return BHBScore.objects.none()
    balmer = BalmerLines.objects.filter(spectrum__star=OuterRef("star_id"), spectrum__survey__code__in=BALMER_SURVEYS)
    balmer = balmer.order_by("spectrum_id")
    return (BHBScore.objects.filter(model_version=version, score__gte=threshold).select_related("star")
            .annotate(**{name: Subquery(balmer.values(name)[:1]) for name in BALMER_COLUMNS})
            .order_by("-score", "star_id"))




def xue_agreement(*, top: int = 50, version: ModelVersion | None = None) -> dict | None:
    """How the classical Balmer-line selection reads the model's best candidates: of the ``top``
    highest-scored stars with measured Balmer lines, how many pass the Xue et al. 2011 cuts; beside
    it the same rate among the catalog's stars that a catalogue labels BHB (the rate a candidate list
    as pure as that catalogue would show). None without an active BHB model.
    {"top", "top_pass", "labelled", "labelled_pass"} (counts of stars)."""
    from catalog.selectors.models import active_version

    version = version or active_version(ModelVersion.Kind.BHB)
    if version is None:
        return None
    best = [c.xue_bhb for c in bhb_candidates(threshold=0.0, version=version).filter(xue_bhb__isnull=False)[:top]]
    labelled = (BalmerLines.objects.filter(xue_bhb__isnull=False, spectrum__survey__code__in=BALMER_SURVEYS,
                                           spectrum__star__bhb_labels__is_bhb=True)
                .values("spectrum__star").distinct())
    return {"top": len(best), "top_pass": sum(best), "labelled": labelled.count(),
            "labelled_pass": labelled.filter(xue_bhb=True).count()}


def balmer_measurements(star: Star) -> dict | None:
    """The Balmer lines of the star's first SDSS spectrum (``BalmerLines.as_dict``: D0.2 and fm of
    Hδ, c and b of Hγ, whether the fits converged, whether the Xue et al. cuts pass), or None when
    it has no SDSS spectrum. A spectrum stored before the catalog measured them on ingest (until
    ``manage.py measure_balmer`` runs) is measured here, and not stored: a read never writes."""
    from catalog.balmer import balmer_lines_measure

    spectrum = (star.spectra.filter(survey__code__in=BALMER_SURVEYS).select_related("survey", "balmer")
                .order_by("pk").first())
    if spectrum is None:
        return None
    stored = getattr(spectrum, "balmer", None)
    if stored is None:
        stored = balmer_lines_measure(spectrum_id=spectrum.pk, wavelength=spectrum.survey.wavelength_array,
                                      flux=spectrum.flux_array, error=spectrum.error_array)
    return stored.as_dict()


def map_points(spectrum_ids: list[int], parameter: str) -> dict:
    """For a latent map: star ids, designations and one parameter (preferred labels) per spectrum,
    or with ``parameter`` "group" each spectrum's chemical group under the active disentangler
    (None outside any)."""
    if parameter == "group":
        from catalog.models import GroupMember
        from catalog.selectors.models import active_version

        points = map_points(spectrum_ids, "teff")
        version = active_version(ModelVersion.Kind.DISENTANGLER)
        groups = dict(GroupMember.objects.filter(model_version=version, spectrum_id__in=spectrum_ids)
                      .values_list("spectrum_id", "group")) if version else {}
        return {**points, "values": [groups.get(i) for i in spectrum_ids]}
    if parameter not in LABEL_FIELDS:
        raise StarQueryError(f"colour by one of {', '.join(LABEL_FIELDS)} or group")
    rows = dict((row[0], row[1:]) for row in with_parameters(Star.objects.filter(spectra__id__in=spectrum_ids))
                .values_list("spectra__id", "pk", "designation", parameter))
    ordered = [rows.get(i, (None, "", None)) for i in spectrum_ids]
    return {"star_ids": [r[0] for r in ordered], "designations": [r[1] for r in ordered], "values": [r[2] for r in ordered]}


def balmer_lines_unmeasured():
    """The SDSS spectra that have no Balmer-line row yet (a Spectrum queryset)."""
    return Spectrum.objects.filter(survey__code__in=BALMER_SURVEYS, balmer__isnull=True)


def first_image(star_id: int) -> Image | None:
    """The star's first ugriz cutout (by id), or None."""
    return Image.objects.filter(star_id=star_id).order_by("pk").first()


def survey_wavelength(code: str):
    """The survey's wavelength grid (P,) in Å."""
    return Survey.objects.get(code=code).wavelength_array


def stars_after(stars: QuerySet, order: str, after: tuple | None, limit: int) -> list[Star]:
    """One page of a search sorted by ``order`` (``stars_search``'s queryset and order): the
    ``limit`` stars that follow the star whose sort key is ``after`` = (value, pk), or the first
    ``limit`` when None (the same stars as ``stars[:limit]``, through the index). Keyset pagination: the order's index is entered at the key instead of
    counting past an offset, so page 10,000 costs what page 2 does. Stars without a value come
    last, by pk (as in ``stars_search``)."""
    field = order.lstrip("-")
    value, pk = after if after is not None else (None, None)
    if after is not None and value is None:  # already among the stars without a value
        return list(stars.filter(**{f"{field}__isnull": True}, pk__gt=pk).order_by("pk")[:limit])
    # The stars with a value first, in an order an index gives in either direction (a descending
    # sort with nulls last is not one: it would sort every match), then those without.
    ordering = F(field).desc() if order.startswith("-") else F(field).asc()
    if after is None:
        beyond = Q(**{f"{field}__isnull": False})
    elif order.startswith("-"):
        beyond = Q(**{f"{field}__lte": value}) & (Q(**{f"{field}__lt": value}) | Q(pk__gt=pk))
    else:
        beyond = Q(**{f"{field}__gte": value}) & (Q(**{f"{field}__gt": value}) | Q(pk__gt=pk))
    page = list(stars.filter(beyond).order_by(ordering, "pk")[:limit])
    if len(page) < limit and field not in ("designation", "ra", "dec", "distance"):  # those are never null
        page += list(stars.filter(**{f"{field}__isnull": True}).order_by("pk")[: limit - len(page)])
    return page


def sort_key(star: Star, order: str) -> tuple:
    """(value, pk) of a star under ``order``, for ``stars_after``."""
    return getattr(star, order.lstrip("-")), star.pk
