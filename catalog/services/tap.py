"""Writes for TAP: ``TAP_SCHEMA`` from ``catalog.tap_schema``, and asynchronous jobs (UWS 1.1)
through their phases PENDING → QUEUED → EXECUTING → COMPLETED | ERROR | ABORTED."""
from __future__ import annotations

import datetime as dt
import logging

from django.db import connection, transaction
from django.utils import timezone

from catalog.models import TapJob
from catalog.services.registry import json_safe
from catalog.selectors.tap import TapError, TapResult, run_adql
from catalog.tap_schema import TABLES
from catalog.tap_upload import UploadTable

JOB_LIFETIME = dt.timedelta(days=7)  # until destruction
log = logging.getLogger(__name__)


def tap_schema_fill() -> None:
    """Rewrite the tap_schema tables from the description (after each migrate)."""
    with transaction.atomic(), connection.cursor() as cursor:
        for name in ("key_columns", "keys", "columns", "tables", "schemas"):
            cursor.execute(f"DELETE FROM tap_schema.{name}")
        cursor.executemany("INSERT INTO tap_schema.schemas VALUES (%s, NULL, %s, %s)", [
            ("doppel", "Doppel: stars, labels, spectra, BHB scores, Balmer lines and latents", 0),
            ("tap_schema", "This service's description of its tables (TAP 1.1)", 1)])
        tables = [("doppel", t.name, "view", None, t.description, k) for k, t in enumerate(TABLES)]
        tables += [("tap_schema", f"tap_schema.{name}", "table", None, f"TAP_SCHEMA {name}", 100 + k)
                   for k, name in enumerate(("schemas", "tables", "columns", "keys", "key_columns"))]
        cursor.executemany("INSERT INTO tap_schema.tables VALUES (%s, %s, %s, %s, %s, %s)", tables)
        columns = [(t.name, c.name, c.datatype.lower(), None, None, None, c.description, None, c.unit or None,
                    c.ucd or None, int(c.indexed), int(c.principal), 0, k)
                   for t in TABLES for k, c in enumerate(t.columns)]
        cursor.executemany("INSERT INTO tap_schema.columns VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                           columns)
        keys = [(f"{t.name}-stars", t.name, "doppel.stars", f"{t.name}.star_id is a star") for t in TABLES
                if t.name != "doppel.stars" and t.column("star_id")]
        cursor.executemany("INSERT INTO tap_schema.keys VALUES (%s, %s, %s, %s, NULL)", keys)
        cursor.executemany("INSERT INTO tap_schema.key_columns VALUES (%s, 'star_id', 'star_id')", [(k[0],) for k in keys])


def job_create(*, query: str, maxrec: int, execution_duration: int, response_format: str = "votable",
               uploads: list[UploadTable] = ()) -> TapJob:
    """A PENDING job (nothing runs until its phase is set to RUN), keeping the tables uploaded with it."""
    return TapJob.objects.create(query=query, maxrec=maxrec, execution_duration=execution_duration,
                                 response_format=response_format, destruction=timezone.now() + JOB_LIFETIME,
                                 uploads=[upload.to_json() for upload in uploads])


def job_queue(job_id) -> bool:
    """PENDING → QUEUED (True), or False where the job was not pending (RUN twice is harmless)."""
    return TapJob.objects.filter(pk=job_id, phase=TapJob.Phase.PENDING).update(phase=TapJob.Phase.QUEUED) == 1


def job_abort(job_id) -> None:
    """Abort a job that has not finished; a finished one keeps its phase (UWS)."""
    TapJob.objects.filter(pk=job_id, phase__in=[TapJob.Phase.PENDING, TapJob.Phase.QUEUED, TapJob.Phase.EXECUTING]
                          ).update(phase=TapJob.Phase.ABORTED, finished_at=timezone.now())


def job_delete(job_id) -> bool:
    return TapJob.objects.filter(pk=job_id).delete()[0] > 0


def job_run(job_id) -> str | None:
    """Run a QUEUED job: EXECUTING, then COMPLETED with its result stored (``result_store``), or
    ERROR with the reason. A job aborted or deleted meanwhile is left as it is. Returns the phase."""
    claimed = TapJob.objects.filter(pk=job_id, phase=TapJob.Phase.QUEUED).update(
        phase=TapJob.Phase.EXECUTING, started_at=timezone.now())
    if not claimed:
        return TapJob.objects.filter(pk=job_id).values_list("phase", flat=True).first()
    job = TapJob.objects.get(pk=job_id)
    try:
        result = run_adql(job.query, maxrec=job.maxrec, timeout_s=job.execution_duration,
                          uploads=[UploadTable.from_json(stored) for stored in job.uploads])
    except TapError as error:
        fields = {"phase": TapJob.Phase.ERROR, "error": str(error)}
    except Exception as error:  # never leave a job EXECUTING: the user sees ERROR with the reason
        log.exception("TAP job %s failed", job_id)
        fields = {"phase": TapJob.Phase.ERROR, "error": f"the query failed: {type(error).__name__}: {error}"}
    else:
        fields = {"phase": TapJob.Phase.COMPLETED, "result": result_store(result), "n_rows": len(result.rows),
                  "overflow": result.overflow}
    TapJob.objects.filter(pk=job_id, phase=TapJob.Phase.EXECUTING).update(finished_at=timezone.now(), **fields)
    return TapJob.objects.filter(pk=job_id).values_list("phase", flat=True).first()


def result_store(result: TapResult) -> dict:
    """A TapResult as JSON (``TapJob.result``); ``result_load`` reads it back."""
    return json_safe({"columns": [[name, kind.__name__] for name, kind in result.columns.items()],
                      "meta": {name: list(value) for name, value in result.meta.items()},
                      "rows": [list(row.values()) for row in result.rows], "overflow": result.overflow})


def result_load(stored: dict) -> TapResult:
    kinds = {"int": int, "float": float, "str": str, "bool": bool}
    columns = {name: kinds[kind] for name, kind in stored["columns"]}
    return TapResult(columns=columns, rows=[dict(zip(columns, row)) for row in stored["rows"]],
                     overflow=stored["overflow"], meta={name: tuple(value) for name, value in stored["meta"].items()})


def jobs_destroy_expired() -> int:
    """Delete jobs past their destruction time; the count."""
    return TapJob.objects.filter(destruction__lt=timezone.now()).delete()[0]
