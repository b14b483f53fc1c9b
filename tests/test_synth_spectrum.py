"""The analytic spectrum model responds physically to Teff, logg and chemistry."""
import numpy as np
import pytest

from ml.synth.chemistry import draw_profiles, x_h_matrix
from ml.synth.lines import ELEMENTS, line_list
from ml.synth.stellar import StellarSpectrumModel


@pytest.fixture(scope="module")
def apogee():
    return StellarSpectrumModel("apogee")


@pytest.fixture(scope="module")
def rvs():
    return StellarSpectrumModel("gaia_rvs")


def solar(n=1):
    return np.zeros((n, len(ELEMENTS)), dtype=np.float32)


def test_grids_and_shapes(apogee, rvs):
    assert apogee(np.array([4500.0]), np.array([2.0]), solar()).shape == (1, 7214)
    assert rvs(np.array([4500.0]), np.array([2.0]), solar()).shape == (1, 2401)
    assert apogee.wavelength[0] == pytest.approx(15167.8, abs=0.5) and apogee.wavelength[-1] == pytest.approx(16936.8, abs=0.5)
    assert rvs.wavelength[0] == 8460.0 and rvs.wavelength[-1] == pytest.approx(8700.0)


def test_line_list_has_fifteen_elements_with_neutral_and_ionised_species():
    for band, (low, high) in (("apogee", (15100, 17000)), ("gaia_rvs", (8460, 8700))):
        lines = line_list(band, low, high)
        atomic = lines.kind == 0
        assert len({ELEMENTS[i] for i in lines.element_index[atomic]}) >= 15
        assert set(lines.stage[atomic]) == {1, 2}


def test_spectra_are_continuum_normalised(apogee):
    flux = apogee(np.array([4000.0, 5000.0]), np.array([1.0, 2.0]), solar(2))
    assert np.all(flux <= 1.0 + 1e-5) and np.all(flux > 0.0)
    assert np.percentile(flux, 95) > 0.99  # plenty of continuum


def test_teff_and_logg_change_a_spectrum_much_more_than_chemistry(apogee):
    """Over the grid's ranges, the parameters dominate, as in real spectra (seed Figs. 1–3)."""
    rng = np.random.default_rng(0)
    profiles = x_h_matrix(draw_profiles(40, rng))
    teff = rng.uniform(3200, 6000, 40)
    logg = rng.uniform(0, 2.6, 40)
    # Same chemistry, other parameters ...
    fixed_chemistry = apogee(teff, logg, np.repeat(profiles[:1], 40, axis=0))
    # ... against same parameters, other chemistry.
    fixed_parameters = apogee(np.full(40, teff[0]), np.full(40, logg[0]), profiles)
    spread_parameters = fixed_chemistry.std(axis=0).mean()
    spread_chemistry = fixed_parameters.std(axis=0).mean()
    assert spread_parameters > 4 * spread_chemistry, (spread_parameters, spread_chemistry)


def _depth_near(model, flux, wavelength, window=1.0):
    near = np.abs(model.wavelength - wavelength) < window
    return 1.0 - flux[:, near].min(axis=1)


def _line_width(model, element, wavelength, teff, logg, abundance=0.0):
    """Equivalent width (Å·pixels) of one element's line: the spectrum without the element minus
    the spectrum with it, summed over ±1.5 Å (blends of other species cancel)."""
    x_h = solar(2)
    x_h[0, ELEMENTS.index(element)] = abundance
    x_h[1, ELEMENTS.index(element)] = -6.0
    flux = model(np.full(2, teff), np.full(2, logg), x_h)
    near = np.abs(model.wavelength - wavelength) < 1.5
    return float((flux[1, near] - flux[0, near]).sum())


def test_ionised_lines_weaken_with_gravity_more_than_neutral_lines(apogee):
    """Ti is mostly ionised in a 4500 K giant: Ti II lines fall as Pe rises, Ti I lines barely."""
    ionised = [_line_width(apogee, "Ti", 15912.0, 4500.0, g) for g in (0.5, 2.5)]
    neutral = [_line_width(apogee, "Ti", 15715.6, 4500.0, g) for g in (0.5, 2.5)]
    assert ionised[1] < 0.8 * ionised[0]
    assert ionised[1] / ionised[0] < neutral[1] / neutral[0]


def test_molecules_fade_and_hydrogen_grows_with_teff(apogee):
    flux = apogee(np.array([3500.0, 6000.0]), np.array([1.0, 1.0]), solar(2))
    brackett = _depth_near(apogee, flux, 16811.1, window=1.5)
    assert brackett[1] > brackett[0] + 0.1
    assert flux[0].mean() < flux[1].mean()  # the cool star is covered in molecular lines


def test_curve_of_growth_saturates(apogee):
    """Equivalent width grows ∝ abundance for weak lines, far more slowly once the core saturates."""
    widths = [_line_width(apogee, "Mg", 15765.8, 4500.0, 2.0, abundance) for abundance in (-2.5, -2.0, 0.0, 1.0)]
    assert widths[1] / widths[0] > 2.5  # linear part: ×3.2 abundance gives nearly ×3.2 width
    assert widths[3] / widths[2] < 3.0  # saturated part: ×10 abundance gives well under ×10 width


def test_noise_matches_the_requested_snr(apogee):
    rng = np.random.default_rng(1)
    clean = apogee(np.array([4500.0]), np.array([2.0]), solar())
    noisy, error = apogee(np.array([4500.0]), np.array([2.0]), solar(), snr=50, rng=rng, return_error=True)
    assert np.std(noisy - clean) == pytest.approx(1 / 50, rel=0.05)
    assert np.all(error == pytest.approx(1 / 50))


def test_resolution_sets_the_line_width():
    lower = StellarSpectrumModel("apogee")
    lower.resolution = 11500.0
    lower._prepare()
    sharp = StellarSpectrumModel("apogee")
    args = (np.array([4500.0]), np.array([2.0]), solar())
    assert (1 - lower(*args)).max() < (1 - sharp(*args)).max()  # broader instrument, shallower cores


def test_bad_shapes_are_rejected(apogee):
    with pytest.raises(ValueError, match="x_h must have shape"):
        apogee(np.array([4500.0]), np.array([2.0]), np.zeros((1, 3)))
