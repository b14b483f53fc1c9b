"""A FITS file cut short is refused whole, with the HDU named, before anything is stored: the
declared data sizes are checked against the file (astropy only warns and pads)."""
from __future__ import annotations

from io import StringIO

import numpy as np
import pytest
from django.core.management import call_command

from catalog.ingest.apogee import write_apstar
from catalog.ingest.detect import read_any
from catalog.ingest.fitsio import fits_layout
from catalog.ingest.records import BadInput
from catalog.models import Spectrum, Star
from tests.conftest import SHARED_DATA


def _cut(source, target, keep: int):
    target.write_bytes(source.read_bytes()[:keep])
    return target


def test_layout_of_a_whole_file_and_of_one_cut_in_its_error_hdu(tmp_path):
    whole = write_apstar(tmp_path / "apStar-x-2M00000001+0000001.fits", "2M00000001+0000001", 1.0, 1.0,
                         np.full(7214, 0.97, np.float32), np.full(7214, 0.01, np.float32))
    sizes = fits_layout(whole)
    assert sizes[0] == 0 and sizes[1] == 8575 * 4  # primary header only, then the flux HDU (apStar pixels, float32)
    flux_end = 2880 * (2 + -(-sizes[1] // 2880))  # two headers + the padded flux data
    cut = _cut(whole, tmp_path / "apStar-cut.fits", flux_end + 2880 + 4000)  # error HDU's header + 4 kB of its data
    with pytest.raises(BadInput, match=r"HDU 2 declares 34,300 bytes of data but the file holds only 4,000 of them \(truncated\)"):
        fits_layout(cut)
    with pytest.raises(BadInput, match="truncated"):
        read_any(cut)  # what ingest and uploads call: the check runs before any reader


def test_a_file_cut_inside_a_header_is_named_so(tmp_path):
    whole = write_apstar(tmp_path / "apStar-x-2M00000001+0000001.fits", "2M00000001+0000001", 1.0, 1.0,
                         np.full(7214, 0.97, np.float32), None)
    with pytest.raises(BadInput, match="ends inside its header \\(truncated"):
        fits_layout(_cut(whole, tmp_path / "cut.fits", 2880 + 1000))


@pytest.mark.django_db
@pytest.mark.skipif(not (SHARED_DATA / "apogee_spectra").exists(), reason="needs ../shared/data")
def test_ingest_refuses_a_real_apstar_cut_at_300_kb(tmp_path):
    source = next((SHARED_DATA / "apogee_spectra").glob("apStar-*.fits"))
    cut = _cut(source, tmp_path / source.name, 300_000)
    before = (Star.objects.count(), Spectrum.objects.count())
    err = StringIO()
    with pytest.raises(SystemExit) as exit:
        call_command("ingest", str(cut), "--no-progress", stdout=StringIO(), stderr=err)
    assert exit.value.code != 0
    assert "truncated" in err.getvalue() and source.name in err.getvalue()
    assert (Star.objects.count(), Spectrum.objects.count()) == before
