"""The species decoder, a research variant (docs/research/disentangler.md): it found the most near
twins on long runs, but under a 20-minute budget it kept Teff in z and lost the far-twin table on
the Payne grid, so it left the product. ``register()`` makes it available to ``ml.disentangler``
again, as the decoder ``species`` and the preset ``species`` (with the kernel penalty μ 0.01):

    from research.species import register; register()
    DisentanglerConfig.from_preset("species")
"""
from __future__ import annotations

import torch
from torch import nn

from ml.disentangler.config import PRESETS
from ml.disentangler.decoders import DECODERS
from ml.disentangler.layers import mlp


class _SpeciesSum(torch.autograd.Function):
    """Σₖ sₖ ⊙ σ(zₖ + b₀ₖ + φ(cp) Wₖ), (B, P), a few components at a time.

    Written out, the sum builds several (B, K, P) tensors (K = 25 copies of a batch of spectra) and
    autograd keeps them for the backward pass; on a CPU that memory traffic, not the arithmetic,
    set the species decoder's cost. Here the forward pass keeps only its inputs, the backward pass
    recomputes σ, and both work through ``GROUP`` components at a time, so every temporary is
    (B, GROUP, P) and each matrix product is wide enough to run at speed. Same values and gradients
    as the written-out sum to float32 rounding (tested).
    Shapes: z (B, K), φ (B, J), W (J, K·P) (component-major: W[j, k·P + p]), b₀ (K, P), s (K, P).
    """

    GROUP = 5

    @staticmethod
    def _occupancy(z, basis, response, shift_base, first: int, last: int) -> torch.Tensor:
        """σ(zₖ + b₀ₖ + φ Wₖ) for components first..last−1, (B, G, P)."""
        n_pixels = shift_base.shape[1]
        columns = slice(first * n_pixels, last * n_pixels)
        opacity = torch.addmm(shift_base[first:last].reshape(-1), basis, response[:, columns])  # (B, G·P)
        opacity = opacity.view(len(z), last - first, n_pixels).add_(z[:, first:last, None])
        return opacity.sigmoid_()

    @staticmethod
    @torch.amp.custom_fwd(device_type="cuda", cast_inputs=torch.float32)
    def forward(ctx, z, basis, response, shift_base, depth):
        n_species, n_pixels = depth.shape
        out = torch.zeros(len(z), n_pixels, dtype=z.dtype, device=z.device)
        for first in range(0, n_species, _SpeciesSum.GROUP):
            last = min(first + _SpeciesSum.GROUP, n_species)
            occupancy = _SpeciesSum._occupancy(z, basis, response, shift_base, first, last)
            out += occupancy.mul_(depth[first:last]).sum(1)
        ctx.save_for_backward(z, basis, response, shift_base, depth)
        return out

    @staticmethod
    @torch.amp.custom_bwd(device_type="cuda")
    def backward(ctx, grad):
        z, basis, response, shift_base, depth = ctx.saved_tensors
        n_species, n_pixels = depth.shape
        grad_z, grad_basis = torch.empty_like(z), torch.zeros_like(basis)
        grad_response, grad_shift, grad_depth = torch.empty_like(response), torch.empty_like(shift_base), torch.empty_like(depth)
        along = grad[:, None, :]  # (B, 1, P)
        for first in range(0, n_species, _SpeciesSum.GROUP):
            last = min(first + _SpeciesSum.GROUP, n_species)
            columns = slice(first * n_pixels, last * n_pixels)
            occupancy = _SpeciesSum._occupancy(z, basis, response, shift_base, first, last)  # (B, G, P)
            grad_depth[first:last] = (occupancy * along).sum(0)
            slope = torch.addcmul(occupancy, occupancy, occupancy, value=-1.0)  # σ' = σ − σ²
            slope.mul_(along).mul_(depth[first:last])  # ∂loss/∂(zₖ + bₖ), (B, G, P)
            grad_z[:, first:last] = slope.sum(2)
            grad_shift[first:last] = slope.sum(0)
            flat = slope.view(len(z), -1)  # (B, G·P)
            grad_response[:, columns] = basis.t() @ flat
            grad_basis.addmm_(flat, response[:, columns].t())
        return grad_z, grad_basis, grad_response, grad_shift, grad_depth


class SpeciesDecoder(nn.Module):
    """x̂ = g(cp) + Σₖ sₖ ⊙ σ(zₖ + bₖ(cp)): each latent is the abundance of one saturating component.

    A line's opacity is its species' abundance times a factor in Teff and logg, each line
    saturates, and a pixel sums the depths of the lines that fall in it. Component k has one
    abundance zₖ per star (shared by every pixel), a per-pixel depth sₖ and a per-pixel shift bₖ(cp):
    how strong that species' lines are at each wavelength at that Teff and logg. A star's spectrum
    is fixed by its K = ``latent_dim`` numbers z and by cp, so a reshuffle of z that depends on cp
    changes the spectrum and the decoder cannot undo it. Which pixels belong to which component,
    and how they answer cp, are learned.

    Shapes: z (B, K), cp (B, C) → x̂ (B, P). g(cp) (B, P) from an MLP (``modulator_hidden``); the
    depths s (K, P) are free weights; the shifts b(cp) (B, K, P) are rank J = ``rank`` in
    cp: b₀ + Σⱼ φⱼ(cp) Wⱼ, with φ a small MLP. The sum over components runs one component at a time
    (``_SpeciesSum``), and rows are decoded ``chunk`` stars at a time.
    """

    rank = 16  # J
    modulator_hidden = (64, 256)
    initial_depth = -0.25  # sₖ before training: K components together span a few units of standardised flux
    chunk = 512  # stars decoded at a time (memory: K·P floats per star)

    def __init__(self, n_pixels: int, n_cp: int, config):
        super().__init__()
        n_species, rank = config.latent_dim, self.rank
        self.n_pixels, self.n_species = n_pixels, n_species
        self.abundance = nn.Identity()  # a(z) = z: no direction of z is one the spectrum ignores
        self.modulator = mlp([n_cp, *self.modulator_hidden, n_pixels])  # g: (B, C) → (B, P)
        nn.init.zeros_(self.modulator[-1].weight)
        nn.init.zeros_(self.modulator[-1].bias)
        self.depth = nn.Parameter(torch.full((n_species, n_pixels), self.initial_depth))  # s: (K, P)
        self.basis = mlp([n_cp, 64, rank])  # φ: (B, C) → (B, J)
        self.shift_base = nn.Parameter(torch.linspace(-2.0, 2.0, n_species)[:, None]
                                       + 0.1 * torch.randn(n_species, n_pixels))  # b₀: (K, P)
        self.response = nn.Parameter(torch.zeros(rank, n_species * n_pixels))  # W: (J, K·P)

    def shifts(self, cp: torch.Tensor) -> torch.Tensor:
        """bₖ(cp), (B, K, P), for cp (B, C)."""
        return self.shift_base + (self.basis(cp) @ self.response).view(-1, self.n_species, self.n_pixels)

    def forward(self, z: torch.Tensor, cp: torch.Tensor) -> torch.Tensor:
        if len(z) > self.chunk:
            return torch.cat([self(z[i : i + self.chunk], cp[i : i + self.chunk]) for i in range(0, len(z), self.chunk)])
        lines = _SpeciesSum.apply(self.abundance(z), self.basis(cp), self.response, self.shift_base, self.depth)
        return self.modulator(cp) + lines


def register() -> None:
    """Add the decoder and its preset to the product's registries (idempotent)."""
    DECODERS["species"] = SpeciesDecoder
    PRESETS["species"] = {"decoder": "species", "penalties": {"kernel": 0.01}, "leak_limit": 0.2}
