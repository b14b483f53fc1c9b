"""BATMM: shapes through every block, cross-attention wiring, explanation weights."""
import pytest
import torch

from ml.batmm import (
    BATMM, N_PIXELS, BandSE, BATMMConfig, FusionBlock, ResNet50SE, SegmentAttention, VGG1D, minmax_normalise,
)

SMALL = BATMMConfig(width=0.0625, d_model=32, n_layers=2, n_heads=4, dropout=0.0)


def test_shapes_through_every_block():
    spectrum, image = torch.rand(2, N_PIXELS) * 100, torch.randn(2, 5, 64, 64)
    tokens, segment_weights = VGG1D(SMALL)(spectrum)
    assert tokens.shape == (2, 7, 32) and segment_weights.shape == (2, 7)
    image_tokens, band_weights = ResNet50SE(SMALL)(image)
    assert image_tokens.shape == (2, 16, 32) and band_weights.shape == (2, 5)
    out = BATMM(SMALL)(spectrum, image)
    assert out["logits"].shape == (2, 2)


def test_resnet50_has_the_bottleneck_layout():
    model = ResNet50SE(BATMMConfig())
    assert len(model.stages) == 3 + 4 + 6 + 3
    assert model.out_channels == 2048
    assert model.se.fc1.out_features == 2  # 5 // 16 would be 0


def test_segment_and_band_weights_sum_to_one():
    weighted, weights = SegmentAttention()(torch.rand(3, N_PIXELS))
    assert weighted.shape == (3, 3521)
    torch.testing.assert_close(weights.sum(dim=1), torch.ones(3))
    _, bands = BandSE()(torch.rand(3, 5, 8, 8))
    torch.testing.assert_close(bands.sum(dim=1), torch.ones(3))


def test_minmax_normalisation():
    normed = minmax_normalise(torch.tensor([[2.0, 4.0, 6.0]]))
    torch.testing.assert_close(normed, torch.tensor([[0.0, 0.5, 1.0]]))


@pytest.mark.parametrize("cross", [True, False])
def test_image_tokens_attend_to_spectrum_tokens_only_with_cross_attention(cross):
    torch.manual_seed(0)
    block = FusionBlock(BATMMConfig(d_model=32, n_heads=4, dropout=0.0, cross_attention=cross)).eval()
    cls, image, spectrum = torch.randn(1, 1, 32), torch.randn(1, 16, 32), torch.randn(1, 7, 32)
    altered = spectrum.clone()
    # Change one spectrum token's direction. (Adding a constant to all of its features would not do:
    # the block's LayerNorm removes it, and the outputs would differ only by rounding.)
    altered[:, 3] = 3.0 * torch.randn(32)
    # Cut the self-attention path so only the cross-attention can carry spectrum information.
    block.self_attention.out_proj.weight.data.zero_()
    block.self_attention.out_proj.bias.data.zero_()
    _, image_a, _ = block(cls, image, spectrum)
    _, image_b, _ = block(cls, image, altered)
    change = float((image_a - image_b).detach().abs().max())
    assert (change > 1e-2) if cross else (change == 0.0)


def test_modality_embedding_ablation_removes_the_parameter():
    assert BATMM(BATMMConfig(**{**SMALL.__dict__, "modality_embeddings": False})).fusion.modality is None
