"""The opt-in "species" decoder x̂ = g(cp) + Σₖ sₖ ⊙ σ(aₖ(z) + bₖ(cp)): z reaches the spectrum only
through K abundances aₖ(z), each shared by every pixel, and cp moves each component's own shifts."""
import numpy as np
import pytest
import torch

from ml.disentangle import Disentangler, DisentanglerConfig, DisentanglerTrainer, SpeciesDecoder
from tests.test_disentangler_model import config, toy_grid
from tests.test_modulated_decoder import _randomised

CP_A, CP_B = torch.tensor([[1.0, -0.5]]), torch.tensor([[-1.2, 0.8]])


def _species_model(n_species: int = 3, species_map: str = "linear") -> Disentangler:
    """Every weight drawn from N(0, 0.3), the cp response W included, so cp acts; latent size 5, 16 pixels."""
    settings = config(decoder="species", n_species=n_species, species_rank=4, species_map=species_map)
    model = _randomised(Disentangler(16, settings, n_classes=[4, 4]))
    return model.eval()


def _latent_rank(model: Disentangler, cp: torch.Tensor) -> int:
    """The rank of ∂x̂/∂z (P × L) at a random star: how many directions of z the spectrum answers."""
    z = torch.randn(5)
    jacobian = torch.autograd.functional.jacobian(lambda v: model.decode(v[None], cp)[0], z)
    return int(torch.linalg.matrix_rank(jacobian))


def test_the_spectrum_answers_only_k_directions_of_z():
    """With K = 3 species and a 5-d latent, two latents that share a(z) give the same spectrum at
    every cp, so the decoder cannot undo a cp-dependent reshuffle that moves a(z)."""
    model = _species_model(n_species=3)
    assert _latent_rank(model, CP_A) == 3 and _latent_rank(model, CP_B) == 3
    null = torch.linalg.svd(model.decoder.abundance.weight).Vh[-1]  # a direction of z that a(z) ignores
    z = torch.randn(1, 5)
    with torch.no_grad():
        for cp in (CP_A, CP_B):
            torch.testing.assert_close(model.decode(z + 2.0 * null, cp), model.decode(z, cp))


def test_with_the_identity_map_every_latent_is_one_abundance():
    """species_map "identity": a(z) = z, so the spectrum answers all 5 directions of z (no learned A
    whose nearly null directions could hide Teff), and latent k moves only component k."""
    model = _species_model(n_species=5, species_map="identity")
    assert _latent_rank(model, CP_A) == 5 and _latent_rank(model, CP_B) == 5
    assert not any(name.startswith("decoder.abundance") for name, _ in model.named_parameters())
    decoder, z, step = model.decoder, torch.randn(1, 5), torch.zeros(1, 5)
    step[0, 2] = 0.7
    with torch.no_grad():
        moved = decoder(z + step, CP_A) - decoder(z, CP_A)
        occupancy = lambda v: torch.sigmoid(v[:, :, None] + decoder.shifts(CP_A))  # noqa: E731  (1, K, P)
        expected = decoder.depth[2] * (occupancy(z + step) - occupancy(z))[0, 2]
    torch.testing.assert_close(moved[0], expected)


def test_the_seed_decoder_answers_every_direction_of_z():
    """The contrast: D(z ⊕ cp) can use all 5 directions, so the rank test above can fail."""
    model = _randomised(Disentangler(16, config(), n_classes=[4, 4])).eval()
    assert _latent_rank(model, CP_A) == 5


def test_cp_moves_each_species_shifts_its_own_way():
    """Each component's bₖ(cp) has its own response to cp, unlike the opacity decoder's one shift per pixel."""
    decoder = _species_model().decoder
    with torch.no_grad():
        change = decoder.shifts(CP_B) - decoder.shifts(CP_A)  # (1, K, P)
    assert not torch.allclose(change[0, 0], change[0, 1], atol=1e-3)


def test_starts_with_components_independent_of_cp():
    decoder = SpeciesDecoder(16, 2, config(decoder="species", n_species=4, species_rank=2))
    z = torch.randn(3, 5)
    with torch.no_grad():
        torch.testing.assert_close(decoder(z, CP_A.expand(3, -1)), decoder(z, CP_B.expand(3, -1)))


def test_decoding_in_chunks_gives_the_same_spectra():
    model = _species_model()
    z, cp = torch.randn(7, 5), torch.randn(7, 2)
    with torch.no_grad():
        whole = model.decode(z, cp)
        model.decoder.chunk = 2
        torch.testing.assert_close(model.decode(z, cp), whole)


@pytest.mark.parametrize("species_map", ["linear", "identity"])
def test_trains_saves_encodes_raw_and_generates(tmp_path, species_map):
    flux, params, _ = toy_grid()
    trainer = DisentanglerTrainer(config(decoder="species", n_species=5, species_map=species_map, epochs=6), flux, params)
    losses = [epoch["val_reconstruction"] for epoch in trainer.fit().epochs]
    assert losses[-1] < losses[0]
    loaded = DisentanglerTrainer.load(trainer.save(tmp_path / "model.pt"), device="cpu")
    assert (loaded.config.decoder, loaded.config.n_species, loaded.config.species_map) == ("species", 5, species_map)
    z = loaded.encode(flux[:4], params[:4])
    np.testing.assert_allclose(z, trainer.encode(flux[:4], params[:4]), rtol=1e-6)
    np.testing.assert_allclose(loaded.encode_raw(flux[:4], params[:4]), z, rtol=1e-4, atol=1e-5)  # the catalog's fill path
    np.testing.assert_allclose(loaded.generate(z, params[4:8]), trainer.generate(z, params[4:8]), rtol=1e-5)
    assert loaded.generate(z, params[4:8]).shape == (4, 64)


@pytest.mark.parametrize("settings, message", [
    ({"decoder": "species", "encoder": "residual"}, "set decoder: modulated or opacity"),
    ({"decoder": "species", "n_species": 0}, "n_species and species_rank must be >= 1"),
    ({"decoder": "species", "species_map": "quadratic"}, "species_map must be one of"),
    ({"decoder": "species", "species_map": "identity", "n_species": 20}, r"n_species \(20\) must equal latent_dim \(25\)"),
])
def test_bad_settings_are_refused(settings, message):
    with pytest.raises(ValueError, match=message):
        DisentanglerConfig(**settings)
