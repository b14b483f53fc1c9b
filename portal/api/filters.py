"""Query parameters → catalog queries, with a 400 for anything unknown or malformed."""
from __future__ import annotations

import math

from rest_framework.exceptions import ValidationError

from catalog.selectors import StarQuery, TwinFilters
from catalog.services.ingest import SURVEYS
from portal.coordinates import CoordinateError, parse_angle, parse_position

PAGING = {"limit", "offset", "format"}
STAR_PARAMETERS = {"q", "ra", "dec", "radius", "teff_min", "teff_max", "logg_min", "logg_max", "fe_h_min", "fe_h_max",
                   "survey", "ordering", "after"}
TWIN_PARAMETERS = {"k", "teff_min", "teff_max", "logg_min", "logg_max", "survey", "exclude_same_group", "include_self"}


def reject_unknown(params, allowed: set[str]) -> None:
    unknown = sorted(set(params) - allowed - PAGING)
    if unknown:
        raise ValidationError({"unknown_parameters": unknown, "allowed": sorted(allowed)})


def number(params, name: str) -> float | None:
    """A finite float query/form parameter, None when absent; 400 naming it otherwise."""
    value = params.get(name)
    if value in (None, ""):
        return None
    try:
        parsed = float(value)
    except ValueError:
        raise ValidationError({name: f"not a number: {value!r}"}) from None
    if not math.isfinite(parsed):
        raise ValidationError({name: f"must be a finite number, not {value!r}"})
    return parsed


def _flag(params, name: str) -> bool:
    value = str(params.get(name, "")).lower()
    if value not in ("", "0", "1", "true", "false", "yes", "no", "on", "off"):
        raise ValidationError({name: f"use true or false, not {value!r}"})
    return value in ("1", "true", "yes", "on")


def text(params, name: str, max_length: int = 100) -> str:
    """A short text parameter ("" when absent); 400 for control characters (PostgreSQL refuses a
    NUL in text) or more than ``max_length`` characters, as the web form's field does."""
    value = params.get(name) or ""
    if any(ord(character) < 32 or ord(character) == 127 for character in value):
        raise ValidationError({name: "must not contain control characters"})
    if len(value) > max_length:
        raise ValidationError({name: f"at most {max_length} characters, not {len(value)}"})
    return value


def survey(params) -> str:
    """A survey code the catalog knows (``catalog.services.ingest.SURVEYS``), "" when absent."""
    value = params.get("survey") or ""
    if value and value not in SURVEYS:
        raise ValidationError({"survey": f"unknown survey {value!r}; known: {', '.join(SURVEYS)}"})
    return value


def star_query(params) -> StarQuery:
    reject_unknown(params, STAR_PARAMETERS)
    ra = dec = radius = None
    if any(params.get(k) for k in ("ra", "dec", "radius")):
        try:
            ra, dec = parse_position(params.get("ra", ""), params.get("dec", ""))
            radius = parse_angle(params.get("radius", ""), name="radius")
        except CoordinateError as error:
            raise ValidationError({"cone": str(error)}) from None
    return StarQuery(
        text=text(params, "q"), ra=ra, dec=dec, radius=radius,
        teff=(number(params, "teff_min"), number(params, "teff_max")),
        logg=(number(params, "logg_min"), number(params, "logg_max")),
        fe_h=(number(params, "fe_h_min"), number(params, "fe_h_max")),
        survey=survey(params), order=params.get("ordering", "designation"))


def parameter_range(params, name: str) -> tuple[float | None, float | None]:
    """(``name``_min, ``name``_max), either None; 400 when the minimum is above the maximum."""
    low, high = number(params, f"{name}_min"), number(params, f"{name}_max")
    if low is not None and high is not None and low > high:
        raise ValidationError({name: "the minimum is above the maximum"})
    return low, high


def _range(params, name):
    low, high = parameter_range(params, name)
    if low is None and high is None:
        return None
    return (low if low is not None else -1e30, high if high is not None else 1e30)


def twin_query(params) -> tuple[int, TwinFilters]:
    reject_unknown(params, TWIN_PARAMETERS)
    raw_k = params.get("k", "10")
    try:
        k = int(raw_k)
    except ValueError:
        raise ValidationError({"k": f"not an integer: {raw_k!r}"}) from None
    if not 1 <= k <= 100:
        raise ValidationError({"k": "k must be between 1 and 100"})
    filters = TwinFilters(teff=_range(params, "teff"), logg=_range(params, "logg"), survey=survey(params) or None,
                          exclude_same_group=_flag(params, "exclude_same_group"), include_self=_flag(params, "include_self"))
    return k, filters


PECULIAR_PARAMETERS = {"min_score", "survey", "teff_min", "teff_max", "logg_min", "logg_max"}


def peculiar_query(params) -> dict:
    """Keyword arguments of ``catalog.selectors.peculiar_stars`` from the query parameters."""
    reject_unknown(params, PECULIAR_PARAMETERS)
    min_score = number(params, "min_score")
    if min_score is not None and min_score < 0:
        raise ValidationError({"min_score": "must be 0 or more (1 is an ordinary star)"})
    return {"min_score": min_score, "survey": survey(params),
            **{name: parameter_range(params, name) for name in ("teff", "logg")}}
