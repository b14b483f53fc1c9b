"""Storing an ingested file asks the database only what it must: one lookup of the file's sha256,
the star, its insert and the spectrum's; the survey is looked up once per run, and a star the file
itself created is not searched for duplicates. What a failed file created is not remembered."""
import numpy as np
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog import services
from catalog.ingest.apogee import write_aspcapstar
from catalog.ingest.gaia_rvs import write_gaia_rvs
from catalog.models import Spectrum, Star, Survey

# transaction=True: each file commits for real, as in production (the run remembers a survey only
# once the file that created it has committed).
pytestmark = pytest.mark.django_db(transaction=True)


def _apogee_files(folder, n):
    flux = np.full(7214, 0.98, dtype=np.float32)
    return [write_aspcapstar(folder / f"aspcapStar-x-2M0000000{k}+0000000.fits", f"2M0000000{k}+0000000",
                             1.0 + k, 2.0, flux, None) for k in range(n)]


def test_each_file_after_the_first_is_four_statements(tmp_path):
    files = _apogee_files(tmp_path, 4)
    with CaptureQueriesContext(connection) as queries:
        report = services.ingest_paths(paths=[str(path) for path in files])
    assert report.count("ingested") == 4 and Spectrum.objects.count() == 4
    statements = [query["sql"] for query in queries.captured_queries  # not BEGIN, COMMIT or SAVEPOINT
                  if query["sql"].lstrip("(").startswith(("SELECT", "INSERT", "UPDATE", "DELETE"))]
    survey = [sql for sql in statements if '"catalog_survey"' in sql]
    assert len(survey) == 2  # looked up, then created, by the first file only
    assert len(statements) == 2 + 4 * 4  # per file: sha256, star lookup, star insert, spectrum insert
    assert sum('"source_sha256" =' in sql for sql in statements) == 4  # spectra and images in one query


def test_a_duplicate_inside_one_file_fails_it_and_its_survey_is_not_remembered(tmp_path):
    flux = np.ones((2, 2401))
    twice = write_gaia_rvs(tmp_path / "twice.ecsv", [7, 7], flux, None, ra=[1.0, 1.0], dec=[0.0, 0.0])
    good = write_gaia_rvs(tmp_path / "good.ecsv", [8], flux[:1], None, ra=[2.0], dec=[0.0])
    report = services.ingest_paths(paths=[str(twice), str(good)])
    failed, ingested = report.outcomes
    assert failed.status == "failed"
    assert failed.reason == "Gaia DR3 7: the file holds two gaia_rvs spectra under 'mean'"
    # the first file created the gaia_rvs survey and rolled it back; the second makes it again
    assert ingested.status == "ingested", ingested.reason
    assert Survey.objects.filter(code="gaia_rvs").count() == 1
    assert list(Star.objects.values_list("gaia_source_id", flat=True)) == [8]
