"""SDSS spectra are on vacuum wavelengths; the line markers are too (air values converted with the
Morton 2000 / VALD formula), so a marker sits on its line."""
import numpy as np
import pytest

from ml.surveys import air_to_vacuum
from ml.synth.bhb import BALMER
from portal.plots.spectrum import LINES


@pytest.mark.parametrize("air, vacuum", [(6562.80, 6564.61), (4861.33, 4862.69), (4101.74, 4102.89), (3933.66, 3934.77)])
def test_air_to_vacuum_known_lines(air, vacuum):
    assert float(air_to_vacuum(air)) == pytest.approx(vacuum, abs=0.02)


def test_sdss_markers_sit_on_the_balmer_lines():
    for marker, line in (("Hα", "Ha"), ("Hβ", "Hb"), ("Hγ", "Hg"), ("Hδ", "Hd")):
        assert LINES["sdss"][marker] == pytest.approx(BALMER[line], abs=0.1)
    assert np.all(np.diff(sorted(LINES["sdss"].values())) > 0)
