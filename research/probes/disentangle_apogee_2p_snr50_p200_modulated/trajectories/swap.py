"""Fine-tune the μ 0.02 modulated mdAT (the rerun, saved at epoch 25 by trajectory.py --save) with swapped reconstruction on pseudo-twins:
D(z_a, cp_b) ≈ x_b for mutual nearest neighbours a, b in z (training stars, found each epoch).
Usage (repository root, one thread): python .../trajectories/swap.py MODEL.pt OMEGA EPOCHS (OMEGA 0 = plain continued
training with fresh optimisers, the control). Output: swap_omega1.log, swap_omega0_control.log. Twin labels are used only to
report the pairs' precision, never in training."""
import sys, time
import numpy as np
import torch
from torch.nn import functional as F
from ml.synth.gridbuilder import GridSpec, build_grid
from ml.synth.stellar import StellarSpectrumModel
from ml.disentangle import DisentanglerTrainer
from ml.evaluate import r2_probe, twin_metrics
t0 = time.time()
path, omega, epochs = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
g = build_grid(GridSpec(band="apogee", n_profiles=200, snr=50, seed=0), StellarSpectrumModel("apogee"), batch_size=512)
flux, group, labels = g.flux, g.group, g.labels
print(f"grid {time.time()-t0:.0f}s", flush=True)
saved = DisentanglerTrainer.load(path, device="cpu")
cfg = saved.config
params = np.stack([labels[c] for c in cfg.conditional], 1)


class Swap(DisentanglerTrainer):
    partner = None

    def _step(self, index, sums):
        super()._step(index, sums)
        if not omega or self.partner is None:
            return
        partner = self.partner[index]
        keep = partner >= 0
        if not keep.any():
            return
        a, b = index[keep], partner[keep]
        z_a = self.model.encode(self.x[a], self.cp[a])
        loss = omega * F.mse_loss(self.model.decode(z_a, self.cp[b]), self.x[b])
        self.optimiser_ae.zero_grad(set_to_none=True)
        loss.backward()
        self.optimiser_ae.step()


tr = Swap(cfg, flux, params)
tr.model.load_state_dict(torch.load(path, weights_only=False)["model"])
train, test = tr.split["train"], tr.split["test"]
rng = np.random.default_rng(0); ptrain = np.sort(rng.choice(train, 4000, replace=False))


def pairs():
    z = torch.as_tensor(tr.encode(flux[train], params[train]))
    z = (z - z.mean(0)) / z.std(0).clamp_min(1e-12)
    nearest = torch.empty(len(z), dtype=torch.long)
    for s in range(0, len(z), 2048):
        d = torch.cdist(z[s:s + 2048], z)
        d[torch.arange(d.shape[0]), torch.arange(s, s + d.shape[0])] = float("inf")
        nearest[s:s + 2048] = d.argmin(1)
    mutual = nearest[nearest] == torch.arange(len(z))
    partner = torch.full((len(flux),), -1, dtype=torch.long)
    train_t = torch.as_tensor(train)
    partner[train_t[mutual]] = train_t[nearest[mutual]]
    precision = float((group[train][mutual.numpy()] == group[train][nearest[mutual].numpy()]).mean())
    return partner, int(mutual.sum()), precision


def probe(tag):
    z = tr.encode(flux, params)
    r2 = {p: r2_probe(z[ptrain], labels[p][ptrain], z[test], labels[p][test], repetitions=1) for p in ["teff", "logg", "fe_h", "Mg_Fe", "C_Fe"]}
    tw = twin_metrics(z[test], group[test])
    print(f"{tag}: " + " ".join(f"{p} {v:.3f}" for p, v in r2.items()) + f" | R@1 {tw['recall_at_1']:.3f} R@10 {tw['recall_at_10']:.3f} auc {tw['pairwise_auc']:.3f} | {time.time()-t0:.0f}s", flush=True)


probe("start")
for epoch in range(1, epochs + 1):
    tr.partner, n, precision = pairs()
    print(f"epoch {epoch}: {n} stars in mutual pairs, twin precision {precision:.3f}", flush=True)
    tr.fit(epochs=epoch, on_epoch=lambda r: print(f"  rec {r['val_reconstruction']:.4f} acc {np.round(r['val_disc_accuracy'], 2).tolist()} {time.time()-t0:.0f}s", flush=True))
    if epoch % 5 == 0 or epoch == epochs:
        probe(f"after {epoch}")
