"""The disentangler's networks (GANDALF, Santoveña et al.): encoder, decoder, discriminators.

E(x ⊕ cp) → z (25-d); D(z, cp) → x̂ (``ml.disentangler.decoders``); one discriminator per
conditioned parameter (mdAT) or one over their joint bins (AT) tries to read cp back from z. The
autoencoder learns to reconstruct x while making z useless to them, so z keeps what the spectrum
says beyond cp: its chemistry. Nearest neighbours in z are chemical twins.
"""
from __future__ import annotations

import copy

import numpy as np
import torch
from torch import nn

from ml.disentangler.config import DisentanglerConfig
from ml.disentangler.decoders import DECODERS
from ml.disentangler.layers import mlp


def discriminator(config: DisentanglerConfig, n_classes: int) -> nn.Sequential:
    """z (B, latent_dim) → logits (B, n_classes). It first standardises z with batch statistics (no
    learned affine), so an encoder cannot hide a parameter from it by inflating the latent's scale."""
    return nn.Sequential(nn.BatchNorm1d(config.latent_dim, affine=False),
                         *mlp([config.latent_dim, *config.discriminator_hidden, n_classes]))


class Disentangler(nn.Module):
    """The networks. Shapes: x (B, P) standardised flux; cp (B, C) standardised parameters; z (B, L)."""

    def __init__(self, n_pixels: int, config: DisentanglerConfig, n_classes: list[int]):
        super().__init__()
        n_cp = len(config.conditional)
        self.n_pixels = n_pixels
        self.encoder = mlp([n_pixels + n_cp, *config.encoder_hidden, config.latent_dim])  # (B, P+C) → (B, L)
        self.decoder = DECODERS[config.decoder](n_pixels, n_cp, config)  # (B, L), (B, C) → (B, P)
        self.discriminators = nn.ModuleList(discriminator(config, k) for k in n_classes)

    def encode(self, x: torch.Tensor, cp: torch.Tensor) -> torch.Tensor:
        return self.encoder(torch.cat([x, cp], dim=1))

    def decode(self, z: torch.Tensor, cp: torch.Tensor) -> torch.Tensor:
        return self.decoder(z, cp)


class RawInputEncoder(nn.Module):
    """Inference-only encoder on *raw* flux (B, P) and parameters (B, C) → z (B, L).

    The standardisations are folded into the first layer: with x' = (x − μ) / σ,
    W x' + b = (W / σ) x + (b − (W / σ) μ). One GEMM then reads the raw flux buffer directly, with
    no standardised copy of a (B, 7214) batch and no concatenation, so the embedding fill's encode
    step is one pass over the data. Same result as ``Disentangler.encode`` to float32 rounding.
    """

    def __init__(self, model: Disentangler, flux_mean, flux_scale, parameter_mean, parameter_scale):
        super().__init__()
        first = model.encoder[0]
        n_pixels = len(flux_mean)
        weight, bias = first.weight.detach().float(), first.bias.detach().float()

        def as_tensor(values):
            return torch.as_tensor(np.asarray(values, np.float32), device=weight.device)

        w_flux = weight[:, :n_pixels] / as_tensor(flux_scale)  # (H, P)
        w_cp = weight[:, n_pixels:] / as_tensor(parameter_scale)  # (H, C)
        self.register_buffer("w_flux_t", w_flux.t().contiguous())  # (P, H)
        self.register_buffer("w_cp_t", w_cp.t().contiguous())  # (C, H)
        self.register_buffer("bias", bias - w_flux @ as_tensor(flux_mean) - w_cp @ as_tensor(parameter_mean))
        self.rest = copy.deepcopy(model.encoder[1:])

    def forward(self, flux: torch.Tensor, parameters: torch.Tensor) -> torch.Tensor:
        hidden = torch.addmm(self.bias, flux, self.w_flux_t).addmm_(parameters, self.w_cp_t)
        return self.rest(hidden)
