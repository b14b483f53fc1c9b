"""IVOA Simple Cone Search 1.03 at /vo/scs?RA=&DEC=&SR= (degrees, ICRS).

The response is a VOTable with one table whose ID column has UCD ``meta.id;meta.main`` and
whose position columns have ``pos.eq.ra;meta.main`` / ``pos.eq.dec;meta.main``. Bad parameters
get an error VOTable (an INFO with name="QUERY_STATUS" value="ERROR"), as the standard asks, with
HTTP 200 so that VO clients read the message.
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
CONTENT_TYPE = "text/xml; charset=utf-8"  # what SCS 1.03 names; VO clients accept it


def _error(message: str) -> HttpResponse:
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
    return HttpResponse(out.getvalue(), content_type=CONTENT_TYPE)


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
    except ValueError as error:
        return _error(str(error))
    stars = [] if radius == 0 else selectors.stars_search(
        selectors.StarQuery(ra=ra, dec=dec, radius=radius, order="distance"))[: MAX_ROWS + 1]
    rows = []
    for star in stars:
        row = {"designation": star.designation, "ra": star.ra, "dec": star.dec}
        if verb >= 2:
            row.update({"distance": float(star.distance), "teff": star.teff, "logg": star.logg, "fe_h": star.fe_h})
        if verb >= 3:
            row.update({"alpha_fe": star.alpha_fe, "bhb_score": star.bhb_score, "apogee_id": star.apogee_id,
                        "sdss_id": star.sdss_id})
        rows.append(row)
    truncated = len(rows) > MAX_ROWS
    rows = rows[:MAX_ROWS]
    if not rows:
        rows_bytes = votable_bytes([], name="doppel_scs", empty_columns={"designation": str, "ra": float, "dec": float})
    else:
        rows_bytes = votable_bytes(rows, name="doppel_scs", description=f"Doppel cone search RA={ra} DEC={dec} SR={radius}"
                                   + (f" (first {MAX_ROWS} rows)" if truncated else ""))
    return HttpResponse(rows_bytes, content_type=CONTENT_TYPE)
