"""The spectrum's 7 tokens keep their wavelength order: in the pretraining head, in the fusion
(segment embeddings), and in models saved before segment embeddings or the spectrum skip existed."""
import pytest
import torch

from ml import artifacts
from ml.batmm import BATMM, BATMMConfig, FusionTransformer
from ml.bhb_train import image_head, load_model, save_model, spectrum_head

SMALL = BATMMConfig(width=0.0625, d_model=32, n_layers=2, n_heads=4, dropout=0.0)


def _swap_two_segments(tokens: torch.Tensor) -> torch.Tensor:
    swapped = tokens.clone()
    swapped[:, [1, 5]] = tokens[:, [5, 1]]
    return swapped


@pytest.mark.parametrize("segment_embeddings", [True, False])
def test_the_fusion_knows_which_segment_a_token_came_from_only_with_segment_embeddings(segment_embeddings):
    torch.manual_seed(0)
    # without the spectrum skip, whose readout reads the tokens in order whatever the transformer does
    config = BATMMConfig(**{**SMALL.__dict__, "segment_embeddings": segment_embeddings, "spectrum_skip": False})
    fusion = FusionTransformer(config).eval()
    image, spectrum = torch.randn(2, 16, 32), torch.randn(2, 7, 32)
    with torch.no_grad():
        changed = not torch.allclose(fusion(image, spectrum), fusion(image, _swap_two_segments(spectrum)), atol=1e-6)
    assert changed is segment_embeddings, "attention alone is blind to token order"


def test_the_spectrum_head_reads_ordered_tokens_and_the_image_head_their_mean():
    torch.manual_seed(0)
    spectrum, image = spectrum_head(SMALL), image_head(SMALL)
    tokens = torch.randn(3, 7, 32)
    assert spectrum.features(tokens).shape == (3, 7 * 32) and image.features(tokens).shape == (3, 32)
    assert not torch.allclose(spectrum.head(spectrum.features(tokens)), spectrum.head(spectrum.features(_swap_two_segments(tokens))))
    torch.testing.assert_close(image.features(tokens), image.features(_swap_two_segments(tokens)))


@pytest.mark.parametrize("missing", [("segment_embeddings", "spectrum_skip", "spectrum_components", "colour_token"),
                                     ("spectrum_skip", "spectrum_components", "colour_token"),
                                     ("spectrum_components", "colour_token"), ("colour_token",)])
def test_a_model_saved_by_older_code_still_loads(tmp_path, missing):
    """Config keys that older code did not write (segment embeddings, the spectrum skip, the segment
    denoiser, the colour token) load as off, and the loaded model scores exactly as the saved one."""
    old = BATMM(BATMMConfig(**{**SMALL.__dict__, **{key: 0 if key == "spectrum_components" else False for key in missing}}))
    save_model(old, tmp_path / "old.pt")
    state = artifacts.load(tmp_path / "old.pt")
    for key in missing:  # the config as older code wrote it
        del state["config"][key]
    artifacts.save(tmp_path / "old.pt", state)
    loaded, _ = load_model(tmp_path / "old.pt")
    assert (loaded.fusion.segment is None) == ("segment_embeddings" in missing)
    assert (loaded.fusion.spectrum_readout is None) == ("spectrum_skip" in missing)
    assert (loaded.spectrum_encoder.denoiser is None) == ("spectrum_components" in missing)
    assert loaded.fusion.colour is None
    spectrum, image = torch.rand(2, 3522), torch.randn(2, 5, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(loaded(spectrum, image)["logits"], old.eval()(spectrum, image)["logits"])
