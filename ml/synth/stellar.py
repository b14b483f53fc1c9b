"""An analytic, continuum-normalised stellar-spectrum model for the APOGEE and Gaia RVS bands.

Physics, per line l of a star with effective temperature T (K), surface gravity logg (dex) and
abundances [X/H] (dex); θ = 5040 / T:

* **Electron pressure** (dyn cm⁻², log10), a fit to cool-star model atmospheres at τ ≈ 1:
  log Pe = 1.5 + 0.6 (logg − 4.44) + 3.5 (T / 5777 − 1) + 0.4 [Fe/H].
* **Ionisation** (Saha): log N_II/N_I = 2.5 log T − θ χ_ion − log Pe − 0.1762 + log 2.
* **Excitation** (Boltzmann): the lower level's population scales as 10^(−θ χ).
* **Continuum opacity** is H⁻, proportional to Pe. The line-to-continuum opacity ratio of a line
  is therefore η ∝ 10^[X/H] · f_stage · 10^(−θ χ) / Pe. This gives the classic gravity
  behaviour: lines of the majority-ionised species' neutral stage are insensitive to logg, and
  ionised lines weaken as ∝ Pe⁻¹ (so the ratio of ionised to neutral lines tracks gravity).
* **Molecules** (CO, OH, CN, TiO) scale as 10^([A/H] + [B/H]) · 10^(0.45 θ D₀) · g^0.5, with D₀
  the dissociation energy: they fade in warm stars and dominate cool giants.
* **Hydrogen** (Brackett in H, Paschen in RVS) scales as 10^(−θ · 12.1–12.8 eV) with Stark wings
  ∝ Pe^0.5: strong in warm stars only.
* **Profiles**: pseudo-Voigt (Thompson et al. 1987) with a thermal + 1.5 km/s microturbulent
  Doppler core and a Lorentzian damping width ∝ Pe^0.35 (pressure broadening).
* **Curve of growth**: the residual flux is r = r₀ + (1 − r₀) / (1 + Σ_l η_l V_l(λ)), r₀ = 0.12
  (Milne–Eddington-like, with the source-function floor of saturated cores): linear in η for weak
  lines, saturating cores, then damping wings growing as √(η γ).
* **Instrument**: the line depth 1 − r is convolved with a Gaussian of FWHM λ / R plus the pixel
  boxcar on a 3× oversampled grid, then sampled at the pixel centres. Optional Gaussian noise at a
  given S/N per pixel (relative to the continuum).

Every η is normalised to the reference atmosphere T = 4500 K, logg = 2.0, solar abundances, where
it equals the line list's ``log_eta``. The model is batched in torch and runs on CPU or CUDA.
"""
from __future__ import annotations

import math

import numpy as np
import torch

from ml import surveys
from ml.synth.lines import ELEMENTS, IONISATION_EV, LineList, line_list
from ml.synth.noise import add_noise

C_KMS = 2.99792458e5
OVERSAMPLE = 3
REFERENCE = {"teff": 4500.0, "logg": 2.0}
MICROTURBULENCE_KMS = 1.5
FE_INDEX = ELEMENTS.index("Fe")
_NARROW_HALF_WIDTH = 9  # pixels either side of an ordinary line centre
_BROAD_HALF_WIDTH = 400  # pixels either side of hydrogen and the strongest lines
_BROAD_LOG_ETA = 2.0
# Molecular equilibrium constants scale as 10^(θ D₀), but in a real atmosphere the line-forming
# layers shift with Teff and damp this; 0.45 reproduces cool giants that are molecule-dominated
# but not black (normalised mean flux ≈ 0.8 at 3200 K).
_MOLECULE_DISSOCIATION_WEIGHT = 0.45
# Saturated cores bottom out where the source function does: r_min ≈ 0.12 of the continuum.
_CORE_FLOOR = 0.12


def log_electron_pressure(teff: torch.Tensor, logg: torch.Tensor, fe_h: torch.Tensor) -> torch.Tensor:
    """log10 Pe (dyn cm⁻²) at τ ≈ 1, shape of the inputs."""
    return 1.5 + 0.6 * (logg - 4.44) + 3.5 * (teff / 5777.0 - 1.0) + 0.4 * fe_h


def _log_ionised_ratio(teff, log_pe, chi_ion):
    """log10 N_II / N_I (Saha), broadcast over stars (B, 1) and lines (1, L)."""
    theta = 5040.0 / teff
    return 2.5 * torch.log10(teff) - theta * chi_ion - log_pe - 0.1762 + math.log10(2.0)


def _stage_fraction(log_ratio, stage):
    """Fraction of the element in the line's ionisation stage, (B, L)."""
    ratio = torch.pow(10.0, log_ratio.clamp(-30, 30))
    neutral = 1.0 / (1.0 + ratio)
    return torch.where(stage == 2, 1.0 - neutral, neutral)


class StellarSpectrumModel:
    """Continuum-normalised spectra on one survey grid.

    >>> model = StellarSpectrumModel("apogee")
    >>> flux = model(teff=[4500.0], logg=[2.0], x_h=np.zeros((1, len(ELEMENTS))))
    >>> flux.shape
    (1, 7214)
    """

    def __init__(self, band: str = "apogee", device: str | torch.device = "cpu"):
        if band == "apogee":
            pixel_wavelength = surveys.apogee_wavelength()
            full = surveys.apstar_wavelength()
            log_start, log_step = surveys.APSTAR_LOG_START, surveys.APSTAR_LOG_STEP
            # Oversampled apStar grid (contiguous across the chip gaps), sample s = 3 i + 1 at pixel i.
            n_samples = OVERSAMPLE * len(full)
            self.sample_wavelength = 10.0 ** (log_start + log_step * (np.arange(n_samples) - 1) / OVERSAMPLE)
            self.pixel_samples = OVERSAMPLE * surveys.apogee_pixel_index() + 1
            self.resolution = surveys.APOGEE_RESOLUTION
        elif band == "gaia_rvs":
            pixel_wavelength = surveys.rvs_wavelength()
            pad = 300  # pixels of margin for wings and the convolution
            n_samples = OVERSAMPLE * (len(pixel_wavelength) + 2 * pad)
            start = surveys.RVS_START - pad * surveys.RVS_STEP
            self.sample_wavelength = start + surveys.RVS_STEP * (np.arange(n_samples) - 1) / OVERSAMPLE
            self.pixel_samples = OVERSAMPLE * (np.arange(len(pixel_wavelength)) + pad) + 1
            self.resolution = surveys.RVS_RESOLUTION
        else:
            raise ValueError(f"unknown band {band!r}; expected 'apogee' or 'gaia_rvs'")
        self.band = band
        self.device = torch.device(device)
        self.wavelength = pixel_wavelength
        self.lines: LineList = line_list(band, float(self.sample_wavelength[0]), float(self.sample_wavelength[-1]))
        self._prepare()

    # ------------------------------------------------------------------ setup

    def _prepare(self) -> None:
        dev, lines = self.device, self.lines
        as_tensor = lambda values, dtype=torch.float32: torch.as_tensor(values, dtype=dtype, device=dev)  # noqa: E731
        self._sample_wavelength = as_tensor(self.sample_wavelength, torch.float64)
        position = np.interp(lines.wavelength, self.sample_wavelength, np.arange(len(self.sample_wavelength)))
        broad = (lines.kind == 2) | (lines.log_eta >= _BROAD_LOG_ETA)
        self._groups = []
        for mask, half_pixels in ((~broad, _NARROW_HALF_WIDTH), (broad, _BROAD_HALF_WIDTH)):
            if not mask.any():
                continue
            half = half_pixels * OVERSAMPLE
            centre = np.rint(position[mask]).astype(np.int64)
            window = centre[:, None] + np.arange(-half, half + 1)[None, :]
            window = np.clip(window, 0, len(self.sample_wavelength) - 1)
            offset = self.sample_wavelength[window] - lines.wavelength[mask][:, None]  # Å, (L, W)
            # Samples clipped at the grid edge would be counted twice: zero their weight.
            valid = np.zeros_like(window, dtype=bool)
            valid[:, 0] = True
            valid[:, 1:] = window[:, 1:] != window[:, :-1]
            self._groups.append({
                "index": as_tensor(window.reshape(-1), torch.int64),
                "offset": as_tensor(offset),
                "valid": as_tensor(valid, torch.float32),
                "wavelength": as_tensor(lines.wavelength[mask]),
                "element": as_tensor(lines.element_index[mask], torch.int64),
                "stage": as_tensor(lines.stage[mask], torch.int64),
                "excitation": as_tensor(lines.excitation[mask]),
                "log_eta": as_tensor(lines.log_eta[mask]),
                "mass": as_tensor(lines.mass[mask]),
                "kind": as_tensor(lines.kind[mask], torch.int64),
                "molecule": as_tensor(lines.molecule_elements[mask], torch.int64),
            })
        self._chi_ion = as_tensor([IONISATION_EV[e] for e in ELEMENTS])
        # Instrumental kernel: FWHM λ/R at the band centre plus the pixel boxcar, in samples.
        centre = float(np.median(self.wavelength))
        step = float(np.median(np.diff(self.sample_wavelength)))
        sigma = math.hypot(centre / self.resolution / 2.3548 / step, OVERSAMPLE / math.sqrt(12.0))
        half = int(math.ceil(4 * sigma))
        taps = torch.arange(-half, half + 1, dtype=torch.float32, device=dev)
        kernel = torch.exp(-0.5 * (taps / sigma) ** 2)
        self._kernel = (kernel / kernel.sum()).view(1, 1, -1)
        self._pixel_samples = as_tensor(self.pixel_samples, torch.int64)

    # ------------------------------------------------------------------ physics

    def _line_strength(self, group, teff, logg, x_h, log_pe):
        """log10 η (B, L): line-centre opacity relative to the continuum."""
        theta = 5040.0 / teff  # (B, 1)
        theta_ref = 5040.0 / REFERENCE["teff"]
        ref_teff = torch.full_like(teff, REFERENCE["teff"])
        log_pe_ref = log_electron_pressure(ref_teff, torch.full_like(teff, REFERENCE["logg"]), torch.zeros_like(teff))
        kind = group["kind"][None, :]
        chi = group["excitation"][None, :]
        # Atomic lines.
        element = group["element"].clamp(min=0)
        chi_ion = self._chi_ion[element][None, :]
        stage = group["stage"][None, :]
        fraction = _stage_fraction(_log_ionised_ratio(teff, log_pe, chi_ion), stage)
        fraction_ref = _stage_fraction(_log_ionised_ratio(ref_teff, log_pe_ref, chi_ion), stage)
        atomic = (x_h[:, element] - (theta - theta_ref) * chi
                  + torch.log10(fraction.clamp(min=1e-30) / fraction_ref.clamp(min=1e-30))
                  - (log_pe - log_pe_ref))
        # Molecular pseudo-lines: constituents' abundances, dissociation, pressure.
        first, second = group["molecule"][:, 0].clamp(min=0), group["molecule"][:, 1]
        molecular = (x_h[:, first] + torch.where(second[None, :] >= 0, x_h[:, second.clamp(min=0)], 0.0)
                     + _MOLECULE_DISSOCIATION_WEIGHT * (theta - theta_ref) * chi
                     + 0.5 * (logg - REFERENCE["logg"]))
        # Hydrogen: populations of n = 3, 4 relative to the reference.
        hydrogen = -(theta - theta_ref) * chi - 3.6 + 0.0 * logg
        delta = torch.where(kind == 0, atomic, torch.where(kind == 1, molecular, hydrogen))
        return (group["log_eta"][None, :] + delta).clamp(-8.0, 5.0)

    def _profiles(self, group, teff, log_pe):
        """Peak-normalised pseudo-Voigt profiles (B, L, W)."""
        wavelength = group["wavelength"][None, :]
        thermal = 0.1289 * torch.sqrt(teff / group["mass"][None, :])  # km/s
        doppler = wavelength / C_KMS * torch.sqrt(thermal**2 + MICROTURBULENCE_KMS**2)  # Å, 1/e half width
        log_pe_ref = log_electron_pressure(torch.tensor(REFERENCE["teff"]), torch.tensor(REFERENCE["logg"]), torch.tensor(0.0))
        pressure = torch.pow(10.0, log_pe - log_pe_ref)  # (B, 1)
        kind = group["kind"][None, :]
        base = torch.where(kind == 2, 0.5, torch.where(group["log_eta"][None, :] >= _BROAD_LOG_ETA, 0.12, 0.02))
        base = base * (wavelength / 16000.0) ** 2
        lorentz = base * torch.where(kind == 2, pressure**0.5, pressure**0.35)  # Å, half width at half maximum
        fwhm_g = 2.0 * math.sqrt(math.log(2.0)) * doppler
        fwhm_l = 2.0 * lorentz
        fwhm = (fwhm_g**5 + 2.69269 * fwhm_g**4 * fwhm_l + 2.42843 * fwhm_g**3 * fwhm_l**2
                + 4.47163 * fwhm_g**2 * fwhm_l**3 + 0.07842 * fwhm_g * fwhm_l**4 + fwhm_l**5) ** 0.2
        ratio = fwhm_l / fwhm
        mix = (1.36603 * ratio - 0.47719 * ratio**2 + 0.11116 * ratio**3)[..., None]
        x = group["offset"][None, :, :] / fwhm[..., None]  # (B, L, W)
        gauss = torch.exp(-4.0 * math.log(2.0) * x**2)
        lorentzian = 1.0 / (1.0 + 4.0 * x**2)
        return (mix * lorentzian + (1.0 - mix) * gauss) * group["valid"][None, :, :]

    @torch.no_grad()
    def __call__(self, teff, logg, x_h, snr: float | None = None, rng: np.random.Generator | None = None,
                 return_error: bool = False):
        """Spectra for B stars.

        teff: (B,) K; logg: (B,) dex; x_h: (B, 19) [X/H] in the order of ``lines.ELEMENTS``.
        snr: S/N per pixel (None = noiseless). Returns flux (B, P) float32, and with
        ``return_error`` also the 1σ error (B, P) (None when noiseless).
        """
        dev = self.device
        teff = torch.as_tensor(np.asarray(teff, dtype=np.float32), device=dev).view(-1, 1)
        logg = torch.as_tensor(np.asarray(logg, dtype=np.float32), device=dev).view(-1, 1)
        x_h = torch.as_tensor(np.asarray(x_h, dtype=np.float32), device=dev)
        if x_h.ndim != 2 or x_h.shape[1] != len(ELEMENTS) or x_h.shape[0] != teff.shape[0]:
            raise ValueError(f"x_h must have shape ({teff.shape[0]}, {len(ELEMENTS)}), got {tuple(x_h.shape)}")
        n_stars = teff.shape[0]
        log_pe = log_electron_pressure(teff, logg, x_h[:, FE_INDEX : FE_INDEX + 1])
        opacity = torch.zeros(n_stars, len(self.sample_wavelength), device=dev)
        for group in self._groups:
            eta = torch.pow(10.0, self._line_strength(group, teff, logg, x_h, log_pe))  # (B, L)
            contribution = eta[..., None] * self._profiles(group, teff, log_pe)  # (B, L, W)
            opacity.index_add_(1, group["index"], contribution.reshape(n_stars, -1))
        depth = (1.0 - _CORE_FLOOR) * (1.0 - 1.0 / (1.0 + opacity))
        depth = torch.nn.functional.conv1d(depth[:, None, :], self._kernel, padding=self._kernel.shape[-1] // 2)[:, 0]
        flux, error = add_noise((1.0 - depth[:, self._pixel_samples]).cpu().numpy().astype(np.float32), snr, rng)
        return (flux, error) if return_error else flux
