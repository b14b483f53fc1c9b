"""IVOA TAP 1.1 at /tap: ADQL over the ``doppel`` schema (``catalog.tap_schema``).

- ``/tap/sync`` (GET or POST): QUERY, LANG=ADQL, MAXREC, RESPONSEFORMAT (votable or csv);
  REQUEST=doQuery where given; UPLOAD=name,param:part with the VOTable as that part of a
  multipart POST, queried as ``TAP_UPLOAD.name`` (``catalog.tap_upload``). The answer is a
  VOTable (``QUERY_STATUS`` OK or OVERFLOW), or an error VOTable with status 400 that says why
  (429 past ``DOPPEL_TAP_RATE`` queries, with Retry-After).
- ``/tap/async``: UWS 1.1 jobs run by the Celery workers: POST creates one (``PHASE=RUN`` starts
  it), GET lists them; ``/tap/async/<id>`` (GET, with WAIT; DELETE or POST ACTION=DELETE),
  ``/phase`` (POST RUN or ABORT), ``/results/result``, ``/error``, ``/parameters``,
  ``/executionduration``, ``/destruction``, ``/quote``, ``/owner``.
- VOSI: ``/tap/capabilities``, ``/tap/availability``, ``/tap/tables``; DALI ``/tap/examples``.

Parameter names are case-insensitive (DALI). Views are thin: the query runs in
``catalog.selectors.tap``; jobs change phase in ``catalog.services.tap``.
"""
from __future__ import annotations

import datetime as dt
import math
import time
import uuid
from xml.etree import ElementTree as ET

from django.conf import settings
from django.db import connection, transaction
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.text import slugify
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from catalog.models import TapJob
from catalog.selectors.tap import TapError, TapResult, run_adql
from catalog.services import tap as services
from catalog.tap_schema import EXAMPLES, TABLES
from catalog.tap_upload import UploadError, UploadTable, read_votable, upload_parts
from portal.api.exports import CONTENT_TYPES
from portal.api.renderers import CSVRenderer, votable_bytes
from portal.api.throttling import TapThrottle
from portal.uploads import refused
from portal.vo import error_votable

VOTABLE = "application/x-votable+xml"
FORMATS = {"votable": "votable", VOTABLE: "votable", "text/xml": "votable", "csv": "csv", "text/csv": "csv"}
LANGUAGES = ("ADQL", "ADQL-2.0", "ADQL-2.1")
UWS = "http://www.ivoa.net/xml/UWS/v1.0"
XLINK = "http://www.w3.org/1999/xlink"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
MAX_WAIT_S = 30  # UWS WAIT: the longest a job request blocks for a phase change
ET.register_namespace("uws", UWS)
ET.register_namespace("xlink", XLINK)
ET.register_namespace("xsi", XSI)


class BadRequest(ValueError):
    """A TAP request that cannot be run as given; the message names the parameter."""


def _params(request) -> dict[str, str]:
    """The request's parameters, names upper-cased (DALI: case-insensitive), last value wins."""
    source = request.POST if request.method == "POST" else request.GET
    return {key.upper(): value for key, value in source.items()}


def _query_parameters(params: dict[str, str]) -> tuple[str, int, str]:
    """(ADQL, MAXREC, format) checked; BadRequest naming the parameter otherwise."""
    if params.get("REQUEST", "doQuery").lower() != "doquery":
        raise BadRequest(f"REQUEST={params['REQUEST']!r} is not supported: use doQuery")
    if params.get("LANG", "ADQL").upper() not in LANGUAGES:
        raise BadRequest(f"LANG={params['LANG']!r} is not supported: use ADQL")
    query = params.get("QUERY", "").strip()
    if not query:
        raise BadRequest("QUERY is missing: give an ADQL SELECT")
    raw = params.get("MAXREC", "")
    try:
        maxrec = settings.TAP_MAX_ROWS if raw == "" else int(raw)
    except ValueError:
        raise BadRequest(f"MAXREC={raw!r} is not a whole number") from None
    if not 0 <= maxrec <= settings.TAP_MAX_ROWS:
        raise BadRequest(f"MAXREC={maxrec} must be between 0 and {settings.TAP_MAX_ROWS}")
    wanted = params.get("RESPONSEFORMAT") or params.get("FORMAT") or "votable"
    fmt = FORMATS.get(wanted.split(";")[0].strip().lower())
    if fmt is None:
        raise BadRequest(f"RESPONSEFORMAT={wanted!r} is not supported: use votable or csv")
    return query, maxrec, fmt


def _uploads(request, params: dict[str, str]) -> list[UploadTable]:
    """The tables named by UPLOAD, read from the request's parts; BadRequest saying what is wrong."""
    try:
        parts = upload_parts(params.get("UPLOAD", ""))
    except UploadError as error:
        raise BadRequest(str(error)) from None
    tables = []
    for name, part in parts:
        upload = request.FILES.get(part)
        if upload is None:
            reason = refused(request, part)
            raise BadRequest(reason or f"UPLOAD {name}: the request has no part {part!r}; send the VOTable as a "
                                       "file part of a multipart/form-data POST")
        try:
            tables.append(read_votable(name, upload.read(), max_rows=settings.TAP_UPLOAD_MAX_ROWS))
        except UploadError as error:
            raise BadRequest(str(error)) from None
    return tables


def _error(message: str, status: int = 400) -> HttpResponse:
    return HttpResponse(error_votable(message), status=status, content_type=VOTABLE)


def _encode(result: TapResult, fmt: str, query: str) -> HttpResponse:
    if fmt == "csv":
        header = ",".join(result.columns) + "\n"
        body = CSVRenderer().render(result.rows) if result.rows else header.encode()
        return HttpResponse(body, content_type=CONTENT_TYPES["csv"])
    return HttpResponse(votable_bytes(result.rows, name="result", empty_columns=result.columns, info={"QUERY": query},
                                      overflow=result.overflow, column_meta=result.meta), content_type=VOTABLE)


@csrf_exempt
@require_http_methods(["GET", "POST"])
def sync(request):
    try:
        params = _params(request)
        query, maxrec, fmt = _query_parameters(params)
        if refused := _too_many(request):  # before reading any upload
            return refused
        uploads = _uploads(request, params)
        result = run_adql(query, maxrec=maxrec, timeout_s=settings.TAP_SYNC_TIMEOUT_S, uploads=uploads)
    except (BadRequest, TapError) as error:
        return _error(str(error))
    return _encode(result, fmt, query)


def _too_many(request) -> HttpResponse | None:
    """A 429 error VOTable (with Retry-After) where this client has run ``DOPPEL_TAP_RATE`` queries."""
    throttle = TapThrottle()
    reason = throttle.refusal(request)
    if reason is None:
        return None
    response = _error(reason, status=429)
    response["Retry-After"] = str(math.ceil(throttle.wait() or 1))
    return response


# -- UWS ----------------------------------------------------------------------------------------
def _job_url(request, job: TapJob, *parts: str) -> str:
    return request.build_absolute_uri(reverse("tap-job", args=[job.pk])) + "".join(f"/{part}" for part in parts)


def _time(value) -> str | None:
    return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


def _xml(element: ET.Element, status: int = 200) -> HttpResponse:
    body = b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(element)
    return HttpResponse(body, status=status, content_type="text/xml; charset=utf-8")


def _child(parent: ET.Element, name: str, text=None, **attributes) -> ET.Element:
    element = ET.SubElement(parent, f"{{{UWS}}}{name}", attributes)
    if text is None and name in ("ownerId", "quote", "startTime", "endTime"):
        element.set(f"{{{XSI}}}nil", "true")
    elif text is not None:
        element.text = str(text)
    return element


def _job_document(request, job: TapJob) -> ET.Element:
    root = ET.Element(f"{{{UWS}}}job", {"version": "1.1"})
    _child(root, "jobId", job.pk)
    _child(root, "ownerId")
    _child(root, "phase", job.phase)
    _child(root, "quote")
    _child(root, "creationTime", _time(job.created_at))
    _child(root, "startTime", _time(job.started_at))
    _child(root, "endTime", _time(job.finished_at))
    _child(root, "executionDuration", job.execution_duration)
    _child(root, "destruction", _time(job.destruction))
    parameters = _child(root, "parameters")
    for name, value in (("query", job.query), ("lang", "ADQL"), ("maxrec", job.maxrec), ("responseformat", job.response_format)):
        _child(parameters, "parameter", value, id=name)
    if job.uploads:
        _child(parameters, "parameter", ";".join(f"{table['name']},param:{table['name']}" for table in job.uploads), id="upload")
    results = _child(root, "results")
    if job.phase == TapJob.Phase.COMPLETED:
        ET.SubElement(results, f"{{{UWS}}}result", {"id": "result", f"{{{XLINK}}}href": _job_url(request, job, "results", "result"),
                                                    f"{{{XLINK}}}type": "simple",
                                                    "mime-type": VOTABLE if job.response_format == "votable" else "text/csv"})
    if job.phase == TapJob.Phase.ERROR:
        summary = _child(root, "errorSummary", type="fatal", hasDetail="true")
        _child(summary, "message", job.error)
    return root


def _job(job_id) -> TapJob:
    try:
        return TapJob.objects.get(pk=uuid.UUID(str(job_id)))
    except (ValueError, TapJob.DoesNotExist):
        raise Http404("no such TAP job") from None


def _start(job: TapJob) -> None:
    from tasks.tap import run_tap_job

    if services.job_queue(job.pk):
        transaction.on_commit(lambda: run_tap_job.delay(str(job.pk)))


@csrf_exempt
@require_http_methods(["GET", "POST"])
def async_jobs(request):
    """GET: the job list (UWS ``jobs``); POST: a new job (303 to it), started with PHASE=RUN."""
    if request.method == "GET":
        root = ET.Element(f"{{{UWS}}}jobs", {"version": "1.1"})
        for job in TapJob.objects.only("pk", "phase", "created_at")[:1000]:
            ref = _child(root, "jobref", id=str(job.pk), **{f"{{{XLINK}}}href": _job_url(request, job)})
            _child(ref, "phase", job.phase)
            _child(ref, "creationTime", _time(job.created_at))
        return _xml(root)
    params = _params(request)
    try:
        query, maxrec, fmt = _query_parameters(params)
        if refused := _too_many(request):  # before reading any upload
            return refused
        uploads = _uploads(request, params)
    except BadRequest as error:
        return _error(str(error))
    services.jobs_destroy_expired()  # jobs past their destruction time go as new ones come
    with transaction.atomic():
        job = services.job_create(query=query, maxrec=maxrec, execution_duration=settings.TAP_ASYNC_TIMEOUT_S,
                                  response_format=fmt, uploads=uploads)
        if params.get("PHASE", "").upper() == "RUN":
            _start(job)
    return HttpResponseRedirect(_job_url(request, job), status=303)


@csrf_exempt
@require_http_methods(["GET", "POST", "DELETE"])
def async_job(request, job_id):
    """The job document (GET, blocking up to WAIT seconds while it is queued or running), or
    delete it (DELETE, or POST ACTION=DELETE; 303 to the job list)."""
    job = _job(job_id)
    if request.method == "DELETE" or (request.method == "POST" and _params(request).get("ACTION", "").upper() == "DELETE"):
        services.job_delete(job.pk)
        return HttpResponseRedirect(request.build_absolute_uri(reverse("tap-async")), status=303)
    if request.method == "POST":
        return _error(f"ACTION={_params(request).get('ACTION', '')!r} is not supported: use DELETE")
    wait = _params(request).get("WAIT")
    if wait:
        try:
            seconds = min(MAX_WAIT_S, float(wait)) if float(wait) >= 0 else MAX_WAIT_S
        except ValueError:
            return _error(f"WAIT={wait!r} is not a number of seconds")
        deadline, phase = time.monotonic() + seconds, job.phase
        while job.phase == phase and phase in (TapJob.Phase.PENDING, TapJob.Phase.QUEUED, TapJob.Phase.EXECUTING) \
                and time.monotonic() < deadline:
            time.sleep(0.2)
            job = _job(job_id)
    return _xml(_job_document(request, job))


@csrf_exempt
@require_http_methods(["GET", "POST"])
def async_phase(request, job_id):
    job = _job(job_id)
    if request.method == "GET":
        return HttpResponse(job.phase, content_type="text/plain")
    phase = _params(request).get("PHASE", "").upper()
    if phase == "RUN":
        with transaction.atomic():
            _start(job)
    elif phase == "ABORT":
        services.job_abort(job.pk)
    else:
        return _error(f"PHASE={phase!r} is not supported: use RUN or ABORT")
    return HttpResponseRedirect(_job_url(request, job), status=303)


@require_GET
def async_attribute(request, job_id, attribute: str):
    """One of a job's plain-text attributes (UWS 1.1 §2.2.3)."""
    job = _job(job_id)
    value = {"executionduration": job.execution_duration, "destruction": _time(job.destruction), "quote": "",
             "owner": "", "error": None}[attribute]
    if attribute == "error":
        if job.phase != TapJob.Phase.ERROR:
            raise Http404("this job has no error")
        return HttpResponse(error_votable(job.error), content_type=VOTABLE)
    return HttpResponse(str(value), content_type="text/plain")


@require_GET
def async_parameters(request, job_id):
    document = _job_document(request, _job(job_id))
    return _xml(document.find(f"{{{UWS}}}parameters"))


@require_GET
def async_results(request, job_id):
    document = _job_document(request, _job(job_id))
    return _xml(document.find(f"{{{UWS}}}results"))


@require_GET
def async_result(request, job_id):
    job = _job(job_id)
    if job.phase != TapJob.Phase.COMPLETED or job.result is None:
        raise Http404(f"this job has no result (phase {job.phase})")
    return _encode(services.result_load(job.result), job.response_format, job.query)


# -- VOSI ---------------------------------------------------------------------------------------
VOTABLE_TYPES = {"BIGINT": "long", "INTEGER": "int", "DOUBLE": "double", "REAL": "float", "BOOLEAN": "boolean",
                 "VARCHAR": "char"}


@require_GET
def tables(request):
    root = ET.Element("{http://www.ivoa.net/xml/VOSITables/v1.0}tableset")
    schema = ET.SubElement(root, "schema")
    ET.SubElement(schema, "name").text = "doppel"
    for table in TABLES:
        element = ET.SubElement(schema, "table")
        ET.SubElement(element, "name").text = table.name
        ET.SubElement(element, "description").text = table.description
        for column in table.columns:
            node = ET.SubElement(element, "column")
            ET.SubElement(node, "name").text = column.name
            ET.SubElement(node, "description").text = column.description
            if column.unit:
                ET.SubElement(node, "unit").text = column.unit
            if column.ucd:
                ET.SubElement(node, "ucd").text = column.ucd
            datatype = ET.SubElement(node, "dataType", {f"{{{XSI}}}type": "vs:VOTableType"})
            datatype.text = VOTABLE_TYPES[column.datatype]
            if column.datatype == "VARCHAR":
                datatype.set("arraysize", "*")
            for flag, on in (("indexed", column.indexed), ("primary", column.principal)):
                if on:
                    ET.SubElement(node, "flag").text = flag
    return _xml(root)


@require_GET
def availability(request):
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM tap_schema.tables")
            available, note = True, f"{cursor.fetchone()[0]} tables; the database answers"
    except Exception as error:  # the service is up but cannot query: say so, as VOSI asks
        available, note = False, f"the database does not answer: {type(error).__name__}"
    root = ET.Element("{http://www.ivoa.net/xml/VOSIAvailability/v1.0}availability")
    ET.SubElement(root, "{http://www.ivoa.net/xml/VOSIAvailability/v1.0}available").text = str(available).lower()
    ET.SubElement(root, "{http://www.ivoa.net/xml/VOSIAvailability/v1.0}note").text = note
    return _xml(root)


CAPABILITIES = """<?xml version="1.0" encoding="UTF-8"?>
<vosi:capabilities xmlns:vosi="http://www.ivoa.net/xml/VOSICapabilities/v1.0"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:vs="http://www.ivoa.net/xml/VODataService/v1.1"
    xmlns:vr="http://www.ivoa.net/xml/VOResource/v1.0"
    xmlns:tr="http://www.ivoa.net/xml/TAPRegExt/v1.0">
  <capability standardID="ivo://ivoa.net/std/TAP" xsi:type="tr:TableAccess">
    <interface role="std" xsi:type="vs:ParamHTTP" version="1.1"><accessURL use="base">{base}</accessURL></interface>
    <language>
      <name>ADQL</name><version ivo-id="ivo://ivoa.net/std/ADQL#v2.0">2.0</version>
      <description>ADQL 2.0 through queryparser; geometry: POINT, CIRCLE, CONTAINS, INTERSECTS, DISTANCE</description>
      <languageFeatures type="ivo://ivoa.net/std/TAPRegExt#features-adqlgeo">
        <feature><form>POINT</form></feature><feature><form>CIRCLE</form></feature>
        <feature><form>CONTAINS</form></feature><feature><form>INTERSECTS</form></feature>
        <feature><form>DISTANCE</form></feature>
      </languageFeatures>
    </language>
    <outputFormat ivo-id="ivo://ivoa.net/std/TAPRegExt#output-votable-td"><mime>application/x-votable+xml</mime><alias>votable</alias></outputFormat>
    <outputFormat><mime>text/csv</mime><alias>csv</alias></outputFormat>
    <uploadMethod ivo-id="ivo://ivoa.net/std/TAPRegExt#upload-inline"/>
    <retentionPeriod><default>{retention}</default><hard>{retention}</hard></retentionPeriod>
    <executionDuration><default>{duration}</default><hard>{duration}</hard></executionDuration>
    <outputLimit><default unit="row">{rows}</default><hard unit="row">{rows}</hard></outputLimit>
    <uploadLimit><hard unit="row">{upload_rows}</hard></uploadLimit>
  </capability>
  <capability standardID="ivo://ivoa.net/std/DALI#examples">
    <interface xsi:type="vr:WebBrowser"><accessURL use="full">{base}/examples</accessURL></interface>
  </capability>
  <capability standardID="ivo://ivoa.net/std/VOSI#capabilities">
    <interface xsi:type="vs:ParamHTTP"><accessURL use="full">{base}/capabilities</accessURL></interface>
  </capability>
  <capability standardID="ivo://ivoa.net/std/VOSI#availability">
    <interface xsi:type="vs:ParamHTTP"><accessURL use="full">{base}/availability</accessURL></interface>
  </capability>
  <capability standardID="ivo://ivoa.net/std/VOSI#tables-1.1">
    <interface xsi:type="vs:ParamHTTP"><accessURL use="full">{base}/tables</accessURL></interface>
  </capability>
</vosi:capabilities>
"""


@require_GET
def examples(request):
    """The example queries (``catalog.tap_schema.EXAMPLES``) as a DALI examples document, which
    TOPCAT's TAP window lists under Examples and pyvo reads as ``TAPService.examples``."""
    base = request.build_absolute_uri(reverse("tap-sync")).rsplit("/sync", 1)[0]
    listed = [{"id": slugify(name) or f"example-{k}", "name": name, "query": query}
              for k, (name, query) in enumerate(EXAMPLES, start=1)]
    return render(request, "tap/examples.xhtml", {"base": base, "page": reverse("vo-services"), "examples": listed},
                  content_type="application/xhtml+xml; charset=utf-8")


@require_GET
def capabilities(request):
    base = request.build_absolute_uri(reverse("tap-sync")).rsplit("/sync", 1)[0]
    body = CAPABILITIES.format(base=base, retention=int(services.JOB_LIFETIME.total_seconds()),
                               duration=settings.TAP_ASYNC_TIMEOUT_S, rows=settings.TAP_MAX_ROWS,
                               upload_rows=settings.TAP_UPLOAD_MAX_ROWS)
    return HttpResponse(body.encode(), content_type="text/xml; charset=utf-8")


urlpatterns = [
    path("sync", sync, name="tap-sync"),
    path("async", async_jobs, name="tap-async"),
    path("async/<str:job_id>", async_job, name="tap-job"),
    path("async/<str:job_id>/phase", async_phase),
    path("async/<str:job_id>/parameters", async_parameters),
    path("async/<str:job_id>/results", async_results),
    path("async/<str:job_id>/results/result", async_result, name="tap-result"),
    *[path(f"async/<str:job_id>/{name}", async_attribute, {"attribute": name})
      for name in ("executionduration", "destruction", "quote", "owner", "error")],
    path("capabilities", capabilities, name="tap-capabilities"),
    path("examples", examples, name="tap-examples"),
    path("availability", availability, name="tap-availability"),
    path("tables", tables, name="tap-tables"),
]
