"""The decoders a disentangler can use, by name: D(z, cp) → x̂.

Each takes z (B, L) and standardised cp (B, C) and returns standardised flux (B, P), and is built as
``Decoder(n_pixels, n_cp, config)``. A new decoder is a new class registered in ``DECODERS`` (the
research species decoder registers itself from ``research/species.py``).
"""
from __future__ import annotations

import torch
from torch import nn

from ml.disentangler.layers import mlp


class JointDecoder(nn.Sequential):
    """The seed's decoder: an MLP over z ⊕ cp, (B, L + C) → (B, P), hidden ``decoder_hidden``.

    It can undo any reshuffle of z that depends on cp, which is why the adversary may hide Teff in
    z that way and twins land apart (``docs/research/disentangler.md``)."""

    def __init__(self, n_pixels: int, n_cp: int, config):
        super().__init__(*mlp([config.latent_dim + n_cp, *config.decoder_hidden, n_pixels]))

    def forward(self, z: torch.Tensor, cp: torch.Tensor) -> torch.Tensor:
        return super().forward(torch.cat([z, cp], dim=1))


DECODERS: dict[str, type[nn.Module]] = {"joint": JointDecoder}
