"""Can a fresh discriminator read the binned parameters from a trained model's z, where the model's own
discriminators (trained alongside the encoder) sit at chance? Same architecture as the model's
(non-affine BatchNorm, hidden 64–32, 10 bins), trained from scratch on the frozen latents of the
training split (Adam, lr 1e-3, batch 256), scored on the test split every 5 epochs.
Usage (repository root; weights not in git): OMP_NUM_THREADS=2 PYTHONPATH=. python .../fresh_discriminator.py MODEL.pt [EPOCHS]
Output for the residual-encoder mdAT λ 0.01 model and the μ 0.02 rerun, both at epoch 25: fresh_discriminator.log."""
import sys
import time

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ml.disentangle import DisentanglerTrainer, discriminator
from ml.synth.gridbuilder import GridSpec, build_grid
from ml.synth.stellar import StellarSpectrumModel

started = time.time()
path, epochs = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 30
grid = build_grid(GridSpec(band="apogee", n_profiles=200, snr=50, seed=0), StellarSpectrumModel("apogee"), batch_size=512)
print(f"grid {time.time() - started:.0f}s", flush=True)
saved = DisentanglerTrainer.load(path, device="cpu")
parameters = np.stack([grid.labels[name] for name in saved.config.conditional], 1)
trainer = DisentanglerTrainer(saved.config, grid.flux, parameters)  # rebuilds the same split and binning
trainer.model.load_state_dict(saved.model.state_dict())
train, test = trainer.split["train"], trainer.split["test"]
z = torch.as_tensor(trainer.encode(grid.flux, parameters))
targets = trainer.targets.cpu()
with torch.no_grad():
    trainer.model.eval()
    own = [float((d(z[test]).argmax(1) == targets[test, k]).float().mean()) for k, d in enumerate(trainer.model.discriminators)]
chance = [float(np.bincount(targets[train, k].numpy()).max() / len(train)) for k in range(targets.shape[1])]
print(f"{path}: the model's own discriminators, test accuracy {np.round(own, 3).tolist()}; most common bin {np.round(chance, 3).tolist()}", flush=True)
torch.manual_seed(0)
fresh = nn.ModuleList(discriminator(saved.config, int(targets[:, k].max()) + 1) for k in range(targets.shape[1]))
optimiser = torch.optim.Adam(fresh.parameters(), lr=1e-3)
generator = torch.Generator().manual_seed(0)
train_t = torch.as_tensor(train)
for epoch in range(1, epochs + 1):
    fresh.train()
    for batch in train_t[torch.randperm(len(train_t), generator=generator)].split(256):
        loss = sum(F.cross_entropy(d(z[batch]), targets[batch, k]) for k, d in enumerate(fresh))
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    if epoch % 5 == 0:
        fresh.eval()
        with torch.no_grad():
            accuracy = [float((d(z[test]).argmax(1) == targets[test, k]).float().mean()) for k, d in enumerate(fresh)]
        print(f"fresh discriminators, epoch {epoch}: test accuracy {np.round(accuracy, 3).tolist()} {time.time() - started:.0f}s", flush=True)
