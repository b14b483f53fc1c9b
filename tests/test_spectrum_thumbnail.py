"""The spectrum thumbnail (BHB list) has a wavelength axis in vacuum Å, names the Balmer lines in
its range, and breaks at detector gaps."""
import numpy as np
import pytest
from matplotlib import pyplot as plt

from portal.plots.thumbnails import spectrum_figure, spectrum_png


@pytest.fixture
def figure():
    wavelength = np.r_[np.linspace(3900.0, 4500.0, 300), np.linspace(4800.0, 5000.0, 100)]  # a gap at 4500-4800
    fig = spectrum_figure(wavelength, np.ones_like(wavelength))
    yield fig
    plt.close(fig)


def test_the_thumbnail_has_a_labelled_wavelength_axis(figure):
    axes = figure.axes[0]
    figure.canvas.draw()
    low, high = axes.get_xlim()
    shown = [label.get_text() for label in axes.get_xticklabels() if low <= label.get_position()[0] <= high]
    assert axes.get_xlabel() == "vacuum wavelength (Å)" and (low, high) == (3900, 5000)
    assert len(shown) >= 2 and all(text.isdigit() and 3900 <= int(text) <= 5000 for text in shown)


def test_it_names_the_balmer_lines_in_range_and_breaks_at_the_gap(figure):
    axes = figure.axes[0]
    assert sorted(text.get_text() for text in axes.texts) == ["Hβ", "Hγ", "Hδ"]  # Hα at 6565 Å is out of range
    y = axes.lines[0].get_ydata()
    assert np.isnan(y).sum() == 1  # one break, at the gap


def test_png_size():
    png = spectrum_png(np.linspace(4000, 9000, 50), np.ones(50))
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert png.startswith(b"\x89PNG") and (width, height) == (240, 96)
