"""A client for a Doppel server: tables come back as ``astropy.table.Table``, spectra as
``specutils.Spectrum``.

    from doppel.client import Doppel

    doppel = Doppel("https://doppel.example.org")
    stars = doppel.cone(150.0, 2.2, 0.1)                 # deg, ICRS
    twins = doppel.twins("2M00000002+7417074", k=20, teff_min=4000, teff_max=5000)
    spectrum = doppel.spectrum(twins["star_id"][0])      # vacuum Å; flux in the survey's unit

Units follow the server: ra/dec deg, teff K, logg and abundances dex, wavelength vacuum Å; a
missing value is masked. A refused request raises :class:`DoppelError` with the server's reason.
Only the standard library, astropy, numpy and specutils are needed.
"""
from __future__ import annotations

import io
import json
import uuid
import warnings
from pathlib import Path
from urllib.error import HTTPError, URLError
from urllib.parse import urlencode
from urllib.request import Request, urlopen

__all__ = ["Doppel", "DoppelError"]


class DoppelError(Exception):
    """A request the server refused (``status`` is the HTTP status, ``detail`` its reason), or
    one that never reached it (``status`` None)."""

    def __init__(self, status: int | None, detail):
        self.status, self.detail = status, detail
        super().__init__(f"{status}: {detail}" if status else str(detail))


class Doppel:
    """One Doppel server. ``token`` (from ``POST /api/token/``) is needed only for staff actions;
    every read works without it. ``timeout`` is per request, in seconds."""

    def __init__(self, url: str, token: str | None = None, timeout: float = 60.0):
        self.url = url.rstrip("/")
        self.token, self.timeout = token, timeout

    def __repr__(self) -> str:
        return f"Doppel({self.url!r})"

    # -- requests -----------------------------------------------------------------------------
    def _get(self, path: str, params: dict | None = None) -> bytes:
        query = urlencode({k: _param(v) for k, v in (params or {}).items() if v is not None})
        return self._send(Request(f"{self.url}{path}" + (f"?{query}" if query else "")))

    def _send(self, request: Request) -> bytes:
        if self.token:
            request.add_header("Authorization", f"Token {self.token}")
        request.add_header("User-Agent", "doppel-client")
        try:
            with urlopen(request, timeout=self.timeout) as answer:
                return answer.read()
        except HTTPError as error:
            body = error.read()
            detail = _reason(body) or error.reason
            raise DoppelError(error.code, detail) from None
        except URLError as error:
            raise DoppelError(None, f"cannot reach {self.url}: {error.reason}") from None

    def _json(self, path: str, params: dict | None = None) -> dict:
        return json.loads(self._get(path, params))

    def _table(self, path: str, params: dict | None = None):
        return _votable(self._get(path, {**(params or {}), "format": "votable"}))

    # -- stars ----------------------------------------------------------------------------------
    def star_id(self, star: int | str) -> int:
        """Doppel's id of a star given as its id (int) or as a designation, APOGEE id, Gaia
        source_id or SDSS plate-mjd-fiber (str)."""
        if isinstance(star, (int,)) and not isinstance(star, bool):
            return star
        if hasattr(star, "item"):  # a numpy integer from a table
            return int(star)
        found = self._json("/api/stars/", {"q": str(star), "limit": 10})
        exact = [row["id"] for row in found["results"] if row["designation"] == str(star)]
        if exact:  # a designation that is also the prefix of others
            return exact[0]
        if found["count"] != 1:
            names = ", ".join(row["designation"] for row in found["results"])
            raise DoppelError(404 if found["count"] == 0 else 400,
                              f"{star!r} matches {found['count']} stars" + (f" ({names}, …)" if names else ""))
        return found["results"][0]["id"]

    def star(self, star: int | str):
        """One star as a one-row Table (id, designation, ra, dec, ids, preferred labels, BHB
        score); ``meta`` holds its label sources, spectra and images as the API gives them."""
        from astropy.table import Table

        from astropy.table import MaskedColumn

        record = self._json(f"/api/stars/{self.star_id(star)}/")
        nested = {key: record.pop(key) for key in ("labels", "spectra", "images") if key in record}
        table = Table([MaskedColumn([0.0 if value is None else value], name=name, mask=[value is None])
                       for name, value in record.items()], meta=nested)
        return table

    def search(self, **criteria):
        """Stars matching ``criteria`` (the API's: q, ra, dec, radius, teff_min … fe_h_max, survey,
        ordering), the whole result as a Table."""
        return self._table("/api/stars/", criteria)

    def cone(self, ra: float, dec: float, radius: float, **criteria):
        """Stars within ``radius`` deg of (ra, dec) deg, ICRS, nearest first; ``distance`` in deg."""
        return self.search(ra=ra, dec=dec, radius=radius, ordering=criteria.pop("ordering", "distance"), **criteria)

    # -- twins ----------------------------------------------------------------------------------
    def twins(self, star: int | str, k: int = 10, **filters):
        """The k chemical twins of a catalog star under the active disentangler: a Table with
        ``distance`` (latent space) and the twins' parameters; ``meta`` names the model version.
        ``filters``: teff_min, teff_max, logg_min, logg_max, survey, include_self."""
        return self._table(f"/api/stars/{self.star_id(star)}/twins/", {"k": k, **filters})

    def twins_of_file(self, path: str | Path, teff: float | None = None, logg: float | None = None, k: int = 10,
                      **filters):
        """The k twins of a spectrum file (any format the server ingests: aspcapStar, apStar, SDSS
        spec, Gaia RVS …), with its Teff (K) and logg (dex) where the file does not hold them."""
        path = Path(path)
        body, content_type = _multipart({"k": k, "teff": teff, "logg": logg, **filters},
                                        {"file": (path.name, path.read_bytes())})
        request = Request(f"{self.url}/api/twins/?format=votable", data=body, method="POST",
                          headers={"Content-Type": content_type})
        return _votable(self._send(request))

    # -- spectra --------------------------------------------------------------------------------
    def spectrum(self, star: int | str, survey: str | None = None):
        """The star's spectrum (its first, or the first of ``survey``) as a ``specutils.Spectrum``:
        vacuum Å, the flux in the survey's unit (dimensionless when normalised), the 1σ error as
        uncertainty, bad pixels masked; the FITS header as ``meta["header"]``."""
        content = self._get(f"/api/stars/{self.star_id(star)}/spectrum/", {"survey": survey, "format": "fits"})
        return read_spectrum(io.BytesIO(content))

    # -- BHB ------------------------------------------------------------------------------------
    def bhb_candidates(self, threshold: float = 0.5):
        """Stars the active BATMM scores at P(BHB) ≥ threshold (a calibrated probability), best
        first, with their Balmer-line measurements and the Xue et al. 2011 verdict."""
        return self._table("/api/bhb-candidates/", {"threshold": threshold})


    # -- TAP --------------------------------------------------------------------------------------
    def tap(self, adql: str, maxrec: int | None = None, uploads: dict | None = None):
        """An ADQL query on the server's TAP service (synchronous; tables ``doppel.stars``,
        ``doppel.labels``, ``doppel.spectra``, ``doppel.bhb_scores``, ``doppel.balmer_lines``,
        ``doppel.latents``, ``TAP_SCHEMA.*``) as a Table; ``meta["overflow"]`` is True where
        ``maxrec`` (or the server's cap) cut it. ``uploads`` maps a name to a Table (or a VOTable
        file's path) that the query reads as ``TAP_UPLOAD.<name>``, your own list to join to the
        catalog. For long queries use pyvo's async jobs on ``{url}/tap``."""
        fields = {"QUERY": adql, "LANG": "ADQL", "REQUEST": "doQuery", "MAXREC": maxrec}
        if not uploads:
            body = urlencode({name: value for name, value in fields.items() if value is not None}).encode()
            content_type = "application/x-www-form-urlencoded"
        else:
            fields["UPLOAD"] = ";".join(f"{name},param:{name}" for name in uploads)
            body, content_type = _multipart(fields, {name: (f"{name}.xml", _votable_bytes(table))
                                                     for name, table in uploads.items()})
        request = Request(f"{self.url}/tap/sync", data=body, method="POST", headers={"Content-Type": content_type})
        return _votable(self._send(request))


def read_spectrum(source):
    """A Doppel spectrum file (FITS, from a path or file object) as a ``specutils.Spectrum``."""
    import astropy.units as u
    from astropy.io import fits
    from astropy.nddata import StdDevUncertainty
    from astropy.table import Table

    try:
        from specutils import Spectrum
    except ImportError:  # specutils < 2
        from specutils import Spectrum1D as Spectrum

    with fits.open(source) as hdus:
        header = hdus["SPECTRUM"].header.copy()
        table = Table(hdus["SPECTRUM"].data)
    unit = u.dimensionless_unscaled if header.get("FLUXUNIT") == "normalised" else u.Unit(header["FLUXUNIT"])
    uncertainty = StdDevUncertainty(table["error"].data * unit) if "error" in table.colnames else None
    return Spectrum(flux=table["flux"].data * unit, spectral_axis=table["wavelength"].data * u.AA,
                    uncertainty=uncertainty, mask=table["mask"].data.astype(bool), meta={"header": header})


def _multipart(fields: dict, files: dict[str, tuple[str, bytes]]) -> tuple[bytes, str]:
    """A multipart/form-data body of ``fields`` (None values left out) and ``files`` (part →
    (file name, content)), and its Content-Type."""
    boundary = uuid.uuid4().hex
    body = io.BytesIO()
    for name, value in fields.items():
        if value is not None:
            body.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{_param(value)}\r\n'.encode())
    for name, (filename, content) in files.items():
        body.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                   f"Content-Type: application/octet-stream\r\n\r\n".encode())
        body.write(content)
        body.write(b"\r\n")
    body.write(f"--{boundary}--\r\n".encode())
    return body.getvalue(), f"multipart/form-data; boundary={boundary}"


def _votable_bytes(table) -> bytes:
    """A Table (or the path of a VOTable file) as VOTable bytes."""
    if isinstance(table, (str, Path)):
        return Path(table).read_bytes()
    out = io.BytesIO()
    table.write(out, format="votable")
    return out.getvalue()


def _param(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _info_value(text: str):
    """An INFO's value as the number or truth value it spells (INFO values are text)."""
    if text in ("True", "False"):
        return text == "True"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def _reason(body: bytes) -> str | None:
    """The server's reason in an error body: the API's JSON, or a VOTable's error cell or INFO."""
    try:
        return json.loads(body)["error"]["detail"]
    except (ValueError, KeyError, TypeError):
        pass
    try:
        table = _votable(body)
        return str(table["error"][0]) if "error" in table.colnames else None
    except DoppelError as error:
        return error.detail
    except Exception:  # neither JSON nor a VOTable: the start of the text
        return body.decode(errors="replace")[:500] or None


def _votable(content: bytes):
    """A VOTable answer as a Table; its INFO elements (the query, the model version) in ``meta``."""
    from astropy.io.votable import parse
    from astropy.io.votable.exceptions import W50

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", W50)  # astropy's VOUnit parser does not know "dex"
        votable = parse(io.BytesIO(content))
        table = votable.get_first_table().to_table(use_names_over_ids=True) if votable.resources and \
            votable.resources[0].tables else None
    infos = {info.name: info.value for info in votable.resources[0].infos} if votable.resources else {}
    if infos.get("QUERY_STATUS") == "ERROR":
        raise DoppelError(400, next((i.content for i in votable.resources[0].infos if i.name == "QUERY_STATUS"), None)
                          or "error")
    if table is None:
        raise DoppelError(None, "the answer holds no table")
    table.meta.update({key: _info_value(value) for key, value in infos.items() if key != "QUERY_STATUS"})
    table.meta["overflow"] = infos.get("QUERY_STATUS") == "OVERFLOW"
    return table
