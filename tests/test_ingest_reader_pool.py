"""manage.py ingest --jobs: reader processes parse files ahead of the one process that stores
them, so the catalog gets what one process gives, in file order, bad files reported in place."""
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from catalog import services
from catalog.ingest import detect
from catalog.ingest.generate import write_bhb_files
from catalog.ingest.pool import read_file
from catalog.models import BalmerLines, Image, Spectrum, Star

pytestmark = pytest.mark.django_db


def test_two_readers_store_what_one_process_does_in_file_order(tmp_path):
    write_bhb_files(out_dir=tmp_path, n_bhb=6, n_other=6, seed=4)  # spec-*.fits and img-*.fits per star
    (tmp_path / "spec-9999-99999-0999.fits").write_bytes(b"SIMPLE  = this is not FITS")
    files = [str(path) for path in services.expand_paths([str(tmp_path)])[0]]
    seen = []
    report = services.ingest_paths(paths=[str(tmp_path)], jobs=2, on_file=seen.append)
    assert [outcome.path for outcome in seen] == files  # in order, each once
    assert report.count("ingested") == 24 and report.count("failed") == 1
    (bad,) = [o for o in report.outcomes if o.status == "failed"]
    assert bad.path.endswith("0999.fits") and "FITS" in bad.reason
    assert Star.objects.count() == 12 and Spectrum.objects.count() == 12 and Image.objects.count() == 12
    assert BalmerLines.objects.count() == 12  # stored here, with each SDSS spectrum
    again = services.ingest_paths(paths=[str(tmp_path)], jobs=2)
    assert again.count("skipped") == 24 and again.count("failed") == 1 and Spectrum.objects.count() == 12


def test_an_unforeseen_reader_error_comes_back_as_that_file_failing(tmp_path, monkeypatch):
    (path,) = [p for p in write_bhb_files(out_dir=tmp_path, n_bhb=1, n_other=0, seed=1) if p.name.startswith("spec-")]

    def broken(path):
        raise ZeroDivisionError("simulated bug in a reader")

    monkeypatch.setitem(detect.READERS, "sdss", broken)
    read = read_file(path)
    assert read.records is None and "ZeroDivisionError" in read.unexpected and read.sha256
    outcome = services.ingest_file(path=path)
    assert outcome.status == "failed" and outcome.reason == "unexpected error (ZeroDivisionError: simulated bug in a reader)"
    assert Spectrum.objects.count() == 0


def test_jobs_must_be_positive(tmp_path):
    with pytest.raises(CommandError, match="--jobs must be 1 or more"):
        call_command("ingest", str(tmp_path), "--jobs", "0", "--no-progress", stdout=StringIO(), stderr=StringIO())
