"""BATMM: a multimodal spectrum + image transformer for Blue Horizontal Branch stars (Wei, Jiang &
Zhang), written out in one file. Shapes are in the comments; B = batch.

Spectrum branch (VGG1D). The 3522-pixel SDSS spectrum (4000–9000 Å) is min–max normalised per
star. A self-attention block then weighs 7 segments of 503 pixels: S (B, 7, 503), weights
w = mean over queries of softmax(S W_Q (S W_K)ᵀ / √d_k), and each segment is scaled by 7·w (uniform
weights leave the spectrum unchanged). 7 × 503 = 3521, so **the last pixel (8998.3 Å) is dropped**.
It lies in the far red, where neither the Balmer lines nor the Balmer jump carry information.
Before the attention, a **segment denoiser** (``spectrum_components``, 10 by default; not in the
seed's text) projects each segment onto its leading principal components, fitted on the training
spectra (``SegmentDenoiser``). The weighted spectrum runs through a VGG-19-shaped stack of 1-D
convolutions (2-2-4-4-4 conv layers with max pooling, widths 64–512 × ``width``), then adaptive
pooling to 7 positions and a linear map to 512-d tokens (B, 7, 512).

Image branch (ResNet-50 + SE). An SE block reweighs the 5 ugriz bands. The seed's reduction of 16
would give a hidden size of 5 // 16 = 0, so the hidden size is max(2, 5 // 2) = 2. A hand-written
ResNet-50 follows (bottlenecks [3, 4, 6, 3], expansion 4, 5-channel stem). The ImageNet stem (7×7
stride 2, then max pooling) would leave a 2×2 map of a 64×64 cutout. Ours is a single 3×3 stride-2
convolution with no max pooling, so the four stages run at 32, 16, 8 and 4 px. The final 4×4 map
gives exactly 16 image tokens, mapped to 512-d (B, 16, 512). A stride-1 stem would cost 4× the
compute for the same 16 tokens after pooling.

Fusion. Eight blocks with 8 heads and d = 512. Each block runs multi-head cross-attention (image
tokens query the spectrum tokens), then multi-head self-attention over [CLS] + image + spectrum
tokens, then a feed-forward layer. Every sub-layer is pre-LayerNorm and residual. Modality
embeddings are added to the tokens at the input, and the [CLS] output feeds the classifier.
Attention is blind to order, so each spectrum token also gets a learned **segment embedding** for
the wavelength range it covers (``segment_embeddings``; not in the seed's text). The image tokens
get none: the star sits at the centre and the image encoder is trained to ignore orientation.
Ablations switch off the cross-attention (``cross_attention=False``) or the modality embeddings
(``modality_embeddings=False``).

Spectrum skip (``spectrum_skip``; not in the seed's text). The logits are the [CLS] classifier's
plus a frozen linear readout of the 7 spectrum tokens in wavelength order, (B, 7·d) → (B, 2),
which the trainer copies from the spectrum encoder's pretraining head. The [CLS] classifier starts
at zero, so an untrained fusion decides exactly as VGG1D does, and the transformer learns a
correction to that decision from the image and the interplay of the two. Without it, on seed 1 of
the generated set the fusion trained on frozen tokens scored 0.900 against VGG1D's 0.911: it had to
relearn the spectrum decision from scratch and fitted the training split's tokens instead.

Colour token (``colour_token``; not in the seed's text). The star's PSF colours u−g, g−r, r−i, i−z
and its r magnitude, measured on its own cutouts by forced photometry (``ml.photometry.psf_colours``,
no learning and no catalogue values), are standardised with the training split's mean and σ and
embedded by a small MLP, 5 → d → d, as one more image token (B, 17, d): it takes part in the
cross-attention as a query and in the self-attention like the other image tokens. Why: the
ResNet-50 alone scores macro F1 0.580 on the generated set, below the 0.678 that the PSF colours
alone reach, and boosted trees on VGG1D's decision plus these colours gain about a point over
VGG1D on every seed, while the fusion without them does not (docs/research/bhb.md).
With the token, BATMM scores 0.939 against VGG1D's 0.930 over 5 seeds, ahead on every seed
(docs/research/bhb.md).

Explanation: ``segment_weights`` (B, 7) and ``band_weights`` (B, 5; the SE gates normalised to sum
to 1) are returned with every forward pass (the seed's Figure 9).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

N_PIXELS = 3522
N_SEGMENTS = 7
SEGMENT_PIXELS = 503  # 7 × 503 = 3521: the last pixel is dropped
N_BANDS = 5
N_COLOURS = 5  # u−g, g−r, r−i, i−z and r (ml.photometry.psf_colours)


@dataclass
class BATMMConfig:
    width: float = 1.0  # channel multiplier for VGG1D and ResNet-50 (1.0 = the seed's sizes)
    d_model: int = 512
    n_layers: int = 8
    n_heads: int = 8
    ffn_multiplier: int = 4
    dropout: float = 0.1
    attention_dim: int = 64  # d_k of the segment self-attention
    image_tokens: int = 16  # 4 × 4
    cross_attention: bool = True
    modality_embeddings: bool = True
    segment_embeddings: bool = True  # a learned embedding per spectral segment (its wavelength range)
    spectrum_skip: bool = True  # the spectrum encoder's own decision added to the [CLS] logits (frozen)
    spectrum_components: int = 10  # principal components kept per segment by the spectrum denoiser (0 = off)
    colour_token: bool = False  # the cutouts' PSF colours as one more image token in the fusion
    n_classes: int = 2

    def __post_init__(self):
        for name in ("cross_attention", "modality_embeddings", "segment_embeddings", "spectrum_skip", "colour_token"):
            value = getattr(self, name)
            if not isinstance(value, bool):  # a JSON string "false" would otherwise switch it on
                raise ValueError(f"{name} must be true or false, not {value!r}")
        k = self.spectrum_components
        if isinstance(k, bool) or not isinstance(k, int) or not 0 <= k <= SEGMENT_PIXELS:
            raise ValueError(f"spectrum_components must be a whole number from 0 (off) to {SEGMENT_PIXELS}, not {k!r}")


# ----------------------------------------------------------------------------- spectrum branch


def minmax_normalise(spectrum: torch.Tensor) -> torch.Tensor:
    """Per-spectrum min–max scaling to [0, 1]. (B, P) → (B, P)."""
    low = spectrum.min(dim=1, keepdim=True).values
    high = spectrum.max(dim=1, keepdim=True).values
    return (spectrum - low) / (high - low).clamp(min=1e-12)


class SegmentAttention(nn.Module):
    """Weights for 7 spectral segments from scaled dot-product self-attention between them."""

    def __init__(self, attention_dim: int = 64):
        super().__init__()
        self.query = nn.Linear(SEGMENT_PIXELS, attention_dim, bias=False)
        self.key = nn.Linear(SEGMENT_PIXELS, attention_dim, bias=False)
        self.scale = 1.0 / math.sqrt(attention_dim)

    def forward(self, spectrum: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        segments = spectrum[:, : N_SEGMENTS * SEGMENT_PIXELS].reshape(-1, N_SEGMENTS, SEGMENT_PIXELS)  # (B, 7, 503)
        scores = self.query(segments) @ self.key(segments).transpose(1, 2) * self.scale  # (B, 7, 7)
        weights = torch.softmax(scores, dim=-1).mean(dim=1)  # (B, 7), sums to 1
        weighted = segments * (N_SEGMENTS * weights)[:, :, None]  # uniform weights = identity
        return weighted.reshape(-1, N_SEGMENTS * SEGMENT_PIXELS), weights  # (B, 3521), (B, 7)


def _channels(width: float, base: int) -> int:
    return max(4, int(round(base * width)))


class SegmentDenoiser(nn.Module):
    """Projects each of the 7 segments of a min–max-normalised spectrum onto its leading principal
    components, fitted on the training spectra: x_s → μ_s + U_s U_sᵀ (x_s − μ_s), with U_s
    (503, k). The last pixel, which the segment attention drops, passes unchanged.

    Why: the class lives in a few smooth modes of each segment (Balmer-line widths and depths, the
    continuum slope), and the pixel noise around them is what a CNN memorises. On the generated set
    (5 seeds, ``python -m research.bhb_information --components 10``) logistic regression scores
    macro F1 0.907 on the raw pixels and 0.923 on 10 components per segment, and a small MLP on the
    components 0.938, against 0.924 for the RBF SVM on the raw pixels (docs/research/bhb.md).
    Until ``fit`` is called the projection is the identity, so an unfitted encoder
    reads the spectrum as it is."""

    def __init__(self, components: int):
        super().__init__()
        self.components = components
        self.register_buffer("mean", torch.zeros(N_SEGMENTS, SEGMENT_PIXELS))
        self.register_buffer("basis", torch.zeros(N_SEGMENTS, SEGMENT_PIXELS, components))
        self.register_buffer("fitted", torch.zeros((), dtype=torch.bool))

    @torch.no_grad()
    def fit(self, scaled: torch.Tensor) -> None:
        """scaled (N, 3522): min–max-normalised training spectra; N ≥ ``components``."""
        if len(scaled) < self.components:
            raise ValueError(f"fitting {self.components} components per segment needs at least as many spectra, not {len(scaled)}")
        segments = scaled[:, : N_SEGMENTS * SEGMENT_PIXELS].reshape(-1, N_SEGMENTS, SEGMENT_PIXELS).double()
        mean = segments.mean(0)  # (7, 503)
        for k in range(N_SEGMENTS):
            right = torch.linalg.svd(segments[:, k] - mean[k], full_matrices=False)[2]  # (min(N, 503), 503)
            self.basis[k] = right[: self.components].T.to(self.basis)
        self.mean.copy_(mean.to(self.mean))
        self.fitted.fill_(True)

    def forward(self, scaled: torch.Tensor) -> torch.Tensor:
        """(B, 3522) → (B, 3522), the identity until fitted."""
        if not bool(self.fitted):
            return scaled
        head = scaled[:, : N_SEGMENTS * SEGMENT_PIXELS].reshape(-1, N_SEGMENTS, SEGMENT_PIXELS) - self.mean
        coefficients = torch.einsum("bsp,spk->bsk", head, self.basis)  # (B, 7, k)
        projected = torch.einsum("bsk,spk->bsp", coefficients, self.basis) + self.mean  # (B, 7, 503)
        return torch.cat([projected.reshape(len(scaled), -1), scaled[:, N_SEGMENTS * SEGMENT_PIXELS :]], dim=1)


class VGG1D(nn.Module):
    """VGG-19-shaped 1-D CNN: conv counts 2, 2, 4, 4, 4 with pooling; → (B, 7, d_model) tokens.
    With ``spectrum_components`` > 0 a ``SegmentDenoiser`` (fitted by ``fit_denoiser``) projects
    the normalised spectrum before the segment attention."""

    PLAN = ((64, 2), (128, 2), (256, 4), (512, 4), (512, 4))

    def __init__(self, config: BATMMConfig):
        super().__init__()
        self.denoiser = SegmentDenoiser(config.spectrum_components) if config.spectrum_components else None
        self.attention = SegmentAttention(config.attention_dim)
        layers: list[nn.Module] = []
        channels = 1
        for base, repeats in self.PLAN:
            out = _channels(config.width, base)
            for _ in range(repeats):
                layers += [nn.Conv1d(channels, out, 3, padding=1), nn.BatchNorm1d(out), nn.ReLU(inplace=True)]
                channels = out
            layers.append(nn.MaxPool1d(2))
        self.features = nn.Sequential(*layers)  # (B, 1, 3521) → (B, C, 110)
        self.pool = nn.AdaptiveAvgPool1d(N_SEGMENTS)  # → (B, C, 7)
        self.project = nn.Linear(channels, config.d_model)
        self.out_channels = channels

    def fit_denoiser(self, spectra: torch.Tensor) -> None:
        """Fit the denoiser on training spectra (N, 3522) flux, as observed (no-op without one)."""
        if self.denoiser is not None:
            self.denoiser.fit(minmax_normalise(spectra.float()))

    def forward(self, spectrum: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        scaled = minmax_normalise(spectrum)  # (B, 3522)
        if self.denoiser is not None:
            scaled = self.denoiser(scaled)
        weighted, weights = self.attention(scaled)  # (B, 3521), (B, 7)
        features = self.pool(self.features(weighted[:, None, :]))  # (B, C, 7)
        return self.project(features.transpose(1, 2)), weights  # (B, 7, d), (B, 7)


# ----------------------------------------------------------------------------- image branch


class BandSE(nn.Module):
    """Squeeze-and-excitation over the 5 bands; hidden size max(2, 5 // 2) = 2 (5 // 16 would be 0)."""

    def __init__(self, bands: int = N_BANDS):
        super().__init__()
        hidden = max(2, bands // 2)
        self.fc1, self.fc2 = nn.Linear(bands, hidden), nn.Linear(hidden, bands)

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        squeezed = image.mean(dim=(2, 3))  # (B, 5)
        gates = torch.sigmoid(self.fc2(F.relu(self.fc1(squeezed))))  # (B, 5)
        return image * gates[:, :, None, None], gates / gates.sum(dim=1, keepdim=True)


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, in_channels: int, channels: int, stride: int):
        super().__init__()
        out = channels * self.expansion
        self.conv1, self.bn1 = nn.Conv2d(in_channels, channels, 1, bias=False), nn.BatchNorm2d(channels)
        self.conv2, self.bn2 = nn.Conv2d(channels, channels, 3, stride, 1, bias=False), nn.BatchNorm2d(channels)
        self.conv3, self.bn3 = nn.Conv2d(channels, out, 1, bias=False), nn.BatchNorm2d(out)
        self.shortcut = nn.Identity() if stride == 1 and in_channels == out else nn.Sequential(
            nn.Conv2d(in_channels, out, 1, stride, bias=False), nn.BatchNorm2d(out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu(self.bn1(self.conv1(x)))
        y = F.relu(self.bn2(self.conv2(y)))
        return F.relu(self.bn3(self.conv3(y)) + self.shortcut(x))


class ResNet50SE(nn.Module):
    """Band SE + ResNet-50 ([3, 4, 6, 3] bottlenecks) for 5 × 64 × 64 cutouts → (B, 16, d_model)."""

    def __init__(self, config: BATMMConfig):
        super().__init__()
        self.se = BandSE()
        stem = _channels(config.width, 64)
        self.stem = nn.Sequential(nn.Conv2d(N_BANDS, stem, 3, 2, 1, bias=False), nn.BatchNorm2d(stem), nn.ReLU(inplace=True))
        layers, channels = [], stem
        for k, (base, blocks) in enumerate(((64, 3), (128, 4), (256, 6), (512, 3))):
            width = _channels(config.width, base)
            for b in range(blocks):
                layers.append(Bottleneck(channels, width, stride=2 if (b == 0 and k > 0) else 1))
                channels = width * Bottleneck.expansion
        self.stages = nn.Sequential(*layers)  # (B, C, 4, 4) for 64×64 input
        side = int(math.isqrt(config.image_tokens))
        self.pool = nn.AdaptiveAvgPool2d(side)  # (B, C, 4, 4): identity for 64×64, adapts other sizes
        self.project = nn.Linear(channels, config.d_model)
        self.out_channels = channels

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        image, band_weights = self.se(image)  # (B, 5, H, W), (B, 5)
        features = self.pool(self.stages(self.stem(image)))  # (B, C, 4, 4)
        return self.project(features.flatten(2).transpose(1, 2)), band_weights  # (B, 16, d), (B, 5)


# ----------------------------------------------------------------------------- fusion


class ColourToken(nn.Module):
    """The star's PSF colours (B, 5) mag, as measured by ``ml.photometry.psf_colours``, → one image
    token (B, 1, d): standardised with the training split's mean and σ (``calibrate``; until then
    mean 0 and σ 1), then an MLP 5 → d → d."""

    def __init__(self, d_model: int):
        super().__init__()
        self.register_buffer("mean", torch.zeros(N_COLOURS))
        self.register_buffer("scale", torch.ones(N_COLOURS))
        self.embed = nn.Sequential(nn.Linear(N_COLOURS, d_model), nn.GELU(), nn.Linear(d_model, d_model))

    @torch.no_grad()
    def calibrate(self, mean, scale) -> None:
        """mean, scale (5,): the training split's colour means and standard deviations, mag."""
        mean, scale = torch.as_tensor(mean, dtype=torch.float32), torch.as_tensor(scale, dtype=torch.float32)
        if mean.shape != (N_COLOURS,) or scale.shape != (N_COLOURS,) or not bool((scale > 0).all()):
            raise ValueError(f"calibrate needs {N_COLOURS} means and {N_COLOURS} positive scales")
        self.mean.copy_(mean)
        self.scale.copy_(scale)

    def forward(self, colours: torch.Tensor) -> torch.Tensor:
        return self.embed(((colours - self.mean) / self.scale)[:, None, :])  # (B, 1, d)


class FusionBlock(nn.Module):
    """Cross-attention (image ← spectrum), self-attention over all tokens, feed-forward."""

    def __init__(self, config: BATMMConfig):
        super().__init__()
        d, heads, dropout = config.d_model, config.n_heads, config.dropout
        self.use_cross = config.cross_attention
        self.norm_query, self.norm_context = nn.LayerNorm(d), nn.LayerNorm(d)
        self.cross = nn.MultiheadAttention(d, heads, dropout=dropout, batch_first=True)
        self.norm_self = nn.LayerNorm(d)
        self.self_attention = nn.MultiheadAttention(d, heads, dropout=dropout, batch_first=True)
        self.norm_ffn = nn.LayerNorm(d)
        self.ffn = nn.Sequential(nn.Linear(d, config.ffn_multiplier * d), nn.GELU(), nn.Dropout(dropout),
                                 nn.Linear(config.ffn_multiplier * d, d), nn.Dropout(dropout))

    def forward(self, cls: torch.Tensor, image: torch.Tensor, spectrum: torch.Tensor):
        if self.use_cross:  # image tokens (queries) attend to spectrum tokens (keys, values)
            context = self.norm_context(spectrum)
            image = image + self.cross(self.norm_query(image), context, context, need_weights=False)[0]
        tokens = torch.cat([cls, image, spectrum], dim=1)  # (B, 1 + 16 (+ 1 colour token) + 7, d)
        normed = self.norm_self(tokens)
        tokens = tokens + self.self_attention(normed, normed, normed, need_weights=False)[0]
        tokens = tokens + self.ffn(self.norm_ffn(tokens))
        n_image = image.shape[1]
        return tokens[:, :1], tokens[:, 1 : 1 + n_image], tokens[:, 1 + n_image :]


class FusionTransformer(nn.Module):
    """[CLS] + image + spectrum tokens through ``n_layers`` fusion blocks → class logits."""

    def __init__(self, config: BATMMConfig):
        super().__init__()
        d = config.d_model
        self.cls = nn.Parameter(torch.zeros(1, 1, d))
        self.modality = nn.Parameter(torch.zeros(3, d)) if config.modality_embeddings else None  # CLS, image, spectrum
        # Without these the 7 spectrum tokens reach the attention as an unordered set: swapping two
        # segments' tokens would not change the output, so the fusion could not tell Hβ from the far red.
        self.segment = nn.Parameter(torch.zeros(N_SEGMENTS, d)) if config.segment_embeddings else None
        self.colour = ColourToken(d) if config.colour_token else None
        self.blocks = nn.ModuleList(FusionBlock(config) for _ in range(config.n_layers))
        self.norm = nn.LayerNorm(d)
        self.head = nn.Linear(d, config.n_classes)
        self.spectrum_readout = None
        if config.spectrum_skip:
            self.spectrum_readout = nn.Linear(N_SEGMENTS * d, config.n_classes).requires_grad_(False)
            nn.init.zeros_(self.head.weight)
            nn.init.zeros_(self.head.bias)
        nn.init.normal_(self.cls, std=0.02)
        for embedding in (self.modality, self.segment):
            if embedding is not None:
                nn.init.normal_(embedding, std=0.02)

    def anchor_spectrum(self, readout: nn.Linear) -> None:
        """Copy the spectrum encoder's pretraining classifier ((7·d) → 2, on its flattened tokens)
        into the frozen skip readout."""
        if self.spectrum_readout is None:
            raise ValueError("this fusion has no spectrum skip (spectrum_skip=False)")
        self.spectrum_readout.load_state_dict(readout.state_dict())

    def forward(self, image_tokens: torch.Tensor, spectrum_tokens: torch.Tensor,
                colours: torch.Tensor | None = None) -> torch.Tensor:
        """image_tokens (B, 16, d), spectrum_tokens (B, 7, d), and with ``colour_token`` the PSF
        colours (B, 5) mag → logits (B, n_classes)."""
        if self.colour is not None:
            if colours is None:
                raise ValueError("this fusion reads the stars' PSF colours (colour_token=True): pass colours (B, 5)")
            image_tokens = torch.cat([image_tokens, self.colour(colours).to(image_tokens.dtype)], dim=1)  # (B, 17, d)
        skip = None if self.spectrum_readout is None else self.spectrum_readout(spectrum_tokens.flatten(1))  # (B, 2)
        cls = self.cls.expand(len(image_tokens), -1, -1)  # (B, 1, d)
        if self.modality is not None:
            cls = cls + self.modality[0]
            image_tokens = image_tokens + self.modality[1]
            spectrum_tokens = spectrum_tokens + self.modality[2]
        if self.segment is not None:
            spectrum_tokens = spectrum_tokens + self.segment  # (B, 7, d) + (7, d)
        for block in self.blocks:
            cls, image_tokens, spectrum_tokens = block(cls, image_tokens, spectrum_tokens)
        logits = self.head(self.norm(cls[:, 0]))  # (B, n_classes)
        return logits if skip is None else logits + skip


class BATMM(nn.Module):
    """The whole model. spectrum (B, 3522) flux; image (B, 5, 64, 64) ugriz, asinh-stretched per band
    (asinh(nanomaggies / scale), the scale fixed on the training split; ``ml.workflows.BHBScorer``
    applies it); with ``colour_token``, colours (B, 5) the PSF colours measured on the unstretched
    cutouts (``ml.photometry.psf_colours``)."""

    def __init__(self, config: BATMMConfig | None = None):
        super().__init__()
        self.config = config or BATMMConfig()
        self.spectrum_encoder = VGG1D(self.config)
        self.image_encoder = ResNet50SE(self.config)
        self.fusion = FusionTransformer(self.config)

    def forward(self, spectrum: torch.Tensor, image: torch.Tensor,
                colours: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        spectrum_tokens, segment_weights = self.spectrum_encoder(spectrum)
        image_tokens, band_weights = self.image_encoder(image)
        return {"logits": self.fusion(image_tokens, spectrum_tokens, colours), "segment_weights": segment_weights,
                "band_weights": band_weights}
