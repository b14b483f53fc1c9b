"""BATMM throughput: training samples/s per stage and inference stars/s (CPU, and CUDA if present).

    python bench/train_bhb.py [--width 0.25] [--d-model 128] [--stars 512] [--device cpu|cuda|auto]

Stages: the spectrum encoder (VGG1D + segment attention) and the image encoder (ResNet-50 + SE)
trained with their heads, the fusion transformer on cached tokens, and end-to-end inference
(spectrum + image → score; with the colour token, as by default, this includes measuring the
cutouts' PSF colours, as ``ml.workflows.BHBScorer`` does). Random inputs of the real shapes
(3522 px; 5 × 64 × 64). On CUDA every stage runs under bf16 autocast, as the trainer does.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch
from torch.nn import functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _django import devices_to_measure, print_table  # noqa: E402

from ml.batmm import BATMM, BATMMConfig, FusionTransformer  # noqa: E402
from ml.bhb_train import image_head, spectrum_head  # noqa: E402
from ml.photometry import psf_colours  # noqa: E402


def _rate(step, n: int, batch: int, device) -> float:
    """Samples/s of ``step`` (one batch), under bf16 autocast on CUDA as the trainer runs."""
    autocast = torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda")
    with autocast:
        return _timed(step, n, batch, device)


def _timed(step, n: int, batch: int, device) -> float:
    step()  # warm-up
    if device.type == "cuda":
        torch.cuda.synchronize()
    started = time.perf_counter()
    for _ in range(max(1, n // batch)):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return (max(1, n // batch) * batch) / (time.perf_counter() - started)


def measure(config: BATMMConfig, device: torch.device, stars: int, batch: int = 64) -> list[list]:
    spectrum = torch.rand(batch, 3522, device=device) * 100
    image = torch.randn(batch, 5, 64, 64, device=device)
    labels = torch.randint(0, 2, (batch,), device=device)
    rows = []
    for name, module, inputs in (("VGG1D (train)", spectrum_head(config), (spectrum,)),
                                 ("ResNet-50+SE (train)", image_head(config), (image,))):
        module = module.to(device).train()
        optimiser = torch.optim.AdamW(module.parameters(), lr=1e-4)

        def step(module=module, inputs=inputs, optimiser=optimiser):
            loss = F.cross_entropy(module(*inputs)[0], labels)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()

        rows.append([name, f"{_rate(step, stars, batch, device):,.0f} samples/s"])
    fusion = FusionTransformer(config).to(device).train()
    optimiser = torch.optim.AdamW(fusion.parameters(), lr=1e-4)
    image_tokens = torch.randn(batch, config.image_tokens, config.d_model, device=device)
    spectrum_tokens = torch.randn(batch, 7, config.d_model, device=device)
    colours = torch.randn(batch, 5, device=device) if config.colour_token else None

    def fusion_step():
        loss = F.cross_entropy(fusion(image_tokens, spectrum_tokens, colours), labels)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()

    rows.append(["fusion on cached tokens (train)", f"{_rate(fusion_step, stars, batch, device):,.0f} samples/s"])
    model = BATMM(config).to(device).eval()

    @torch.no_grad()
    def infer():
        measured = None
        if config.colour_token:
            measured = torch.as_tensor(psf_colours(image.cpu().numpy()), dtype=torch.float32, device=device)
        model(spectrum, image, measured)

    rows.append(["end-to-end inference", f"{_rate(infer, stars, batch, device):,.0f} stars/s"])
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--width", type=float, default=0.25)
    parser.add_argument("--d-model", type=int, default=128)
    parser.add_argument("--stars", type=int, default=512)
    parser.add_argument("--colour-token", action=argparse.BooleanOptionalAction, default=True,
                        help="the fusion's PSF-colour token (on in the experiment and portal configs)")
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"),
                        help="auto: the CPU, and the GPU where there is one")
    args = parser.parse_args()
    config = BATMMConfig(width=args.width, d_model=args.d_model, colour_token=args.colour_token)
    rows = []
    for device in map(torch.device, devices_to_measure(args.device)):
        label = torch.cuda.get_device_name() if device.type == "cuda" else f"CPU ({torch.get_num_threads()} threads)"
        rows += [[label, *row] for row in measure(config, device, args.stars)]
    print_table(f"bench/train_bhb.py — width {args.width}, d_model {args.d_model}, 8 fusion layers, batch 64, "
                f"colour token {'on' if args.colour_token else 'off'}",
                ["device", "stage", "rate"], rows)


if __name__ == "__main__":
    main()
