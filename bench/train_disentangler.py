"""Disentangler training throughput, against the machine's own matrix-multiply rate.

    python bench/train_disentangler.py [--samples 8000] [--epochs 3] [--device cpu|cuda|auto]

For both presets at batch 50 and 256, the best epoch's samples/s after a warm-up epoch (7214 px,
2 conditioned parameters, random spectra: throughput does not depend on content; 10 % of the stars
held out for validation, as in training). ``paper`` and ``twins`` train the same networks; a
``twins`` epoch also fits the fresh leak probe on the validation stars, and the bench prints what
that costs as the ratio of the two presets' epoch times. The same run measures sgemm (a 4096² float32 product, the threads torch uses) and reports each row's
share of it: the model's matrix-multiply work per sample (forward and backward, discriminator
steps included) × samples/s ÷ sgemm FLOP/s. On a GPU it adds the projected time of the paper-sized
run (39k spectra, batch 50, 200 epochs).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _django import devices_to_measure, print_table  # noqa: E402

from ml.disentangler import DisentanglerConfig, DisentanglerTrainer  # noqa: E402

TARGETS = {("cpu", "twins", 50): "≥ 800", ("cpu", "twins", 256): "≥ 2,100"}
PRESETS = ("paper", "twins")


def sgemm_flops(device: str, size: int = 4096, repeats: int = 5) -> float:
    """FLOP/s of a (size × size) float32 matrix product on ``device``."""
    a = torch.randn(size, size, device=device)
    b = torch.randn(size, size, device=device)
    torch.mm(a, b)
    if device == "cuda":
        torch.cuda.synchronize()
    started = time.perf_counter()
    for _ in range(repeats):
        torch.mm(a, b)
    if device == "cuda":
        torch.cuda.synchronize()
    return 2.0 * size**3 * repeats / (time.perf_counter() - started)


def flops_per_sample(trainer: DisentanglerTrainer) -> float:
    """Multiply-add work of one training sample, in FLOP: every linear layer of the autoencoder
    forward and backward (3 × 2 × in × out), the discriminators' ``disc_steps`` updates plus the
    autoencoder's pass through them."""
    model, config = trainer.model, trainer.config
    autoencoder = sum(6 * layer.in_features * layer.out_features
                      for part in (model.encoder, model.decoder) for layer in part.modules() if isinstance(layer, nn.Linear))
    discriminators = sum(layer.in_features * layer.out_features
                         for layer in model.discriminators.modules() if isinstance(layer, nn.Linear))
    return float(autoencoder + (6 * config.disc_steps + 6) * discriminators)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=8000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"),
                        help="auto: the CPU, and the GPU where there is one")
    args = parser.parse_args()
    devices = devices_to_measure(args.device)
    rng = np.random.default_rng(0)
    flux = (1 - 0.1 * rng.random((args.samples, 7214))).astype(np.float32)
    parameters = np.stack([rng.uniform(3200, 6000, args.samples), rng.uniform(0, 2.6, args.samples)], axis=1).astype(np.float32)
    rows, rates = [], {}
    for device in devices:
        name = torch.cuda.get_device_name() if device == "cuda" else f"CPU, {torch.get_num_threads()} threads"
        peak = sgemm_flops(device)
        print(f"{name}: sgemm {peak / 1e9:,.0f} GFLOP/s", file=sys.stderr)
        for preset in PRESETS:
            for batch in (50, 256):
                config = DisentanglerConfig.from_preset(preset, batch_size=batch, epochs=args.epochs, validation=0.1,
                                                        test=0.0, patience=0, device=device)
                trainer = DisentanglerTrainer(config, flux, parameters)
                history = trainer.fit()
                rate = max(record["samples_per_s"] for record in history.epochs[1:] or history.epochs)
                rates[(device, preset, batch)] = rate
                share = rate * flops_per_sample(trainer) / peak
                paper_run = f"{39_000 * 200 / rate:,.0f} s" if device == "cuda" and batch == 50 and preset == "twins" else ""
                rows.append([name, preset, batch, f"{rate:,.0f}", f"{100 * share:.0f} %", TARGETS.get((device, preset, batch), ""),
                             paper_run])
        rows.append([name, "sgemm", "", "", f"{peak / 1e9:,.0f} GFLOP/s", "", ""])
    print_table("bench/train_disentangler.py — mdAT, 2 discriminators, 5 discriminator steps, 7214 px",
                ["device", "preset", "batch", "samples/s", "share of sgemm", "target", "39k × 200 epochs"], rows)
    for device in devices:
        for batch in (50, 256):
            ratio = rates[(device, "paper", batch)] / rates[(device, "twins", batch)]
            print(f"{device}, batch {batch}: a twins epoch (with its leak probe) costs {ratio:.2f}× a paper (seed-model) "
                  f"epoch (target ≤ 1.5×)")


if __name__ == "__main__":
    main()
