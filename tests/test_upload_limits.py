"""Uploads are bounded: one cap (DOPPEL_UPLOAD_MAX_BYTES) and one message on web and API, a file
past the cap is dropped as it streams in, and a gzip bomb or a FITS header that declares a huge
image is refused without the process growing (RSS measured in a fresh process)."""
from __future__ import annotations

import gzip
import json
import subprocess
import sys

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.conftest import ROOT


def _header(cards: dict) -> bytes:
    text = "".join(f"{key:<8}= {value:>20}".ljust(80) for key, value in cards.items()) + "END".ljust(80)
    return text.encode().ljust(2880 * (len(text) // 2880 + 1), b" ")


def declared_image(naxis1: int) -> bytes:
    """A primary header declaring an 8-bit image of ``naxis1`` bytes (the data itself not written)."""
    return _header({"SIMPLE": "T", "BITPIX": 8, "NAXIS": 1, "NAXIS1": naxis1})


@pytest.mark.django_db
def test_web_and_api_give_the_same_message_for_a_file_over_the_cap(client, settings):
    settings.UPLOAD_MAX_BYTES = 100_000
    body = b"SIMPLE  =" + b" " * 300_000
    web = client.post("/twins/upload/", {"file": SimpleUploadedFile("big.fits", body), "teff": 4500, "logg": 2})
    api = client.post("/api/twins/", {"file": SimpleUploadedFile("big.fits", body)})
    message = "big.fits: the file is over the 0.1 MB upload limit"
    assert message in web.content.decode()
    assert api.status_code == 400, api.content
    assert api.json()["error"]["detail"]["file"] == message


def test_a_header_declaring_more_than_the_cap_is_refused_before_reading(settings, tmp_path):
    from catalog.inference import read_upload
    from catalog.ingest.records import BadInput

    settings.UPLOAD_MAX_BYTES = 1_000_000
    upload = SimpleUploadedFile("huge.fits", declared_image(2_000_000_000) + bytes(2880))
    with pytest.raises(BadInput, match="declares 2000.0 MB of data; the file would be over the 1.0 MB limit"):
        read_upload(upload, survey="apogee")


def test_a_gzip_that_decompresses_past_the_cap_is_refused(settings):
    from catalog.inference import read_upload
    from catalog.ingest.records import BadInput

    settings.UPLOAD_MAX_BYTES = 1_000_000
    bomb = gzip.compress(declared_image(5_000_000) + bytes(5_000_000))
    assert len(bomb) < 20_000
    with pytest.raises(BadInput, match="bomb.fits.gz: decompresses to more than the 1.0 MB limit"):
        read_upload(SimpleUploadedFile("bomb.fits.gz", bomb), survey="apogee")


BOMB = """
import json, resource, sys, zlib
import django
django.setup()
from django.core.files.uploadedfile import SimpleUploadedFile
from catalog.inference import read_upload
from catalog.ingest.records import BadInput
gzip_stream = zlib.compressobj(1, zlib.DEFLATED, 31)  # built 1 MB at a time: the baseline stays small
zeros = bytes(1 << 20)
bomb = gzip_stream.compress(bytes.fromhex(sys.argv[1]))
bomb += b"".join(gzip_stream.compress(zeros) for _ in range(400)) + gzip_stream.flush()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    read_upload(SimpleUploadedFile("bomb.fits.gz", bomb), survey="apogee")
    outcome = "read"
except BadInput as error:
    outcome = str(error)
print(json.dumps({"outcome": outcome, "growth_mb": (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024,
                  "gzip_kb": len(bomb) / 1024}))
"""


def _fresh_process(script: str, *args) -> dict:
    env = {"DJANGO_SETTINGS_MODULE": "tests.settings", "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-c", script, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_gzip_bomb_costs_under_50_mb_of_memory():
    """400 MB (1 MiB × 400) of zeros behind a header that declares them, gzipped to ~1.7 MB, with the
    default 20 MB cap: refused, and the peak RSS of the process grows by < 50 MB (astropy would
    have allocated the 400 MB, and more)."""
    result = _fresh_process(BOMB, declared_image(419_430_400).hex())
    assert "over the 20.0 MB limit" in result["outcome"] or "more than the 20.0 MB limit" in result["outcome"]
    assert result["growth_mb"] < 50, result


BODY = """
import json, resource
import django
django.setup()
from django.core.files.uploadhandler import MemoryFileUploadHandler, TemporaryFileUploadHandler
from django.http import HttpRequest
from django.http.multipartparser import MultiPartParser
from portal.uploads import CappedUploadHandler, refused

SIZE = 200 * (1 << 20)


class Body:
    # a 200 MB multipart body that exists only as it is read, like a socket
    def __init__(self):
        head = (b"--XyZ\\r\\nContent-Disposition: form-data; name=\\"file\\"; filename=\\"big.fits\\"\\r\\n"
                b"Content-Type: application/fits\\r\\n\\r\\n")
        self.parts, self.left, self.tail = [head], SIZE, b"\\r\\n--XyZ--\\r\\n"
        self.length = len(head) + SIZE + len(self.tail)

    def read(self, n=65536):
        if self.parts:
            return self.parts.pop()
        if self.left:
            chunk = min(n, self.left, 1 << 16)
            self.left -= chunk
            return b"A" * chunk
        tail, self.tail = self.tail, b""
        return tail


body = Body()
request = HttpRequest()
meta = {"CONTENT_TYPE": "multipart/form-data; boundary=XyZ", "CONTENT_LENGTH": str(body.length)}
handlers = [CappedUploadHandler(request), MemoryFileUploadHandler(request), TemporaryFileUploadHandler(request)]
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
post, files = MultiPartParser(meta, body, handlers).parse()
print(json.dumps({"files": list(files), "refused": refused(request),
                  "growth_mb": (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024}))
"""


def test_an_oversized_body_is_dropped_as_it_streams_in():
    """A 200 MB upload read from a stream (as from the socket) through Django's parser with the
    project's handlers: the file is dropped past the cap, the reason recorded, and the process
    grows by < 50 MB."""
    result = _fresh_process(BODY)
    assert result["files"] == [] and result["refused"] == "big.fits: the file is over the 20.0 MB upload limit"
    assert result["growth_mb"] < 50, result
