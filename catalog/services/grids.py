"""Bulk loading of spectrum grids (``ml.synth.gridbuilder.GridBatch`` batches) with binary COPY.

A load is all or nothing, however many streams write it. One stream writes every batch in one
transaction. With ``streams`` > 1 each stream is its own connection and transaction, and a batch
(its stars, spectra and labels, so every foreign key stays inside one transaction) goes whole to
one stream; when every stream has written its share, each one is prepared (two-phase commit,
``PREPARE TRANSACTION``) and only then are they all committed; if any stream fails, every one is
rolled back. Readers never see a half-loaded grid: a prepared transaction is invisible until
committed, and the commits are a few milliseconds apart. Needs the server's
``max_prepared_transactions`` ≥ streams (the embedded server: 16); with fewer, or inside a
caller's transaction, or for a survey whose spectra get Balmer measurements in the same
transaction, the load takes one stream.

A server that loses the loading process between the prepares and the commits keeps the prepared
transactions (and their locks) until an operator ends them: ``SELECT gid FROM pg_prepared_xacts
WHERE gid LIKE 'doppel-grid-%'`` then ``ROLLBACK PREPARED '<gid>'`` (docs/scale.md).
"""
from __future__ import annotations

import datetime as dt
import logging
import queue
import threading
import uuid
from typing import Callable, Iterable

import numpy as np
import psycopg2
from django.db import connection, transaction

from catalog.arrays import error_to_bytes
from catalog.balmer import BALMER_SURVEYS
from catalog.bulk_copy import copy_rows, reserve_ids
from catalog.ingest.records import BadInput
from catalog.models import Star
from catalog.services.balmer import balmer_lines_fill
from catalog.services.ingest import survey_ensure

logger = logging.getLogger(__name__)

_STAR_COLUMNS = ["id", "designation", "ra", "dec", "apogee_id", "gaia_source_id", "sdss_plate", "sdss_mjd",
                 "sdss_fiber", '"group"']
_STAR_TYPES = ["int8", "text", "float8", "float8", "text", "int8", "int4", "int4", "int4", "int4"]
_SPECTRUM_COLUMNS = ["id", "star_id", "survey_id", "flux", "error", "snr", "source_file", "source_sha256",
                     "source_key", "created_at"]
_SPECTRUM_TYPES = ["int8", "int8", "int8", "bytea", "bytea", "float8", "text", "text", "text", "timestamptz"]
_LABEL_COLUMNS = ["star_id", "source", "teff", "logg", "fe_h", "alpha_fe", "abundances", "abundance_errors"]
_LABEL_TYPES = ["int8", "text", "float8", "float8", "float8", "float8", "jsonb", "jsonb"]
_CORE_LABELS = ("teff", "logg", "fe_h", "alpha_fe")


def grid_load(*, batches: Iterable, survey_code: str, label_source: str = "grid", source_file: str = "",
              on_batch: Callable[[int], None] | None = None, streams: int = 1) -> int:
    """Stream grid batches into Star, Spectrum and Labels with binary COPY over ``streams``
    connections, all or nothing (above). Returns the number of spectra loaded; ``on_batch(n)``
    after each batch is written (not yet committed).

    Raises :class:`BadInput` (and writes nothing) when a star of the grid already exists or the
    spectra do not fit the survey's grid."""
    survey = survey_ensure(code=survey_code)
    streams = _usable_streams(streams, survey_code)
    now = dt.datetime.now(dt.timezone.utc)
    with connection.cursor() as cursor:
        ids_cursor = cursor.cursor  # ids come from sequences, outside any transaction's fate

        seen: set[str] = set()  # a star twice in one load would make two streams wait on each other

        def rows_of(batch):
            """(star rows, spectrum rows, label rows) of a checked batch, with fresh ids."""
            for name in batch.designation:
                if name in seen:
                    raise BadInput(f"star {name} appears twice in the grid")
                seen.add(name)
            if batch.flux.shape[1] != survey.n_pixels:
                raise BadInput(f"grid spectra have {batch.flux.shape[1]} pixels; the {survey_code} grid has {survey.n_pixels}")
            clash = Star.objects.filter(designation__in=batch.designation[:1] + batch.designation[-1:]) \
                .values_list("designation", flat=True)
            if clash:
                raise BadInput(f"grid already loaded: star {clash[0]} exists (use another --seed or prefix)")
            return _rows(batch, reserve_ids(ids_cursor, "catalog_star", len(batch.designation)),
                         reserve_ids(ids_cursor, "catalog_spectrum", len(batch.designation)),
                         survey_id=survey.pk, source_file=source_file, label_source=label_source, now=now)

        if streams == 1:
            return _one_stream(batches, rows_of, on_batch, balmer=survey_code in BALMER_SURVEYS)
        return _many_streams(batches, rows_of, on_batch, streams)


def _usable_streams(streams: int, survey_code: str) -> int:
    if streams <= 1 or connection.in_atomic_block or survey_code in BALMER_SURVEYS:
        return 1
    with connection.cursor() as cursor:
        cursor.execute("SHOW max_prepared_transactions")
        allowed = int(cursor.fetchone()[0])
    if allowed < streams:
        logger.warning("grid load: one stream, not %d (the server's max_prepared_transactions is %d)", streams, allowed)
        return 1
    return streams


def _rows(batch, star_ids, spectrum_ids, *, survey_id, source_file, label_source, now):
    n = len(batch.designation)
    flux = np.ascontiguousarray(batch.flux, dtype="<f4")
    error = [None] * n if batch.error is None else [error_to_bytes(row) for row in batch.error]
    abundance_names = [name for name in batch.labels if name not in _CORE_LABELS]
    stars = [(star_ids[k], batch.designation[k], float(batch.ra[k]), float(batch.dec[k]), "", None, None, None, None,
              int(batch.group[k]) if batch.group[k] >= 0 else None) for k in range(n)]  # group -1: no twin
    spectra = [(spectrum_ids[k], star_ids[k], survey_id, flux[k], error[k],
                batch.snr, source_file, "", "grid", now) for k in range(n)]
    labels = [(star_ids[k], label_source, *(round(float(batch.labels[name][k]), 5) for name in _CORE_LABELS),
               {name: round(float(batch.labels[name][k]), 4) for name in abundance_names}, {}) for k in range(n)]
    return stars, spectra, labels


def _copy(cursor, rows) -> int:
    stars, spectra, labels = rows
    copy_rows(cursor, "catalog_star", _STAR_COLUMNS, _STAR_TYPES, stars)
    copy_rows(cursor, "catalog_spectrum", _SPECTRUM_COLUMNS, _SPECTRUM_TYPES, spectra)
    copy_rows(cursor, "catalog_labels", _LABEL_COLUMNS, _LABEL_TYPES, labels)
    return len(spectra)


def _one_stream(batches, rows_of, on_batch, *, balmer: bool) -> int:
    total = 0
    with transaction.atomic(), connection.cursor() as cursor:
        for batch in batches:
            written = _copy(cursor.cursor, rows_of(batch))
            total += written
            if on_batch:
                on_batch(written)
        if balmer:  # in the same transaction, as for ingested files
            balmer_lines_fill()
    return total


def _many_streams(batches, rows_of, on_batch, streams: int) -> int:
    """The batches over ``streams`` connections, each its own transaction, prepared then committed
    together (or all rolled back)."""
    params = connection.get_connection_params()
    load = uuid.uuid4().hex[:12]
    work: queue.Queue = queue.Queue(maxsize=streams * 2)  # rows ready to COPY; bounded: memory stays flat
    written: queue.Queue = queue.Queue()
    failures: list[BaseException] = []
    links = [psycopg2.connect(**params) for _ in range(streams)]

    def writer(link, number: int) -> None:
        try:
            link.tpc_begin(link.xid(0, f"doppel-grid-{load}-{number}", ""))
            with link.cursor() as cursor:
                # a row another load holds (its transaction prepared, waiting on its own streams)
                # fails this one after a while instead of waiting for ever
                cursor.execute("SET LOCAL lock_timeout = '60s'")
                while (rows := work.get()) is not None:
                    if not failures:
                        written.put(_copy(cursor, rows))
            if not failures:
                link.tpc_prepare()
        except BaseException as error:  # noqa: BLE001 — reported by the loading thread
            failures.append(error)
            while work.get() is not None:  # let the producer finish
                pass

    threads = [threading.Thread(target=writer, args=(link, number), daemon=True) for number, link in enumerate(links)]
    for thread in threads:
        thread.start()
    total = 0

    def drain() -> None:
        nonlocal total
        while not written.empty():
            count = written.get()
            total += count
            if on_batch:
                on_batch(count)

    try:
        try:
            for batch in batches:
                if failures:
                    break
                work.put(rows_of(batch))
                drain()
        finally:
            for _ in threads:
                work.put(None)
            for thread in threads:
                thread.join()
        drain()
        if failures:
            raise failures[0]
        for link in links:  # every stream is prepared: now they all become visible
            link.tpc_commit()
        return total
    except BaseException:
        for link in links:
            try:
                link.tpc_rollback()
            except psycopg2.Error:
                pass
        raise
    finally:
        for link in links:
            link.close()
