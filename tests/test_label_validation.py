"""`import_labels` checks every value against the label bounds (catalog.ingest.labels.BOUNDS) and
refuses a file with any bad one whole: exit code 2, each bad cell by line and reason, no row written."""
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from catalog.ingest.labels import BOUNDS, _label
from catalog.models import Labels
from tests.factories import StarFactory

pytestmark = pytest.mark.django_db
MAPPING = "name: aspcap\nmatch: {apogee_id: APOGEE_ID}\nlabels: {teff: TEFF, teff_err: TEFF_ERR, logg: LOGG}\nabundances: {Mg_Fe: MG_FE}\n"


def _import(tmp_path, rows: str):
    (tmp_path / "labels.csv").write_text("APOGEE_ID,TEFF,TEFF_ERR,LOGG,MG_FE\n" + rows)
    (tmp_path / "map.yaml").write_text(MAPPING)
    call_command("import_labels", str(tmp_path / "labels.csv"), "--mapping", str(tmp_path / "map.yaml"), stdout=StringIO())


def test_text_and_out_of_range_values_refuse_the_whole_file_by_line(tmp_path):
    for k in range(1, 5):
        StarFactory(designation=f"2M{k}", apogee_id=f"2M{k}")
    with pytest.raises(CommandError) as refused:
        _import(tmp_path, "2M1,4650,50,2.4,0.1\n2M2,hot,50,2.4,0.1\n2M3,4650,50,99,0.1\n2M4,4650,-3,2.0,4.5\n")
    message = str(refused.value)
    assert refused.value.returncode == 2
    assert "4 bad value(s); nothing was imported" in message
    assert "line 3: teff 'hot' is not a number" in message
    assert "line 4: logg 99 is outside -1 to 6 dex" in message
    assert "line 5: teff_err -3 is negative" in message and "line 5: Mg_Fe 4.5 is outside -5 to 2 dex" in message
    assert Labels.objects.count() == 0  # not even the good first row


def test_empty_cells_are_missing_values_not_errors(tmp_path):
    StarFactory(designation="2M1", apogee_id="2M1")
    _import(tmp_path, "2M1,4650,,,\n")
    labels = Labels.objects.get()
    assert labels.teff == 4650 and labels.logg is None and labels.teff_err is None and not labels.abundances


def test_bounds_are_inclusive_and_in_one_place():
    low, high, _ = BOUNDS["teff"]
    assert _label(str(low), "teff") == (low, None) and _label(str(high), "teff") == (high, None)
    assert _label(str(high + 1), "teff")[1] and _label("-5.01", "Ti_Fe")[1] and _label("nan", "logg") == (None, None)
