"""mdAT on the 200-profile APOGEE-like grid (S/N 50), twin/R² probes along training.

Run from the repository root: PYTHONPATH=. python bench/results/disentangle_apogee_2p_snr50_p200_mdAT_e55/trajectory.py 25,40,55
(OMP_NUM_THREADS=2); output in console.log next to it.
"""
import sys
import time
import numpy as np
from ml.synth.gridbuilder import GridSpec, build_grid
from ml.synth.stellar import StellarSpectrumModel
from ml.disentangle import DisentanglerConfig, DisentanglerTrainer
from ml.evaluate import r2_probe, twin_metrics, PolynomialResidual, PolyDis
t0 = time.time()
g = build_grid(GridSpec(band="apogee", n_profiles=200, snr=50, seed=0), StellarSpectrumModel("apogee"), batch_size=512)
flux, group, labels = g.flux, g.group, g.labels
print(f"grid {time.time()-t0:.0f}s", flush=True)
checks = [int(c) for c in sys.argv[1].split(",")]
cfg = DisentanglerConfig.from_dict({"variant": "mdAT", "epochs": max(checks), "batch_size": 50, "patience": 0})
params = np.stack([labels[c] for c in cfg.conditional], 1)
tr = DisentanglerTrainer(cfg, flux, params)
train, test = tr.split["train"], tr.split["test"]
rng = np.random.default_rng(0); ptrain = np.sort(rng.choice(train, 4000, replace=False))
pd = PolyDis(3).fit(flux[train], params[train]); print("PolyDis", twin_metrics(pd.transform(flux[test], params[test]), group[test])["recall_at_1"], flush=True)
def probe(tag):
    z = tr.encode(flux, params)
    r2 = {p: r2_probe(z[ptrain], labels[p][ptrain], z[test], labels[p][test], repetitions=1) for p in ["teff", "logg", "fe_h", "Mg_Fe", "C_Fe"]}
    tw = twin_metrics(z[test], group[test])
    res = PolynomialResidual(3).fit(z[train], params[train]).transform(z[test], params[test]).astype(np.float32)
    tr2 = twin_metrics(res, group[test])
    print(f"{tag}: " + " ".join(f"{p} {v:.3f}" for p, v in r2.items()) + f" | R@1 {tw['recall_at_1']:.3f} R@10 {tw['recall_at_10']:.3f} auc {tw['pairwise_auc']:.3f} | -poly R@1 {tr2['recall_at_1']:.3f} R@10 {tr2['recall_at_10']:.3f} | {time.time()-t0:.0f}s", flush=True)
def on_epoch(r):
    print(f"ep {r['epoch']} rec {r['val_reconstruction']:.4f} acc {np.round(r['val_disc_accuracy'],2).tolist()} obj {r['val_objective']:.4f} {time.time()-t0:.0f}s", flush=True)
for c in checks:
    tr.fit(epochs=c, on_epoch=on_epoch)
    probe(f"epoch {c}")
tr.use_best(); probe(f"best epoch {tr.history.best_epoch}")
