"""What the disentangler's autoencoder minimises, beyond reconstruction.

Per discriminator i (cross-entropy CEᵢ on its binned parameter, Kᵢ classes):

    L_AE = MSE(x̂, x) − Σᵢ λᵢ · min(CEᵢ, 3 ln Kᵢ) + Σⱼ μⱼ · penaltyⱼ(z, cp)

The reference maximises the raw CE, which is unbounded: an encoder could drive L_AE → −∞ by making a
discriminator infinitely, confidently wrong. The bound 3 ln K keeps the term finite and sits above
chance (ln K) on purpose: pushing the discriminators past chance is what erases the parameter.

Penalties are refitted from scratch on every batch, so an encoder cannot pass them by moving the
parameters to where a trained discriminator no longer looks. A new penalty is a function
``(z (B, L), cp (B, C)) → scalar`` registered in ``PENALTIES``.
"""
from __future__ import annotations

import math
from typing import Callable

import numpy as np
import torch
from torch.nn import functional as F

from ml.data import JointBins

BOUND_FACTOR = 3.0  # CE counts up to 3 × its chance value ln K


def adversarial_term(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """−min(CE, 3 ln K) of one discriminator's logits (B, K) on its targets (B,): lower is a more
    confused discriminator. Rows with ``JointBins.IGNORE`` do not count."""
    ce = F.cross_entropy(logits, target, ignore_index=JointBins.IGNORE)
    return -torch.clamp(ce, max=BOUND_FACTOR * math.log(logits.shape[1]))


def _centred_gram(values: torch.Tensor) -> torch.Tensor:
    """Double-centred Gaussian Gram matrix (B, B) of rows (B, D), bandwidth² = median squared distance."""
    squared = torch.cdist(values, values).square()
    bandwidth = squared.detach().flatten().median().clamp_min(1e-12)
    gram = torch.exp(-squared / (2 * bandwidth))
    return gram - gram.mean(dim=0, keepdim=True) - gram.mean(dim=1, keepdim=True) + gram.mean()


def kernel_dependence(z: torch.Tensor, cp: torch.Tensor) -> torch.Tensor:
    """Centred kernel alignment (normalised HSIC) of z (B, L) and cp (B, C) on one batch, in [0, 1].

    0 when z is independent of cp (as B grows), 1 when one determines the other. The median-distance
    bandwidth makes it blind to the latent's scale. Its blind spot is the kernel's: a code folded at
    high frequency (sin(3·cp) in two latents) mostly escapes it.
    """
    gram_z, gram_cp = _centred_gram(z), _centred_gram(cp)
    cross = (gram_z * gram_cp).sum()
    return cross / ((gram_z * gram_z).sum() * (gram_cp * gram_cp).sum()).sqrt().clamp_min(1e-12)


PENALTIES: dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {"kernel": kernel_dependence}


def chance_cross_entropy(targets: np.ndarray) -> list[float]:
    """Per discriminator, the CE (nats) of predicting the class frequencies: the entropy of the
    training targets (N, n_discriminators), ignoring unlabelled rows. Grids with few occupied bins
    score below ln K even for a latent that carries nothing."""
    chance = []
    for column in np.asarray(targets).T:
        _, counts = np.unique(column[column != JointBins.IGNORE], return_counts=True)
        frequency = counts / max(counts.sum(), 1)
        chance.append(float(-(frequency * np.log(frequency)).sum()))
    return chance
