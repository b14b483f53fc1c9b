"""The bad-input corpus: every way a user can get an input wrong, across API parameters, uploads
(API and web), `ingest`, `import_labels` and the admin's training form. Each case must answer with
its status (HTTP) or exit code, a message that names the problem, and leave every catalog table's
row count as it was. One catalog (with an active toy model) serves all cases."""
from __future__ import annotations

import gzip
import io
import json
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from catalog.ingest.apogee import write_apstar
from catalog.ingest.sdss import write_sdss_spec
from tests.conftest import build_active_disentangler
from tests.test_upload_limits import declared_image

pytestmark = pytest.mark.django_db


@dataclass
class Case:
    name: str
    run: Callable  # (ctx) -> (status or exit code, text)
    status: int
    message: str  # must appear in the answer (case-insensitive)


def _get(path, **params):
    return lambda ctx: _http(ctx["client"].get(path.format(**ctx), params))


def _upload(name: str, content: bytes | Callable, **fields):
    def run(ctx):
        body = content(ctx) if callable(content) else content
        return _http(ctx["client"].post("/api/twins/", {"file": SimpleUploadedFile(name, body), **fields}))
    return run


def _web_upload(fields: dict):
    def run(ctx):
        data = {key: (SimpleUploadedFile(*value) if isinstance(value, tuple) else value) for key, value in fields.items()}
        return _http(ctx["client"].post("/twins/upload/", data))
    return run


def _staff_post(path, payload):
    return lambda ctx: _http(ctx["admin"].post(path, payload, content_type="application/json"))


def _admin_form(data):
    return lambda ctx: _http(ctx["admin"].post("/admin/catalog/modelversion/add/", data))


def _http(response):
    return response.status_code, response.content.decode(errors="replace")


def _command(name, *args):
    def run(ctx):
        out, err = io.StringIO(), io.StringIO()
        resolved = [a(ctx) if callable(a) else a for a in args]
        try:
            call_command(name, *map(str, resolved), stdout=out, stderr=err)
            code = 0
        except CommandError as error:
            code, err = error.returncode, io.StringIO(err.getvalue() + str(error))
        except SystemExit as exit:
            code = exit.code
        return code, out.getvalue() + err.getvalue()
    return run


def _file(name: str, content):
    def make(ctx):
        path = ctx["tmp"] / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if callable(content):
            content(path)
        else:
            path.write_bytes(content if isinstance(content, bytes) else content.encode())
        return path
    return make


def _labels(rows: str, mapping: str = "name: cat\nmatch: {designation: ID}\nlabels: {teff: TEFF, teff_err: TEFF_ERR, logg: LOGG}\n"):
    return _command("import_labels", _file("labels.csv", "ID,TEFF,TEFF_ERR,LOGG\n" + rows), "--mapping",
                    _file("map.yaml", mapping))


def _apstar(path):
    write_apstar(path, "2M00000009+0000009", 1.0, 1.0, np.full(7214, 0.97, np.float32), np.full(7214, 0.01, np.float32))


def _truncated_apstar(path):
    _apstar(path)
    path.write_bytes(path.read_bytes()[:60_000])


def _unparsable_card_apstar(path):
    """An apStar file whose RA card holds no number."""
    _apstar(path)
    raw = path.read_bytes()
    card = raw.index(b"RA      = ")
    path.write_bytes(raw[:card + 10] + b"12.3.4.5 garbage".ljust(70) + raw[card + 80:])


def _sdss(path):
    write_sdss_spec(path, 300, 51600, 11, 10.0, 1.0, np.full(3522, 50.0), np.ones(3522))


def _truncated_apstar_bytes(ctx):
    return _file("cut/apStar-x.fits", _truncated_apstar)(ctx).read_bytes()


def _sdss_bytes(ctx):
    return _file("sdss/spec-0300-51600-0011.fits", _sdss)(ctx).read_bytes()


FITS = b"SIMPLE  =                    T" + b" " * 50
STAR = "/api/stars/{star}/twins/"
CASES = [
    # --- API: star search
    Case("ra not an angle", _get("/api/stars/", ra="abc", dec="1", radius="1"), 400, "not an angle"),
    Case("ra out of range", _get("/api/stars/", ra="400", dec="1", radius="1"), 400, "RA must be in [0, 360)"),
    Case("dec out of range", _get("/api/stars/", ra="10", dec="100", radius="1"), 400, "dec"),
    Case("negative radius", _get("/api/stars/", ra="10", dec="1", radius="-1"), 400, "radius"),
    Case("cone without ra", _get("/api/stars/", dec="1", radius="1"), 400, "give both RA and Dec"),
    Case("teff_min text", _get("/api/stars/", teff_min="hot"), 400, "not a number: 'hot'"),
    Case("teff_min nan", _get("/api/stars/", teff_min="nan"), 400, "finite number"),
    Case("logg_max inf", _get("/api/stars/", logg_max="inf"), 400, "finite number"),
    Case("fe_h_min text", _get("/api/stars/", fe_h_min="solar"), 400, "not a number: 'solar'"),
    Case("unknown survey", _get("/api/stars/", survey="hubble"), 400, "unknown survey 'hubble'"),
    Case("negative limit", _get("/api/stars/", limit="-5"), 400, "limit"),
    Case("limit text", _get("/api/stars/", limit="ten"), 400, "not a whole number: 'ten'"),
    Case("limit over cap", _get("/api/stars/", limit="5000"), 400, "between 1 and 1000"),
    Case("offset text", _get("/api/stars/", offset="abc"), 400, "not a whole number: 'abc'"),
    Case("negative offset", _get("/api/stars/", offset="-1"), 400, "0 or more"),
    Case("unknown parameter", _get("/api/stars/", colour="red"), 400, "colour"),
    Case("search text with a NUL", _get("/api/stars/", q="2M00\x00"), 400, "must not contain control characters"),
    Case("search text too long", _get("/api/stars/", q="2M" * 60), 400, "at most 100 characters"),
    Case("unknown star", _get("/api/stars/999999/"), 404, "No Star matches"),
    Case("unknown API path", _get("/api/galaxies/"), 404, "no API endpoint at /api/galaxies/"),
    # --- API: twins of a star
    Case("k zero", _get(STAR, k="0"), 400, "k must be between 1 and 100"),
    Case("k too large", _get(STAR, k="1000"), 400, "k must be between 1 and 100"),
    Case("k text", _get(STAR, k="ten"), 400, "not an integer: 'ten'"),
    Case("teff range reversed", _get(STAR, teff_min="6000", teff_max="5000"), 400, "minimum is above the maximum"),
    Case("logg range reversed", _get(STAR, logg_min="4", logg_max="1"), 400, "minimum is above the maximum"),
    Case("twins unknown survey", _get(STAR, survey="hubble"), 400, "unknown survey 'hubble'"),
    Case("flag not boolean", _get(STAR, exclude_same_group="maybe"), 400, "use true or false"),
    Case("twins unknown parameter", _get(STAR, neighbours="5"), 400, "neighbours"),
    Case("twins of unknown star", _get("/api/stars/999999/twins/"), 404, "No Star matches"),
    # --- API: upload
    Case("upload without file", lambda ctx: _http(ctx["client"].post("/api/twins/", {"teff": "4500"})), 400,
         "attach a FITS file"),
    Case("upload garbage", _upload("x.fits", b"hello world" * 100, teff="4500", logg="2"), 400, "not a FITS file"),
    Case("upload wrong suffix", _upload("x.txt", FITS, teff="4500", logg="2"), 400, "upload a FITS file"),
    Case("upload empty", _upload("x.fits", b"", teff="4500", logg="2"), 400, "x.fits"),
    Case("upload gzip bomb", _upload("bomb.fits.gz", gzip.compress(declared_image(30_000_000) + bytes(30_000_000))), 400,
         "decompresses to more than"),
    Case("upload declares a huge image", _upload("huge.fits", declared_image(2_000_000_000) + bytes(2880)), 400,
         "declares 2000.0 MB"),
    Case("upload truncated", _upload("apStar-x.fits", _truncated_apstar_bytes, teff="4500", logg="2"), 400, "truncated"),
    Case("upload over the cap", _upload("big.fits", FITS + b" " * 21_000_000), 400, "upload limit"),
    Case("upload gz name, not gzip", _upload("x.fits.gz", b"plain text, not gzip" * 10), 400, "not a FITS file"),
    Case("upload teff text", _upload("x.fits", FITS, teff="hot"), 400, "not a number: 'hot'"),
    Case("upload k zero", _upload("x.fits", FITS, k="0"), 400, "k must be between 1 and 100"),
    Case("upload unknown field", _upload("x.fits", FITS, colour="red"), 400, "colour"),
    Case("upload other survey", _upload("spec-0300-51600-0011.fits", _sdss_bytes, teff="9000", logg="3"), 400,
         "holds a sdss spectrum"),
    # --- web
    Case("web upload garbage", _web_upload({"file": ("x.fits", b"hello" * 100), "teff": "4500", "logg": "2"}), 200,
         "not a FITS file"),
    Case("web upload over the cap", _web_upload({"file": ("big.fits", FITS + b" " * 21_000_000)}), 200, "upload limit"),
    Case("web upload teff text", _web_upload({"file": ("x.fits", FITS), "teff": "hot"}), 200, "Enter a number"),
    Case("web upload without file", _web_upload({"teff": "4500"}), 200, "This field is required"),
    Case("web search ra text", _get("/", ra="abc", dec="1", radius="1"), 200, "not an angle"),
    Case("web search teff text", _get("/", teff_min="hot"), 200, "Enter a number"),
    Case("web twins k zero", _get("/stars/{star}/twins/", k="0"), 200, "greater than or equal to 1"),
    Case("web BHB threshold 2", _get("/bhb/", threshold="2"), 200, "less than or equal to 1"),
    Case("web unknown star", _get("/stars/999999/"), 404, ""),
    # --- writes
    Case("anonymous retrain", lambda ctx: _http(ctx["client"].post("/api/training-runs/", {"kind": "bhb"})), 403,
         "credentials"),
    Case("staff: unknown kind", _staff_post("/api/training-runs/", {"kind": "galaxy"}), 400, "galaxy"),
    Case("staff: retired setting", _staff_post("/api/training-runs/", {"kind": "disentangler",
                                                                      "config": {"training": {"latent_noise": 0.5}}}),
         400, "retired research setting(s): latent_noise"),
    Case("staff: unknown preset", _staff_post("/api/training-runs/", {"kind": "disentangler",
                                                                     "config": {"training": {"preset": "magic"}}}),
         400, "preset must be one of"),
    Case("staff: bad epochs", _staff_post("/api/training-runs/", {"kind": "disentangler",
                                                                 "config": {"training": {"epochs": 0}}}), 400, "epochs"),
    Case("admin form: not JSON", _admin_form({"kind": "disentangler", "config": "{epochs: 5"}), 200,
         "Enter a valid JSON"),
    Case("admin form: retired setting", _admin_form({"kind": "disentangler",
                                                     "config": json.dumps({"training": {"species_map": "linear"}})}),
         200, "retired research setting(s): species_map"),
    Case("admin form: no kind", _admin_form({"config": "{}"}), 200, "This field is required"),
    # --- ingest
    Case("ingest missing path", _command("ingest", "/nonexistent/spec-1.fits", "--no-progress"), 2, "/nonexistent/spec-1.fits"),
    Case("ingest empty file", _command("ingest", _file("e/spec-0001-50000-0001.fits", b""), "--no-progress"), 2,
         "empty file"),
    Case("ingest garbage", _command("ingest", _file("g/spec-0001-50000-0002.fits", b"hello" * 1000), "--no-progress"), 2,
         "not a FITS file"),
    Case("ingest truncated apStar", _command("ingest", _file("t/apStar-x-2M00000009+0000009.fits", _truncated_apstar),
                                             "--no-progress"), 2, "truncated"),
    Case("ingest unparsable header card", _command("ingest", _file("c/apStar-x-2M00000009+0000009.fits",
                                                                   _unparsable_card_apstar), "--no-progress"), 2,
         "a header card cannot be parsed (Unparsable card (RA))"),
    Case("ingest unknown format", _command("ingest", _file("u/x.fits", FITS), "--format", "hubble", "--no-progress"), 1,
         "invalid choice: 'hubble'"),
    # --- import_labels
    Case("labels: teff text", _labels("a,hot,10,2.0\n"), 2, "line 2: teff 'hot' is not a number"),
    Case("labels: logg 99", _labels("a,4500,10,99\n"), 2, "line 2: logg 99 is outside -1 to 6 dex"),
    Case("labels: teff 100 K", _labels("a,100,10,2\n"), 2, "teff 100 is outside 2000 to 50000 K"),
    Case("labels: negative error", _labels("a,4500,-10,2\n"), 2, "teff_err -10 is negative"),
    Case("labels: unknown preset", _command("import_labels", _file("l.csv", "ID\na\n"), "--mapping", "nope"), 2,
         "neither a preset"),
    Case("labels: unknown mapping key", _labels("a,4500,10,2\n", "name: cat\nmatch: {designation: ID}\ncolour: red\n"), 2,
         "unknown mapping key(s) colour"),
    Case("labels: missing column", _labels("a,4500,10,2\n", "name: cat\nmatch: {designation: ID}\nlabels: {teff: T}\n"), 2,
         "column T not in the catalogue"),
    Case("labels: empty file", _command("import_labels", _file("empty.csv", ""), "--mapping", "grid"), 2, "empty file"),
    Case("labels: no rows", _command("import_labels", _file("header.csv", "designation,teff\n"), "--mapping", "grid"), 2,
         "no rows"),
]


def _row_counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in apps.get_app_config("catalog").get_models()}


def test_the_corpus_is_large():
    assert len(CASES) >= 60, len(CASES)


def test_every_bad_input_is_refused_by_name_and_changes_nothing(client, admin_client, tmp_path, settings, caplog):
    version, spectra = build_active_disentangler()
    ctx = {"client": client, "admin": admin_client, "tmp": tmp_path, "star": spectra[0].star_id}
    failures = []
    for case in CASES:
        before = _row_counts()
        try:
            status, text = case.run(ctx)
        except Exception as error:  # a traceback is itself a failure of the case
            failures.append(f"{case.name}: raised {type(error).__name__}: {error}")
            continue
        if status != case.status:
            failures.append(f"{case.name}: status {status}, expected {case.status}: {text[:300]}")
        elif case.message.lower() not in text.lower():
            failures.append(f"{case.name}: no {case.message!r} in: {text[:300]}")
        elif "Traceback" in text:
            failures.append(f"{case.name}: a traceback reached the user")
        after = _row_counts()
        if after != before:
            failures.append(f"{case.name}: rows changed: " + ", ".join(f"{k} {before[k]}→{after[k]}" for k in after
                                                                       if after[k] != before[k]))
    assert not failures, f"{len(failures)} of {len(CASES)} cases failed:\n" + "\n".join(failures)
