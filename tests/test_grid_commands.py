"""generate_grid (files or COPY), generate_bhb, and loading their labels."""
from io import StringIO

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from catalog.models import BHBLabel, Image, Labels, Spectrum, Star

pytestmark = pytest.mark.django_db


def run(command, *args):
    out = StringIO()
    call_command(command, *map(str, args), "--no-progress", stdout=out, stderr=StringIO())
    return out.getvalue()


def test_load_grid_with_copy_writes_stars_spectra_and_labels():
    out = run("generate_grid", "--profiles", "2", "--teff", "4000:4400:200", "--logg", "1:1.2:0.2", "--load", "--snr", "50")
    assert "loaded 12 spectra" in out
    assert Spectrum.objects.filter(survey__code="apogee").count() == 12
    spectrum = Spectrum.objects.select_related("star").first()
    assert spectrum.flux_array.shape == (7214,) and spectrum.error_array[0] == pytest.approx(0.02)
    assert sorted(set(Star.objects.values_list("group", flat=True))) == [0, 1]
    labels = Labels.objects.get(star=spectrum.star, source="grid")
    assert labels.teff in (4000, 4200, 4400) and "Mg_Fe" in labels.abundances


def test_loading_the_same_grid_twice_writes_nothing_the_second_time():
    args = ("--profiles", "1", "--teff", "4000:4000:200", "--logg", "1:1:0.2", "--load")
    run("generate_grid", *args)
    with pytest.raises(CommandError, match="grid already loaded"):
        run("generate_grid", *args)
    assert Spectrum.objects.count() == 1 and Labels.objects.count() == 1


def test_grid_files_go_through_the_readers(tmp_path):
    run("generate_grid", "--kind", "rvs", "--profiles", "1", "--teff", "5000:5000:1", "--logg", "2:2.5:0.5",
        "--out", tmp_path, "--file-format", "vot")
    out = StringIO()
    call_command("ingest", str(tmp_path), "--no-progress", stdout=out, stderr=StringIO())
    assert "18 spectra" in out.getvalue()  # 2 logg × 3 [Fe/H] × 3 [α/Fe]
    call_command("import_labels", str(tmp_path / "labels.csv"), "--mapping", "grid", stdout=StringIO())
    assert Labels.objects.count() == 18
    assert set(Labels.objects.values_list("alpha_fe", flat=True)) == {0.0, 0.2, 0.4}


def test_bad_generate_arguments():
    with pytest.raises(CommandError, match="n_profiles"):
        run("generate_grid", "--profiles", "0", "--load")
    with pytest.raises(CommandError):
        run("generate_grid", "--teff", "6000:4000", "--load")


def test_bhb_sample_named_after_real_xue_stars(tmp_path, shared_data):
    out = run("generate_bhb", "--out", tmp_path, "--n-bhb", "4", "--n-other", "6", "--seed", "2")
    assert "real Xue plate-mjd-fiber" in out
    call_command("ingest", str(tmp_path), "--no-progress", stdout=StringIO(), stderr=StringIO())
    assert Spectrum.objects.filter(survey__code="sdss").count() == 10 and Image.objects.count() == 10
    call_command("import_labels", str(shared_data / "xue2011_bhb" / "xue2011_bhb.csv"), "--mapping", "xue2011", stdout=StringIO())
    call_command("import_labels", str(shared_data / "xue2008_bs_mdanet" / "xue2008_bs_sdss.csv"), "--mapping", "xue2008_bs", stdout=StringIO())
    # The real catalogues join onto the generated sample and agree with its truth.
    assert BHBLabel.objects.filter(catalogue="xue2011").count() == 4
    assert BHBLabel.objects.filter(catalogue="xue2008_bs").count() == 6
    truth = np.genfromtxt(tmp_path / "truth.csv", delimiter=",", names=True)
    assert int(truth["is_bhb"].sum()) == 4
