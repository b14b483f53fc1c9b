"""`manage.py import_labels`: real catalogues join onto the catalog; bad mappings are clear errors."""
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from catalog.models import BHBLabel, Labels
from tests.factories import StarFactory

pytestmark = pytest.mark.django_db


def run(*args):
    out = StringIO()
    call_command("import_labels", *map(str, args), stdout=out)
    return out.getvalue()


def test_xue2011_vizier_table_labels_the_matching_stars(shared_data):
    StarFactory(designation="SDSS 3141-55008-0498", sdss_plate=3141, sdss_mjd=55008, sdss_fiber=498)
    StarFactory(designation="other", sdss_plate=1, sdss_mjd=1, sdss_fiber=1)
    out = run(shared_data / "xue2011_bhb" / "table1.dat", "--mapping", "xue2011")
    assert "4985 rows; 0 labels and 1 BHB labels written; 4984 rows matched no star" in out
    label = BHBLabel.objects.get()
    assert label.is_bhb and label.catalogue == "xue2011" and label.star.sdss_fiber == 498


def test_create_stars_from_catalogue_coordinates(shared_data):
    out = run(shared_data / "xue2008_bs_mdanet" / "xue2008_bs_sdss.csv", "--mapping", "xue2008_bs", "--create-stars")
    assert "3128 stars created" in out
    assert BHBLabel.objects.filter(is_bhb=False).count() == 3128
    run(shared_data / "xue2008_bs_mdanet" / "xue2008_bs_sdss.csv", "--mapping", "xue2008_bs")  # re-import updates
    assert BHBLabel.objects.count() == 3128


def test_yaml_mapping_for_labels_and_abundances(tmp_path):
    StarFactory(designation="2M1", apogee_id="2M1")
    (tmp_path / "aspcap.csv").write_text("APOGEE_ID,TEFF,TEFF_ERR,LOGG,FE_H,MG_FE\n2M1,4650,50,2.4,-0.2,0.15\n2M9,4000,40,1.0,0,0\n")
    (tmp_path / "map.yaml").write_text(
        "name: aspcap\nmatch: {apogee_id: APOGEE_ID}\nlabels: {teff: TEFF, teff_err: TEFF_ERR, logg: LOGG, fe_h: FE_H}\n"
        "abundances: {Mg_Fe: MG_FE}\n")
    out = run(tmp_path / "aspcap.csv", "--mapping", tmp_path / "map.yaml")
    assert "1 labels" in out and "1 rows matched no star" in out
    labels = Labels.objects.get(source="aspcap")
    assert (labels.teff, labels.teff_err, labels.logg, labels.fe_h) == (4650, 50, 2.4, -0.2)
    assert labels.abundances == {"Mg_Fe": 0.15}


@pytest.mark.parametrize("mapping_text, message", [
    ("name: x\nmatch: {designation: NOPE}\nlabels: {teff: TEFF}\n", "column NOPE not in the catalogue"),
    ("name: x\nmatch: {designation: ID}\nlabels: {temperature: TEFF}\n", "unknown label field"),
    ("name: x\nmatch: {designation: ID}\nlabels: {teff: TEFF}\ncolour: red\n", "unknown mapping key"),
    ("name: x\nmatch: {designation: ID}\n", "maps nothing"),
])
def test_bad_mappings_are_clear_errors(tmp_path, mapping_text, message):
    (tmp_path / "cat.csv").write_text("ID,TEFF\na,4000\n")
    (tmp_path / "map.yaml").write_text(mapping_text)
    with pytest.raises(CommandError, match=message):
        run(tmp_path / "cat.csv", "--mapping", tmp_path / "map.yaml")
    assert Labels.objects.count() == 0


def test_cds_table_without_readme_is_an_error(tmp_path):
    (tmp_path / "table.dat").write_text("1 2 3\n")
    with pytest.raises(CommandError, match="ReadMe"):
        run(tmp_path / "table.dat", "--mapping", "xue2011")


def test_empty_catalogue_is_an_error(tmp_path):
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(CommandError, match="empty file"):
        run(tmp_path / "empty.csv", "--mapping", "grid")


def test_fits_table_catalogue(tmp_path):
    from astropy.table import Table

    StarFactory(designation="Gaia DR3 42", gaia_source_id=42)
    Table({"SOURCE_ID": [42, 43], "TEFF_GSPSPEC": [5100.0, 4000.0], "LOGG_GSPSPEC": [3.1, 1.0]}).write(tmp_path / "gspspec.fits")
    (tmp_path / "map.json").write_text('{"name": "gspspec", "match": {"gaia_source_id": "source_id"},'
                                       ' "labels": {"teff": "teff_gspspec", "logg": "logg_gspspec"}}')
    out = run(tmp_path / "gspspec.fits", "--mapping", tmp_path / "map.json")
    assert "1 labels" in out and "1 rows matched no star" in out
    assert Labels.objects.get(source="gspspec").teff == 5100.0
