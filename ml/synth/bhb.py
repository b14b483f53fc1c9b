"""SDSS-like spectra and ugriz cutouts of Blue Horizontal Branch (BHB) stars and of the A-type
stars they are confused with (blue stragglers, A-type main-sequence stars).

**Balmer lines.** Each Balmer line is a Sérsic profile y = 1 − a·exp(−(|λ − λ0| / b)^c) (Xue et
al. 2008). A star draws (D0.2, fm, c, b): D0.2 and fm describe Hδ (width at 20 % below the
continuum, Å; core flux relative to the continuum), c and b the Hγ shape and scale width (Å).
The other lines scale from these (b ∝ line strength, a from fm).

**BHB distribution.** Mean, σ and correlations of (D0.2, fm, c, b, (u−g)₀, (g−r)₀, g₀) computed
from the 4985 BHB stars of Xue et al. 2011, ApJ 738, 79 (VizieR J/ApJ/738/79, table1):

    mean  D0.2 25.13 Å, fm 0.2314, c 0.9808, b 9.240 Å, u−g 1.152, g−r −0.151, g 16.75
    σ          1.993,     0.0320,   0.1139,   0.8173,    0.0924,    0.0794,    1.196

and the correlation matrix ``_BHB_CORRELATION`` below (same source). Non-BHB A stars are
higher-gravity: broader Balmer wings (larger D0.2 and b), a smaller Balmer jump (bluer u−g). Their
distributions are set by hand so that the classes overlap as in reality: the Xue Balmer-line cuts
(``xue_balmer_cuts``) pass about 10 % of them and reject a few % of the BHBs.

**Spectra.** 3522 pixels, 4000–9000 Å (Δlog λ = 1e-4), in 10⁻¹⁷ erg s⁻¹ cm⁻² Å⁻¹: a blackbody
continuum at the colour temperature implied by g−r, with the Balmer-jump wing of the higher
series below 4100 Å, the Balmer lines Hα–Hε, a few weak metal lines (Ca II K wing, Mg II 4481,
Ca II triplet), scaled to the g magnitude, with noise at an S/N that falls with magnitude.

**Cutouts.** 5 × 64 × 64 px at 0.396″/px in nanomaggies: a Gaussian PSF (FWHM 1.2–1.5″ by band)
with band fluxes from g and the colours, sky noise per band, and occasional neighbour stars and
galaxies.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ml.photometry import SDSS_PIXEL_SCALE, SDSS_TYPICAL_FWHM
from ml import surveys

BALMER = {"Ha": 6564.6, "Hb": 4862.7, "Hg": 4341.7, "Hd": 4102.9, "He": 3971.2}  # vacuum Å
_LINE_SCALE = {"Ha": 1.25, "Hb": 1.1, "Hg": 1.0, "Hd": 0.95, "He": 0.85}  # b relative to Hγ
_METALS = [(3934.8, 12.0, 0.15), (4482.2, 0.8, 0.10), (8500.4, 1.5, 0.10), (8544.4, 1.8, 0.12),
           (8664.5, 1.6, 0.11)]  # (λ Å, Gaussian σ Å, depth): Ca II K wing, Mg II, Ca II triplet

_BHB_MEAN = np.array([25.1308, 0.2314, 0.9808, 9.2398, 1.1516, -0.1510, 16.7456])
_BHB_STD = np.array([1.9931, 0.0320, 0.1139, 0.8173, 0.0924, 0.0794, 1.1955])
_BHB_CORRELATION = np.array([
    [1.0000, -0.3319, 0.0224, 0.5872, 0.3747, -0.1109, 0.0908],
    [-0.3319, 1.0000, -0.1251, -0.2239, -0.1890, 0.1973, -0.0448],
    [0.0224, -0.1251, 1.0000, 0.5826, -0.4508, -0.7957, -0.1882],
    [0.5872, -0.2239, 0.5826, 1.0000, 0.0658, -0.5194, -0.1278],
    [0.3747, -0.1890, -0.4508, 0.0658, 1.0000, 0.3134, 0.0927],
    [-0.1109, 0.1973, -0.7957, -0.5194, 0.3134, 1.0000, 0.1927],
    [0.0908, -0.0448, -0.1882, -0.1278, 0.0927, 0.1927, 1.0000],
])
# Blue stragglers and A-type dwarfs (log g ≈ 3.5–4.5): broader wings, smaller Balmer jump.
_OTHER_MEAN = np.array([31.0, 0.235, 0.93, 10.9, 1.07, -0.12, 17.2])
_OTHER_STD = np.array([3.2, 0.045, 0.14, 1.3, 0.10, 0.10, 1.3])
_OTHER_CORRELATION = np.where(np.eye(7, dtype=bool), 1.0, 0.6 * _BHB_CORRELATION)

IMAGE_SIZE = 64
PIXEL_SCALE = SDSS_PIXEL_SCALE  # arcsec / px
PSF_FWHM = np.array(SDSS_TYPICAL_FWHM)  # arcsec, ugriz
_SKY_SIGMA = np.array([0.25, 0.07, 0.09, 0.13, 0.45])  # nanomaggies / px


def xue_balmer_cuts(d02, fm, c, b) -> np.ndarray:
    """The Xue et al. 2011 BHB selection (VizieR ReadMe): Hδ D0.2 ≤ 29 Å and fm ≤ 0.35; Hγ
    0.75 ≤ c ≤ 1.25 and 7 Å ≤ b ≤ 10.8 − 26.5 (c − 1.08)². Returns a boolean array."""
    d02, fm, c, b = (np.asarray(v, dtype=np.float64) for v in (d02, fm, c, b))
    return (d02 <= 29.0) & (fm <= 0.35) & (c >= 0.75) & (c <= 1.25) & (b >= 7.0) & (b <= 10.8 - 26.5 * (c - 1.08) ** 2)


def sersic_line(wavelength, centre, a, b, c) -> np.ndarray:
    """y = 1 − a exp(−(|λ − λ0| / b)^c)."""
    return 1.0 - a * np.exp(-(np.abs(np.asarray(wavelength) - centre) / b) ** c)


def _draw(mean, std, correlation, n, rng):
    covariance = correlation * np.outer(std, std)
    return rng.multivariate_normal(mean, covariance, size=n, method="cholesky")


@dataclass
class BHBSample:
    """n stars. Spectra (n, 3522) in 1e-17 erg/s/cm²/Å; images (n, 5, 64, 64) in nanomaggies."""

    is_bhb: np.ndarray  # (n,) bool
    d02: np.ndarray  # Hδ width at 20 % depth, Å
    fm: np.ndarray  # Hδ core flux / continuum
    c: np.ndarray  # Hγ Sérsic shape
    b: np.ndarray  # Hγ Sérsic scale width, Å
    u_g: np.ndarray
    g_r: np.ndarray
    g_mag: np.ndarray
    teff: np.ndarray  # colour temperature, K
    snr: np.ndarray
    wavelength: np.ndarray  # (3522,) Å
    flux: np.ndarray
    error: np.ndarray
    images: np.ndarray | None


def _hdelta_scale_width(d02, fm, c):
    """The Sérsic b of Hδ that gives width D0.2 at 20 % below the continuum for depth a = 1 − fm."""
    a = np.clip(1.0 - fm, 0.25, 0.98)
    return (d02 / 2.0) / np.log(a / 0.2) ** (1.0 / c)


def _spectra(params, rng):
    d02, fm, c, b, u_g, g_r, g_mag = params.T
    wavelength = surveys.sdss_wavelength()
    n = len(d02)
    teff = np.clip(7000.0 - 6700.0 * g_r, 6500.0, 11000.0)
    # Blackbody continuum (shape), scaled so that f_λ at 4686 Å matches the g magnitude (AB).
    hc_over_k = 1.4388e8  # Å K
    shape = wavelength[None, :] ** -5 / np.expm1(hc_over_k / (wavelength[None, :] * teff[:, None]))
    at_g = 4686.0 ** -5 / np.expm1(hc_over_k / (4686.0 * teff))
    f_g = 10 ** (-0.4 * (g_mag + 48.6)) * 2.998e18 / 4686.0**2 / 1e-17  # 1e-17 erg/s/cm²/Å
    continuum = shape / at_g[:, None] * f_g[:, None]
    # Higher Balmer series crowding towards the jump: a depression below ~4100 Å, deeper for
    # larger jumps (redder u−g at fixed g−r means lower gravity).
    jump = np.clip(0.25 + 0.9 * (u_g - 1.0), 0.05, 0.6)
    continuum *= 1.0 - jump[:, None] * np.exp(-(wavelength[None, :] - 3700.0) / 180.0)
    profile = np.ones((n, len(wavelength)))
    a_delta = np.clip(1.0 - fm, 0.25, 0.98)
    b_delta = _hdelta_scale_width(d02, fm, c)
    for name, centre in BALMER.items():
        if name == "Hd":
            a, width = a_delta, b_delta
        else:
            a = np.clip(a_delta * (0.92 if name in ("Ha", "He") else 1.0), 0.2, 0.98)
            width = b * _LINE_SCALE[name] / _LINE_SCALE["Hg"]
        profile *= sersic_line(wavelength[None, :], centre, a[:, None], width[:, None], c[:, None])
    for centre, sigma, depth in _METALS:
        profile *= 1.0 - depth * np.exp(-0.5 * ((wavelength[None, :] - centre) / sigma) ** 2)
    flux = continuum * profile
    # S/N per pixel falls with magnitude as the star's photon noise does (S/N ∝ √flux ∝ 10^(−0.2 g)),
    # 30 at g = 16.5, clipped to 5–100. The one real SDSS spectrum at hand (BOSS spec-3586-55181-0500,
    # ../shared/data/sdss_spec_samples: g_PSF 16.06, SN_MEDIAN in g 56) is 1.5× above this relation;
    # no SEGUE/legacy A-star spectra were reachable to fit its zero point (docs/research/bhb.md).
    snr = np.clip(30.0 * 10 ** (-0.2 * (g_mag - 16.5)), 5.0, 100.0)
    error = continuum * (1.0 / snr[:, None]) * (0.8 + 0.4 * rng.random((n, 1)))
    flux = flux + rng.standard_normal(flux.shape) * error
    return wavelength, flux.astype(np.float32), error.astype(np.float32), teff, snr


def _images(params, rng):
    _d02, _fm, _c, _b, u_g, g_r, g_mag = params.T
    n = len(g_mag)
    r_i = 0.45 * g_r - 0.05 + rng.normal(0, 0.03, n)
    i_z = 0.35 * g_r - 0.03 + rng.normal(0, 0.03, n)
    mags = np.stack([g_mag + u_g, g_mag, g_mag - g_r, g_mag - g_r - r_i, g_mag - g_r - r_i - i_z], axis=1)
    nanomaggies = 10 ** (-0.4 * (mags - 22.5))  # (n, 5)
    y, x = np.mgrid[0:IMAGE_SIZE, 0:IMAGE_SIZE].astype(np.float64)
    centre = (IMAGE_SIZE - 1) / 2.0
    sigma = PSF_FWHM / 2.3548 / PIXEL_SCALE  # px, (5,)
    images = rng.standard_normal((n, 5, IMAGE_SIZE, IMAGE_SIZE)) * _SKY_SIGMA[None, :, None, None]
    offset = rng.normal(0, 0.3, (n, 2))  # sub-pixel centring
    for k in range(n):
        r2 = (x - centre - offset[k, 0]) ** 2 + (y - centre - offset[k, 1]) ** 2
        psf = np.exp(-0.5 * r2[None] / sigma[:, None, None] ** 2) / (2 * np.pi * sigma[:, None, None] ** 2)
        images[k] += nanomaggies[k, :, None, None] * psf
        for _ in range(rng.poisson(0.6)):  # neighbours: fainter stars, or a small galaxy
            nx, ny = rng.uniform(4, IMAGE_SIZE - 4, 2)
            extra_mag = g_mag[k] + rng.uniform(0.5, 5.0)
            colour = rng.normal([1.3, 0.0, -0.5, -0.7, -0.8], 0.2)  # a redder field population
            flux = 10 ** (-0.4 * (extra_mag + colour - 22.5))
            width = sigma if rng.random() < 0.7 else sigma + rng.uniform(1.5, 4.0)
            r2 = (x - nx) ** 2 + (y - ny) ** 2
            blob = np.exp(-0.5 * r2[None] / width[:, None, None] ** 2) / (2 * np.pi * width[:, None, None] ** 2)
            images[k] += flux[:, None, None] * blob
    return images.astype(np.float32)


def bhb_sample(n_bhb: int, n_other: int, rng: np.random.Generator, with_images: bool = True) -> BHBSample:
    """Draw n_bhb BHB stars then n_other non-BHB A-type stars (in that order)."""
    if n_bhb < 0 or n_other < 0:
        raise ValueError("counts must be non-negative")
    params = np.concatenate([
        _draw(_BHB_MEAN, _BHB_STD, _BHB_CORRELATION, n_bhb, rng),
        _draw(_OTHER_MEAN, _OTHER_STD, _OTHER_CORRELATION, n_other, rng),
    ])
    params[:, 1] = np.clip(params[:, 1], 0.03, 0.6)  # fm
    params[:, 2] = np.clip(params[:, 2], 0.5, 1.6)  # c
    params[:, 3] = np.clip(params[:, 3], 5.0, 16.0)  # b
    params[:, 0] = np.clip(params[:, 0], 12.0, 45.0)  # D0.2
    params[:, 6] = np.clip(params[:, 6], 13.0, 20.5)  # g
    wavelength, flux, error, teff, snr = _spectra(params, rng)
    images = _images(params, rng) if with_images else None
    return BHBSample(
        is_bhb=np.r_[np.ones(n_bhb, bool), np.zeros(n_other, bool)],
        d02=params[:, 0], fm=params[:, 1], c=params[:, 2], b=params[:, 3], u_g=params[:, 4], g_r=params[:, 5],
        g_mag=params[:, 6], teff=teff, snr=snr, wavelength=wavelength, flux=flux, error=error, images=images,
    )
