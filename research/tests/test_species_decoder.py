"""The research species decoder, x̂ = g(cp) + Σₖ sₖ ⊙ σ(zₖ + bₖ(cp)): each latent is the
abundance of one component, shared by every pixel, and cp moves each component's own shifts."""
import numpy as np
import torch

from ml.disentangler import DisentanglerTrainer, TrainedDisentangler
from ml.disentangler.model import Disentangler
from research.species import SpeciesDecoder, register
from tests.test_disentangler_model import config, toy_grid

register()  # at import: pytest imports every test module before it runs any (the product tests allow for it)

CP_A, CP_B = torch.tensor([[1.0, -0.5]]), torch.tensor([[-1.2, 0.8]])


def _randomised(model: Disentangler) -> Disentangler:
    """Every weight drawn from N(0, 0.3), the cp response W included, so that cp really acts."""
    torch.manual_seed(1)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.normal_(0, 0.3)
    return model


def _species_model() -> Disentangler:
    """Latent size (= components) 5, 16 pixels, random weights."""
    return _randomised(Disentangler(16, config(decoder="species"), n_classes=[4, 4])).eval()


def _latent_rank(model: Disentangler, cp: torch.Tensor) -> int:
    """The rank of ∂x̂/∂z (P × L) at a random star: how many directions of z the spectrum answers."""
    z = torch.randn(5)
    jacobian = torch.autograd.functional.jacobian(lambda v: model.decode(v[None], cp)[0], z)
    return int(torch.linalg.matrix_rank(jacobian))


def test_every_latent_is_one_abundance():
    """a(z) = z: the spectrum answers all 5 directions of z (no learned map whose nearly null
    directions could hide Teff), and latent k moves only component k."""
    model = _species_model()
    assert _latent_rank(model, CP_A) == 5 and _latent_rank(model, CP_B) == 5
    assert not any(name.startswith("decoder.abundance") for name, _ in model.named_parameters())
    decoder, z, step = model.decoder, torch.randn(1, 5), torch.zeros(1, 5)
    step[0, 2] = 0.7
    with torch.no_grad():
        moved = decoder(z + step, CP_A) - decoder(z, CP_A)
        occupancy = lambda v: torch.sigmoid(v[:, :, None] + decoder.shifts(CP_A))  # noqa: E731  (1, K, P)
        expected = decoder.depth[2] * (occupancy(z + step) - occupancy(z))[0, 2]
    torch.testing.assert_close(moved[0], expected)


def test_cp_moves_each_species_shifts_its_own_way():
    """Each component's bₖ(cp) has its own response to cp (not one shift per pixel)."""
    decoder = _species_model().decoder
    with torch.no_grad():
        change = decoder.shifts(CP_B) - decoder.shifts(CP_A)  # (1, K, P)
    assert not torch.allclose(change[0, 0], change[0, 1], atol=1e-3)


def test_starts_with_components_independent_of_cp():
    decoder = SpeciesDecoder(16, 2, config(decoder="species"))
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


def test_trains_saves_encodes_raw_and_generates(tmp_path):
    flux, params, _ = toy_grid()
    trainer = DisentanglerTrainer(config(decoder="species", penalties={"kernel": 0.01}, epochs=6), flux, params)
    losses = [epoch["val_reconstruction"] for epoch in trainer.fit().epochs]
    assert losses[-1] < losses[0]
    model = trainer.trained()
    loaded = TrainedDisentangler.load(model.save(tmp_path / "model.pt"), device="cpu")
    assert (loaded.config.decoder, loaded.config.penalties) == ("species", {"kernel": 0.01})
    z = loaded.encode(flux[:4], params[:4])
    np.testing.assert_allclose(z, model.encode(flux[:4], params[:4]), rtol=1e-6)
    np.testing.assert_allclose(loaded.encode_raw(flux[:4], params[:4]), z, rtol=1e-4, atol=1e-5)  # the catalog's fill path
    np.testing.assert_allclose(loaded.generate(z, params[4:8]), model.generate(z, params[4:8]), rtol=1e-5)
    assert loaded.generate(z, params[4:8]).shape == (4, 64)


def test_the_fused_sum_gives_the_written_out_values_and_gradients():
    """x̂ − g(cp) = Σₖ sₖ ⊙ σ(zₖ + bₖ(cp)) as the docstring writes it, and the same gradients."""
    decoder = _species_model().decoder.train()
    z, cp = torch.randn(6, 5, requires_grad=True), torch.randn(6, 2)
    fused = decoder(z, cp) - decoder.modulator(cp)
    written = (decoder.depth * torch.sigmoid(z[:, :, None] + decoder.shifts(cp))).sum(1)
    torch.testing.assert_close(fused, written, rtol=1e-5, atol=1e-5)
    weights = torch.randn_like(fused)
    parameters = [z, decoder.depth, decoder.shift_base, decoder.response, *decoder.basis.parameters()]
    fused_grads = torch.autograd.grad((fused * weights).sum(), parameters)
    written_grads = torch.autograd.grad((written * weights).sum(), parameters)
    for a, b in zip(fused_grads, written_grads):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)
