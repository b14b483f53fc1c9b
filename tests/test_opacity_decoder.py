"""The opt-in "opacity" decoder x̂ = g(cp) + s(cp) ⊙ tanh(f(z) + b(cp)): z moves each pixel's
optical depth through one cp-free pattern, and the residual encoder reads that pattern back.
Training, saving and generating with it: test_residual_encoder.py."""
import torch

from ml.disentangle import Disentangler, OpacityDecoder
from tests.test_disentangler_model import config
from tests.test_modulated_decoder import _pattern_ratios, _randomised

CP_A, CP_B = torch.tensor([[1.0, -0.5]]), torch.tensor([[-1.2, 0.8]])


def _opacity_model(**settings) -> Disentangler:
    """Random weights, with the modulator's last layer scaled down so that the curve is not
    saturated: |b| ≤ 1 and s ≈ 2–3.3 at CP_A and CP_B."""
    model = _randomised(Disentangler(16, config(decoder="opacity", **settings), n_classes=[4, 4]))
    with torch.no_grad():
        for parameter in model.decoder.modulator[-1].parameters():
            parameter.mul_(0.1)
    model.decoder.gain_floor = 1e-4  # exact division
    return model


def test_the_decoder_is_inverted_back_to_the_pattern_at_any_cp():
    decoder = _opacity_model().decoder
    z = 0.1 * torch.randn(3, 5)  # small patterns: the curve is not clipped
    with torch.no_grad():
        pattern = decoder.pattern(z)
        for cp in (CP_A, CP_B):
            cp = cp.expand(3, -1)
            torch.testing.assert_close(decoder.pattern_estimate(decoder(z, cp), cp), pattern, rtol=1e-3, atol=1e-3)


def test_cp_reshapes_a_pixels_response_through_saturation():
    """Unlike the modulated decoder's one gain per pixel, the response to z changes shape with cp."""
    first, second = _pattern_ratios(_opacity_model(), CP_A, CP_B)
    assert not torch.allclose(first, second, rtol=1e-2, atol=1e-2)


def test_the_residual_encoder_gives_the_same_latent_at_other_parameters():
    model = _opacity_model(encoder="residual")
    pattern = 0.1 * torch.randn(1, 16)
    with torch.no_grad():
        stars = []
        for cp in (CP_A, CP_B):
            mean, scale, shift = model.decoder.modulation(cp)
            stars.append(mean + scale * torch.tanh(pattern + shift))
        assert not torch.allclose(stars[0], stars[1], atol=0.1)
        z_a, z_b = model.encode(stars[0], CP_A), model.encode(stars[1], CP_B)
    torch.testing.assert_close(z_a, z_b, rtol=0.02, atol=0.02 * float(z_a.abs().max()))


def test_saturated_pixels_read_as_finite_patterns():
    """Noise beyond the curve's asymptote must not give an infinite pattern (atanh(±1))."""
    decoder = _opacity_model().decoder
    cp = CP_A.expand(2, -1)
    with torch.no_grad():
        mean, scale, _ = decoder.modulation(cp)
        estimate = decoder.pattern_estimate(mean + 5.0 * scale * torch.tensor([[1.0], [-1.0]]), cp)
    assert torch.isfinite(estimate).all()


def test_starts_as_a_scaled_saturating_pattern():
    decoder = OpacityDecoder(16, 2, config(decoder="opacity"))
    z, cp = torch.randn(3, 5), torch.randn(3, 2)
    torch.testing.assert_close(decoder(z, cp), decoder.initial_gain * torch.tanh(decoder.pattern(z)))

