"""manage.py ingest --jobs 2: processes side by side store what one process stores, including a
star's spectrum and image files racing to create the star, and report every file once."""
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from catalog import services
from catalog.ingest.generate import write_bhb_files
from catalog.models import BalmerLines, Image, Spectrum, Star

pytestmark = pytest.mark.django_db(transaction=True)  # the processes write through their own connections


def test_two_processes_store_what_one_does(tmp_path):
    write_bhb_files(out_dir=tmp_path, n_bhb=6, n_other=6, seed=4)  # spec-*.fits and img-*.fits per star
    files = sorted(tmp_path.glob("*.fits"))
    seen = []
    report = services.ingest_paths(paths=[str(tmp_path)], jobs=2, on_file=seen.append)
    assert report.count("ingested") == len(files) == 24 and report.count("failed") == 0, \
        [o.reason for o in report.outcomes if o.status != "ingested"]
    assert sorted(o.path for o in seen) == sorted(map(str, files))
    assert Star.objects.count() == 12 and Spectrum.objects.count() == 12 and Image.objects.count() == 12
    assert BalmerLines.objects.count() == 12
    assert set(Image.objects.values_list("star_id", flat=True)) == set(Spectrum.objects.values_list("star_id", flat=True))
    again = services.ingest_paths(paths=[str(tmp_path)], jobs=2)
    assert again.count("skipped") == 24


def test_jobs_must_be_positive(tmp_path):
    with pytest.raises(CommandError, match="--jobs must be 1 or more"):
        call_command("ingest", str(tmp_path), "--jobs", "0")
