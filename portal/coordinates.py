"""Parsing sky positions typed by people: degrees ("150.1", "-2.5") or sexagesimal
("10:00:24.2", "10h00m24s", "-02:30:00"), with astropy. ICRS, results in degrees."""
from __future__ import annotations

import math


class CoordinateError(ValueError):
    """A position or angle that cannot be read; the message names it."""


def _is_sexagesimal(text: str) -> bool:
    return any(mark in text for mark in (":", "h", "d", "m", "s", " ", "°", "'", '"'))


def parse_position(ra_text: str, dec_text: str) -> tuple[float, float]:
    """(ra, dec) in degrees; RA in degrees or hours (sexagesimal), Dec in degrees."""
    from astropy import units as u
    from astropy.coordinates import Angle

    ra_text, dec_text = str(ra_text).strip(), str(dec_text).strip()
    if not ra_text or not dec_text:
        raise CoordinateError("give both RA and Dec")
    try:
        ra = Angle(ra_text, unit=u.hourangle if _is_sexagesimal(ra_text) else u.deg).deg
    except (ValueError, u.UnitsError) as error:
        raise CoordinateError(f"RA {ra_text!r} is not an angle ({error})") from None
    try:
        dec = Angle(dec_text, unit=u.deg).deg
    except (ValueError, u.UnitsError) as error:
        raise CoordinateError(f"Dec {dec_text!r} is not an angle ({error})") from None
    if not math.isfinite(ra) or not 0.0 <= ra < 360.0:
        raise CoordinateError(f"RA must be in [0, 360) deg, not {ra_text}")
    if not math.isfinite(dec) or not -90.0 <= dec <= 90.0:
        raise CoordinateError(f"Dec must be in [-90, 90] deg, not {dec_text}")
    return float(ra), float(dec)


def parse_angle(text: str, name: str = "radius", maximum: float = 10.0) -> float:
    """A positive angle in degrees; "30s"/"2m"/"0.5d" or arcsec/arcmin suffixes also work."""
    from astropy import units as u
    from astropy.coordinates import Angle

    text = str(text).strip()
    if not text:
        raise CoordinateError(f"give a {name}")
    try:
        value = float(text) if not any(c.isalpha() or c in "'\"" for c in text) else Angle(text).deg
    except (ValueError, u.UnitsError) as error:
        raise CoordinateError(f"{name} {text!r} is not an angle ({error})") from None
    if not math.isfinite(value) or value <= 0:
        raise CoordinateError(f"{name} must be positive, not {text}")
    if value > maximum:
        raise CoordinateError(f"{name} must be at most {maximum} deg")
    return float(value)
