"""Small PNGs for lists (BHB candidates): a spectrum thumbnail and a gri cutout."""
from __future__ import annotations

import io

import numpy as np

from portal.plots.spectrum import LINES, with_gaps


THUMBNAIL_LINES = ("Hδ", "Hγ", "Hβ", "Hα")  # marked and named on SDSS thumbnails


def spectrum_png(wavelength, flux, width_px: int = 240, height_px: int = 96) -> bytes:
    """A spectrum thumbnail as PNG bytes (``spectrum_figure``)."""
    from matplotlib import pyplot as plt

    fig = spectrum_figure(wavelength, flux, width_px, height_px)
    out = io.BytesIO()
    fig.savefig(out, format="png")
    plt.close(fig)
    return out.getvalue()


def spectrum_figure(wavelength, flux, width_px: int = 240, height_px: int = 96):
    """Flux against wavelength with a labelled wavelength axis (vacuum Å), the Balmer lines in
    range marked and named, breaks at detector gaps. wavelength, flux (n,); a matplotlib Figure
    (close it after use)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt
    from matplotlib.ticker import MaxNLocator

    wavelength, flux = with_gaps(wavelength, flux)
    fig = plt.figure(figsize=(width_px / 80, height_px / 80), dpi=80)
    axes = fig.add_axes([0.03, 0.27, 0.94, 0.5])
    axes.plot(wavelength, flux, lw=0.6, color="#1d2330")
    low, high = np.nanmin(wavelength), np.nanmax(wavelength)
    in_range = [name for name in THUMBNAIL_LINES if low <= LINES["sdss"][name] <= high]
    for k, name in enumerate(in_range):
        line = LINES["sdss"][name]  # vacuum Å, as the spectra
        axes.axvline(line, color="#2f5fd0", lw=0.5, alpha=0.5)
        # names above the axes, staggered so that neighbours (Hδ, Hγ) do not overlap
        axes.text(line, 1.02 + 0.18 * (k % 2), name, transform=axes.get_xaxis_transform(), fontsize=6,
                  color="#2f5fd0", ha="center", va="bottom", clip_on=False)
    axes.set_xlim(low, high)
    axes.set_yticks([])
    axes.xaxis.set_major_locator(MaxNLocator(nbins=4, integer=True))
    axes.tick_params(axis="x", labelsize=6, length=2, pad=1)
    axes.set_xlabel("vacuum wavelength (Å)", fontsize=6, labelpad=1)
    for side in ("top", "right", "left"):
        axes.spines[side].set_visible(False)
    return fig


def cutout_png(cube: np.ndarray, size_px: int = 96) -> bytes:
    """gri → RGB with an asinh (Lupton) stretch. cube (5, H, W) ugriz."""
    import matplotlib

    matplotlib.use("Agg")
    from astropy.visualization import make_lupton_rgb
    from matplotlib import pyplot as plt

    g, r, i = cube[1], cube[2], cube[3]
    scale = float(np.nanpercentile(np.abs(np.stack([g, r, i])), 99.5)) or 1.0
    rgb = make_lupton_rgb(i / scale, r / scale, g / scale, stretch=0.5, Q=8)
    fig = plt.figure(figsize=(size_px / 80, size_px / 80), dpi=80)
    axes = fig.add_axes([0, 0, 1, 1])
    axes.imshow(rgb, origin="lower", interpolation="nearest")
    axes.set_axis_off()
    out = io.BytesIO()
    fig.savefig(out, format="png")
    plt.close(fig)
    return out.getvalue()


def bands_png(cube: np.ndarray, bands: str = "ugriz", panel_px: int = 96) -> bytes:
    """The five bands side by side, each with its own asinh stretch, labelled."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    fig, axes = plt.subplots(1, len(bands), figsize=(len(bands) * panel_px / 80, panel_px / 80 + 0.25), dpi=80)
    for axis, band, image in zip(np.atleast_1d(axes), bands, cube):
        scale = float(np.nanpercentile(np.abs(image), 99.5)) or 1.0
        axis.imshow(np.arcsinh(image / scale * 10), origin="lower", cmap="gray", interpolation="nearest")
        axis.set_title(band, fontsize=9)
        axis.set_axis_off()
    fig.tight_layout(pad=0.2)
    out = io.BytesIO()
    fig.savefig(out, format="png")
    plt.close(fig)
    return out.getvalue()
