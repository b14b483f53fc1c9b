"""The Sérsic fit recovers known line parameters; the Xue cuts follow from the measurements."""
import numpy as np
import pytest

from ml.balmer import fit_sersic, measure, xue_cuts
from ml.synth.bhb import bhb_sample, sersic_line, xue_balmer_cuts


@pytest.mark.parametrize("a, b, c", [(0.7, 9.0, 1.0), (0.5, 6.0, 0.8), (0.8, 12.0, 1.3)])
def test_sersic_fit_recovers_known_parameters(a, b, c):
    rng = np.random.default_rng(0)
    wavelength = np.linspace(4300, 4385, 400)
    line = sersic_line(wavelength, 4341.7, a, b, c) + rng.normal(0, 0.005, 400)
    (a_fit, b_fit, c_fit, centre), ok = fit_sersic(wavelength, line)
    assert ok
    assert a_fit == pytest.approx(a, abs=0.02) and b_fit == pytest.approx(b, rel=0.05) and c_fit == pytest.approx(c, rel=0.05)
    assert centre == pytest.approx(4341.7, abs=0.2)


def test_measurements_on_generated_spectra_track_the_drawn_parameters():
    sample = bhb_sample(30, 30, np.random.default_rng(3), with_images=False)
    measured = [measure(sample.wavelength, flux, error) for flux, error in zip(sample.flux, sample.error)]
    assert all(m.ok for m in measured)
    d02 = np.array([m.d02 for m in measured])
    b = np.array([m.b for m in measured])
    assert np.corrcoef(d02, sample.d02)[0, 1] > 0.8
    assert np.corrcoef(b, sample.b)[0, 1] > 0.7
    # The cuts on measured profiles separate the classes better than chance, but not perfectly.
    selected = np.array([xue_cuts(m) for m in measured])
    assert selected[sample.is_bhb].mean() > selected[~sample.is_bhb].mean() + 0.3


def test_measure_needs_the_balmer_region():
    wavelength = np.linspace(6000, 9000, 1000)
    with pytest.raises(ValueError, match="continuum windows"):
        measure(wavelength, np.ones_like(wavelength))


def test_xue_cut_boundaries():
    assert xue_balmer_cuts(25.0, 0.2, 1.0, 9.0)
    assert not xue_balmer_cuts(29.5, 0.2, 1.0, 9.0)  # too broad
    assert not xue_balmer_cuts(25.0, 0.2, 1.0, 6.5)  # b below 7 Å
    assert not xue_balmer_cuts(25.0, 0.2, 1.3, 9.0)  # c above 1.25
