"""The spectrum encoder's training augmentation: each training spectrum re-observed at a lower S/N,
with extra noise scaled to the spectrum's own DER_SNR noise; validation and test stay untouched."""
import numpy as np
import pytest
import torch
from torch import nn

from ml.batmm import BATMMConfig
from ml.bhb_train import BHBTrainer, BHBTrainingConfig, add_noise
from ml.der_snr import der_snr_noise
from ml.synth.bhb import BALMER, bhb_sample, sersic_line
from ml.surveys import sdss_wavelength

TINY = BATMMConfig(width=0.0625, d_model=32, n_layers=1, n_heads=4, dropout=0.0)


def _a_star(sigma: float, rng) -> np.ndarray:
    """A smooth continuum with broad Balmer lines, plus white noise of σ = ``sigma`` (flux units)."""
    wavelength = sdss_wavelength()
    flux = 50.0 * (wavelength / 5000.0) ** -2
    for centre in BALMER.values():
        flux = flux * sersic_line(wavelength, centre, 0.7, 9.0, 1.0)
    return flux + sigma * rng.standard_normal(len(wavelength))


@pytest.mark.parametrize("sigma", [0.25, 1.0, 4.0])  # S/N ≈ 200, 50, 12 at 5000 Å
def test_der_snr_recovers_the_noise_of_a_smooth_spectrum_with_lines(sigma):
    rng = np.random.default_rng(3)
    spectra = np.stack([_a_star(sigma, rng) for _ in range(10)])  # one estimate scatters by ≈ 1.6 %
    assert der_snr_noise(spectra).mean() == pytest.approx(sigma, rel=0.04)


def test_der_snr_gives_one_value_per_spectrum_and_ignores_bad_pixels():
    rng = np.random.default_rng(4)
    spectra = np.stack([_a_star(0.3, rng), _a_star(1.2, rng)])
    spectra[0, 100:110] = np.nan
    spectra[1, 2000:2003] = np.inf
    noise = der_snr_noise(spectra, chunk=1)  # one spectrum per chunk: the chunks must line up
    assert noise.shape == (2,)
    assert noise == pytest.approx([0.3, 1.2], rel=0.06)
    spectra[1] = np.nan
    assert np.isnan(der_snr_noise(spectra)[1]) and np.isfinite(der_snr_noise(spectra)[0])
    with pytest.raises(ValueError, match="at least 5 pixels"):
        der_snr_noise(np.ones((3, 4)))


def test_der_snr_follows_the_generators_error_level():
    sample = bhb_sample(60, 40, np.random.default_rng(5))
    ratio = der_snr_noise(sample.flux) / np.median(sample.error, axis=1)
    assert 0.75 < np.median(ratio) < 1.1  # the error grows with the continuum; DER_SNR is one typical σ
    assert np.corrcoef(der_snr_noise(sample.flux), np.median(sample.error, axis=1))[0, 1] > 0.95


def test_add_noise_scales_with_each_spectrums_noise_and_never_exceeds_the_bound():
    spectra = torch.zeros(4000, 500)
    noise = torch.tensor([0.5, 2.0]).repeat(2000)
    noisy = add_noise(spectra, noise, 1.0, torch.Generator().manual_seed(0))
    std = noisy.std(dim=1)
    for level in (0.5, 2.0):
        chosen = std[noise == level] / level  # = u, uniform on [0, 1] up to sampling noise
        assert chosen.mean().item() == pytest.approx(0.5, abs=0.03)
        assert chosen.max().item() < 1.1
    assert torch.equal(add_noise(spectra, noise, 0.0, torch.Generator().manual_seed(0)), spectra)


class _Recorder(nn.Module):
    """A stand-in classifier that remembers the spectra it saw, in training and in evaluation."""

    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(1))
        self.seen = {"train": [], "eval": []}

    def forward(self, spectra):
        self.seen["train" if self.training else "eval"].append(spectra.detach().clone())
        return torch.zeros(len(spectra), 2) + self.weight


@pytest.fixture(scope="module")
def sample():
    generated = bhb_sample(40, 40, np.random.default_rng(6))
    return generated.flux, generated.images, generated.is_bhb.astype(int)


def _trainer(sample, spectrum_noise):
    spectra, images, labels = sample
    config = BHBTrainingConfig(model=TINY, epochs_encoder=1, epochs_fusion=1, batch_size=16, patience=0,
                               image_colour_weight=0.0, spectrum_noise=spectrum_noise)
    return BHBTrainer(config, spectra, images, labels)


def test_training_batches_get_the_noise_and_validation_does_not(sample):
    trainer = _trainer(sample, spectrum_noise=1.0)
    recorder = _Recorder()
    inputs = lambda index: (trainer.spectra[index],)  # noqa: E731
    trainer._train(recorder, inputs, 1, "probe", augment=trainer._noisy_spectra)
    train, validation = trainer.split["train"], trainer.split["validation"]
    clean = trainer.spectra[validation]
    torch.testing.assert_close(torch.cat(recorder.seen["eval"]), clean)  # scored as observed
    seen = torch.cat(recorder.seen["train"])
    # which training stars were in which batch is the trainer's business; compare as sets of rows
    ours = trainer.spectra[train]
    nearest = torch.cdist(seen, ours).argmin(dim=1)
    added = (seen - ours[nearest]).std(dim=1) / trainer.spectrum_noise[train][nearest]
    assert len(set(nearest.tolist())) == len(train)  # every training spectrum once, recognisably itself
    assert 0.3 < added.mean().item() < 0.7 and added.max().item() < 1.15  # u · σ̂, u ~ U(0, 1)


def test_the_augmentation_can_be_switched_off_and_is_validated(sample):
    trainer = _trainer(sample, spectrum_noise=0.0)
    recorder = _Recorder()
    trainer._train(recorder, lambda index: (trainer.spectra[index],), 1, "probe", augment=trainer._noisy_spectra)
    seen = torch.cat(recorder.seen["train"])
    train = trainer.spectra[trainer.split["train"]]
    assert trainer.spectrum_noise is None  # not even measured
    assert (seen[:, None, :] == train[None, :, :]).all(dim=2).any(dim=1).all()  # each exactly as observed
    with pytest.raises(ValueError, match="spectrum_noise"):
        BHBTrainingConfig(model=TINY, spectrum_noise=-1.0)
