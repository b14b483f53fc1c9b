"""The demo's BATMM on a given sample: how a training recipe scores on the stars the demo trains on.

    python -m research.experiments.bhb_demo --snapshot $DOPPEL_VAR/artifacts/datasets/<fingerprint> \\
        --model '{"width": 0.125, "d_model": 64, "n_layers": 2, "n_heads": 4, "colour_token": true}' \\
        --training '{"epochs_encoder": 8, "epochs_image": 3, "epochs_fusion": 6, "batch_size": 64, "lr": 6e-4, "patience": 0}' \\
        [--seed 0] [--threads 1]
    python -m research.experiments.bhb_demo --sample 2400 --sample-seed 0 --model … --training …

``--snapshot`` is a BHB dataset snapshot the worker cached (``spectra.npy``, ``images.npy``,
``labels.npy``: the demo's stars as ingested); ``--sample N`` draws N stars (40 % BHB) from
``ml.synth.bhb.bhb_sample`` instead. Prints one line: test F1 (macro), BHB precision and recall,
the ECE, each baseline's F1 and the seconds it took. ``docs/research/bhb.md``, "The demo model".
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--snapshot", type=Path, help="a cached BHB dataset snapshot directory")
    source.add_argument("--sample", type=int, help="draw this many generated stars instead")
    parser.add_argument("--sample-seed", type=int, default=0)
    parser.add_argument("--model", type=json.loads, required=True, help="BATMMConfig fields as JSON")
    parser.add_argument("--training", type=json.loads, required=True, help="BHBTrainingConfig fields as JSON")
    parser.add_argument("--seed", type=int, default=0, help="training seed (the split and the initial weights)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (the demo's worker uses 1)")
    args = parser.parse_args(argv)

    import torch

    from ml.synth.bhb import bhb_sample
    from ml.workflows import train_bhb

    torch.set_num_threads(args.threads)
    if args.snapshot is not None:
        try:
            spectra, images, labels = (np.load(args.snapshot / f"{name}.npy") for name in ("spectra", "images", "labels"))
        except OSError as error:
            print(f"error: {args.snapshot}: {error}", file=sys.stderr)
            return 2
    else:
        n_bhb = int(0.4 * args.sample)
        sample = bhb_sample(n_bhb, args.sample - n_bhb, np.random.default_rng(args.sample_seed))
        spectra, images, labels = sample.flux, sample.images, sample.is_bhb.astype(int)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as scratch:
        try:
            result = train_bhb(spectra=spectra, images=images, labels=labels, model=args.model,
                               training={**args.training, "seed": args.seed}, checkpoint_dir=Path(scratch),
                               artifact=Path(scratch) / "model.pt", log=lambda message: print(message, flush=True))
        except (TypeError, ValueError) as error:  # a config field that does not exist or cannot be
            print(f"error: {error}", file=sys.stderr)
            return 2
    baselines = {name: round(value["f1_macro"], 3) for name, value in result["baselines"].items()}
    print(f"{len(labels)} stars, seed {args.seed}: F1 {result['f1_macro']:.3f} P {result['precision_bhb']:.3f} "
          f"R {result['recall_bhb']:.3f} ECE {result['ece']:.3f} {baselines} {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
