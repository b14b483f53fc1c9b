"""Readers (and matching writers) for the survey file formats Doppel ingests.

Every reader takes a path and returns plain records (:mod:`catalog.ingest.records`) or raises
:class:`~catalog.ingest.records.BadInput` with a one-line reason. Readers never touch the
database; :mod:`catalog.services` stores what they return, one file per transaction.
"""
