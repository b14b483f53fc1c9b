"""Disentangler training throughput: the seed's full configuration (7214 px, encoder 512/256,
latent 25, decoder 256/512, mdAT with 2 discriminators of 64/32 over 10 bins).

    python bench/train_disentangler.py [--samples 8000] [--epochs 3] [--device cpu|cuda|auto]

Reports samples/s (best epoch after a warm-up epoch) at batch 50 and 256 with the default
alternation (1 discriminator step per autoencoder step) and with 5 discriminator steps, and, on a
GPU, the projected time of the paper-sized run (39k spectra, batch 50, 200 epochs). Spectra are
random (throughput does not depend on content).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _django import print_table  # noqa: E402

from ml.disentangler import DisentanglerConfig, DisentanglerTrainer  # noqa: E402

TARGETS = {("cpu", 50): "≥ 800", ("cpu", 256): "≥ 2,100"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=8000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--device", default="auto")
    args = parser.parse_args()
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() and args.device in ("auto", "cuda") else [])
    if args.device == "cpu":
        devices = ["cpu"]
    rng = np.random.default_rng(0)
    flux = (1 - 0.1 * rng.random((args.samples, 7214))).astype(np.float32)
    parameters = np.stack([rng.uniform(3200, 6000, args.samples), rng.uniform(0, 2.6, args.samples)], axis=1).astype(np.float32)
    rows = []
    for device in devices:
        name = torch.cuda.get_device_name() if device == "cuda" else f"CPU, {torch.get_num_threads()} threads"
        for disc_steps in (1, 5):
            for batch in (50, 256):
                config = DisentanglerConfig(batch_size=batch, epochs=args.epochs, validation=0.0, test=0.0, patience=0,
                                            device=device, disc_steps=disc_steps)
                trainer = DisentanglerTrainer(config, flux, parameters)
                history = trainer.fit()
                rate = max(record["samples_per_s"] for record in history.epochs[1:] or history.epochs)
                paper = f"{39_000 * 200 / rate:,.0f} s" if device == "cuda" and batch == 50 else ""
                rows.append([name, disc_steps, batch, f"{rate:,.0f}", TARGETS.get((device, batch), "") if disc_steps == 1 else "", paper])
    print_table("bench/train_disentangler.py — mdAT, 2 discriminators, 7214 px",
                ["device", "disc steps", "batch", "samples/s", "target", "39k × 200 epochs"], rows)


if __name__ == "__main__":
    main()
