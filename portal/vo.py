"""IVOA Simple Cone Search 1.03 at /vo/scs?RA=&DEC=&SR= (degrees, ICRS).

The response is a VOTable with one table whose ID column has UCD ``meta.id;meta.main`` and
whose position columns have ``pos.eq.ra;meta.main`` / ``pos.eq.dec;meta.main``. Bad parameters
get an error VOTable (an INFO with name="QUERY_STATUS" value="ERROR"), as the standard asks, with
HTTP 200 so that VO clients read the message. ``MAXREC`` (default and most 10,000) caps the rows; a
capped answer carries ``QUERY_STATUS = OVERFLOW`` (DALI). An empty answer has every column of its
VERB level, and missing values are masked (ids stay exact int64).
"""
from __future__ import annotations

import io
import math

from django.http import HttpResponse
from django.views.decorators.http import require_GET

from catalog import selectors
from portal.api.renderers import votable_bytes

MAX_SR = 10.0  # deg
MAX_ROWS = 10_000
# The columns at each VERB level (an empty answer has them too).
SCHEMA = {1: {"designation": str, "ra": float, "dec": float},
          2: {"separation": float, "teff": float, "logg": float, "fe_h": float},
          3: {"alpha_fe": float, "bhb_score": float, "apogee_id": str, "sdss_id": str}}
CONTENT_TYPE = "text/xml; charset=utf-8"  # what SCS 1.03 names; VO clients accept it


def _error(message: str) -> HttpResponse:
    return HttpResponse(error_votable(message), content_type=CONTENT_TYPE)


def error_votable(message: str) -> bytes:
    """A DALI error document: ``QUERY_STATUS = ERROR`` with the message as its text (what pyvo
    and TOPCAT show), and SCS 1.03's INFO named "Error"."""
    from astropy.io.votable.tree import Info, Resource, VOTableFile

    votable = VOTableFile()
    resource = Resource(type="results")
    votable.resources.append(resource)
    # DALI: QUERY_STATUS=ERROR in the results resource; SCS 1.03: an INFO named "Error".
    status = Info(name="QUERY_STATUS", value="ERROR")
    status.content = message  # the element's text: what pyvo shows as the error
    resource.infos.append(status)
    votable.infos.append(Info(name="Error", ID="Error", value=message))
    out = io.BytesIO()
    votable.to_xml(out)
    return out.getvalue()


def _number(params, name: str) -> float:
    text = params.get(name)
    if text is None or text == "":
        raise ValueError(f"missing required parameter {name}")
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{name}={text!r} is not a number (degrees)") from None
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite")
    return value


@require_GET
def cone_search(request):
    params = {key.upper(): value for key, value in request.GET.items()}
    try:
        ra, dec, radius = _number(params, "RA"), _number(params, "DEC"), _number(params, "SR")
        if not 0.0 <= ra < 360.0:
            raise ValueError(f"RA={ra} is out of range [0, 360)")
        if not -90.0 <= dec <= 90.0:
            raise ValueError(f"DEC={dec} is out of range [-90, 90]")
        if radius < 0 or radius > MAX_SR:
            raise ValueError(f"SR={radius} must be between 0 and {MAX_SR} deg")
        verb = int(params.get("VERB", "2") or 2)
        maxrec = int(params.get("MAXREC", MAX_ROWS) or MAX_ROWS)
        if not 0 <= maxrec <= MAX_ROWS:
            raise ValueError(f"MAXREC={maxrec} must be between 0 and {MAX_ROWS}")
    except ValueError as error:
        return _error(str(error))
    stars = [] if radius == 0 else selectors.stars_search(
        selectors.StarQuery(ra=ra, dec=dec, radius=radius, order="distance"))[: maxrec + 1]
    schema = {name: kind for level, columns in SCHEMA.items() if level <= verb for name, kind in columns.items()}
    rows = []
    for star in stars:
        row = {"designation": star.designation, "ra": star.ra, "dec": star.dec}
        if verb >= 2:
            row.update({"separation": float(star.distance), "teff": star.teff, "logg": star.logg, "fe_h": star.fe_h})
        if verb >= 3:
            row.update({"alpha_fe": star.alpha_fe, "bhb_score": star.bhb_score, "apogee_id": star.apogee_id or None,
                        "sdss_id": star.sdss_id or None})
        rows.append(row)
    truncated = len(rows) > maxrec
    rows = rows[:maxrec]
    rows_bytes = votable_bytes(rows, name="doppel_scs", empty_columns=schema, overflow=truncated,
                               description=f"Doppel cone search RA={ra} DEC={dec} SR={radius}"
                               + (f" (the first {maxrec} rows)" if truncated else ""),
                               info={"RA": ra, "DEC": dec, "SR": radius, "VERB": verb, "MAXREC": maxrec})
    return HttpResponse(rows_bytes, content_type=CONTENT_TYPE)
