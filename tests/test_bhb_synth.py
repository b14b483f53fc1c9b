"""The BHB / non-BHB generator: realistic, overlapping classes, spectra and cutouts."""
import numpy as np
import pytest

from ml.synth.bhb import IMAGE_SIZE, bhb_sample, sersic_line, xue_balmer_cuts


@pytest.fixture(scope="module")
def sample():
    return bhb_sample(600, 600, np.random.default_rng(0))


def test_shapes_and_units(sample):
    assert sample.flux.shape == (1200, 3522) and sample.images.shape == (1200, 5, IMAGE_SIZE, IMAGE_SIZE)
    assert sample.wavelength[0] == pytest.approx(4000.0) and sample.wavelength[-1] == pytest.approx(8998.3, abs=0.1)
    g_flux = sample.flux[:, np.argmin(np.abs(sample.wavelength - 4686))]
    assert 5 < np.median(g_flux) < 2000  # 1e-17 erg/s/cm²/Å for g ≈ 17 stars


def test_bhb_parameters_follow_xue_2011(sample):
    bhb = sample.is_bhb
    assert sample.d02[bhb].mean() == pytest.approx(25.13, abs=0.4)
    assert sample.u_g[bhb].mean() == pytest.approx(1.152, abs=0.02)
    assert sample.g_r[bhb].std() == pytest.approx(0.079, abs=0.01)


def test_classes_overlap_as_in_reality(sample):
    """The Xue cuts are neither complete nor pure on the sample: no trivially separable set."""
    passed = xue_balmer_cuts(sample.d02, sample.fm, sample.c, sample.b)
    assert 0.75 < passed[sample.is_bhb].mean() < 0.99
    assert 0.02 < passed[~sample.is_bhb].mean() < 0.3


def test_balmer_lines_are_in_the_spectra(sample):
    wavelength = sample.wavelength
    for centre in (4102.9, 4341.7, 4862.7, 6564.6):
        core = np.abs(wavelength - centre) < 2
        side = (np.abs(wavelength - centre) > 60) & (np.abs(wavelength - centre) < 80)
        assert np.median(sample.flux[:, core]) < 0.7 * np.median(sample.flux[:, side])


def test_cutouts_carry_the_colours(sample):
    centre = slice(IMAGE_SIZE // 2 - 6, IMAGE_SIZE // 2 + 6)
    flux = sample.images[:, :, centre, centre].sum(axis=(2, 3))
    u_g = -2.5 * np.log10(np.clip(flux[:, 0], 1e-3, None) / flux[:, 1])
    bright = sample.g_mag < 17.5
    assert np.corrcoef(u_g[bright], sample.u_g[bright])[0, 1] > 0.5


def test_sersic_profile():
    x = np.linspace(-50, 50, 1001)
    line = sersic_line(x, 0.0, 0.7, 8.0, 1.0)
    assert line.min() == pytest.approx(0.3, abs=1e-6)
    assert line[0] == pytest.approx(1.0, abs=1e-2)
