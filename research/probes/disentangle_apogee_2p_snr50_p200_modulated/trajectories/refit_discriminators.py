"""Residual-encoder mdAT (λ 0.01) on the 200-profile grid, with its discriminators refitted from scratch
on the frozen training latents before every epoch (30 passes, Adam lr 1e-3, batch 256), then one
epoch of the usual alternating training against them. The probe for the README's next step.
Usage (repository root): OMP_NUM_THREADS=2 PYTHONPATH=. python .../refit_discriminators.py EPOCHS PROBE_EPOCHS
Output: refit_discriminators.log (stopped after epoch 12)."""
import sys
import time

import numpy as np
import torch
from torch.nn import functional as F

from ml.disentangle import DisentanglerConfig, DisentanglerTrainer
from ml.evaluate import r2_probe, twin_metrics
from ml.synth.gridbuilder import GridSpec, build_grid
from ml.synth.stellar import StellarSpectrumModel

started = time.time()
epochs, checks = int(sys.argv[1]), {int(c) for c in sys.argv[2].split(",")}
grid = build_grid(GridSpec(band="apogee", n_profiles=200, snr=50, seed=0), StellarSpectrumModel("apogee"), batch_size=512)
flux, group, labels = grid.flux, grid.group, grid.labels
print(f"grid {time.time() - started:.0f}s", flush=True)
config = DisentanglerConfig.from_dict({"variant": "mdAT", "epochs": epochs, "batch_size": 50, "patience": 0,
                                       "decoder": "modulated", "encoder": "residual"})
parameters = np.stack([labels[name] for name in config.conditional], 1)
trainer = DisentanglerTrainer(config, flux, parameters)
train, test = trainer.split["train"], trainer.split["test"]
probe_train = np.sort(np.random.default_rng(0).choice(train, 4000, replace=False))
generator = torch.Generator().manual_seed(0)


def refit() -> list[float]:
    """New discriminators, fitted on the frozen training latents; their validation accuracy."""
    z = torch.as_tensor(trainer.encode(flux, parameters))
    targets = trainer.targets.cpu()
    for discriminator in trainer.model.discriminators:
        for layer in discriminator:
            if hasattr(layer, "reset_parameters"):
                layer.reset_parameters()
    trainer.optimiser_d = torch.optim.Adam(trainer.model.discriminators.parameters(), lr=config.lr_discriminator)  # the autoencoder's Adam state is kept
    trainer.model.train()
    rows = torch.as_tensor(train)
    for _ in range(30):
        for batch in rows[torch.randperm(len(rows), generator=generator)].split(256):
            loss = sum(F.cross_entropy(d(z[batch]), targets[batch, k]) for k, d in enumerate(trainer.model.discriminators))
            trainer.optimiser_d.zero_grad()
            loss.backward()
            trainer.optimiser_d.step()
    trainer.model.eval()
    validation = torch.as_tensor(trainer.split["validation"])
    with torch.no_grad():
        return [float((d(z[validation]).argmax(1) == targets[validation, k]).float().mean())
                for k, d in enumerate(trainer.model.discriminators)]


def probe(tag: str) -> None:
    z = trainer.encode(flux, parameters)
    r2 = {name: r2_probe(z[probe_train], labels[name][probe_train], z[test], labels[name][test], repetitions=1)
          for name in ["teff", "logg", "fe_h", "alpha_fe", "Mg_Fe", "C_Fe"]}
    twins = twin_metrics(z[test], group[test])
    print(f"{tag}: " + " ".join(f"{name} {value:.3f}" for name, value in r2.items())
          + f" | R@1 {twins['recall_at_1']:.3f} R@10 {twins['recall_at_10']:.3f} | {time.time() - started:.0f}s", flush=True)


for epoch in range(1, epochs + 1):
    accuracy = refit()
    trainer.fit(epochs=epoch, on_epoch=lambda r: print(
        f"ep {r['epoch']}: refitted discriminators' validation accuracy {np.round(accuracy, 3).tolist()}, after the epoch "
        f"{np.round(r['val_disc_accuracy'], 3).tolist()}, rec {r['val_reconstruction']:.4f} {time.time() - started:.0f}s", flush=True))
    if epoch in checks:
        probe(f"epoch {epoch}")
