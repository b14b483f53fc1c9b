"""An upload handler that stops storing a file once it passes ``DOPPEL_UPLOAD_MAX_BYTES``.

Django checks ``DATA_UPLOAD_MAX_MEMORY_SIZE`` for form fields only; files are written out whole
before any view sees them. This handler sits first in ``FILE_UPLOAD_HANDLERS``, counts each file's
bytes as they stream in and, past the cap, skips the rest of that file (read and dropped, never
kept), so an oversized body costs one chunk of memory. The view then finds the file missing and the
reason in ``request.upload_refused`` (:func:`refused`), and answers with the same message on the web
and the API.
"""
from __future__ import annotations

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, SkipFile

from catalog.inference import too_large


class CappedUploadHandler(FileUploadHandler):
    def new_file(self, field_name, file_name, content_type, content_length, charset=None, content_type_extra=None):
        super().new_file(field_name, file_name, content_type, content_length, charset, content_type_extra)
        self.received = 0
        if content_length is not None and content_length > settings.UPLOAD_MAX_BYTES:  # a part that says so up front
            self._refuse(content_length)

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > settings.UPLOAD_MAX_BYTES:
            self._refuse(None)
        return raw_data

    def file_complete(self, file_size):
        return None  # the next handler (memory or temporary file) holds the file

    def _refuse(self, size):
        self.request.upload_refused = {self.field_name: too_large(self.file_name, size)}
        raise SkipFile()


def refused(request, field: str = "file") -> str | None:
    """The reason a file field of ``request`` was dropped by :class:`CappedUploadHandler`, if it was."""
    return (getattr(request, "upload_refused", None) or {}).get(field)
