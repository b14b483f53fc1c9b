"""R² of Teff/logg (MLP probes, one repetition) and twin recall@1 on z − poly(cp), the post-hoc PolyDis step applied to z, for models saved by
``python -m ml.experiments.disentangle`` (RUN/mdAT.pt; the weights are not in git).
Usage (repository root): OMP_NUM_THREADS=2 python bench/results/disentangle_apogee_2p_snr50_p200_modulated/trajectories/residual_probe.py MODEL.pt ...
Output for the first μ 0.02 run and the λ 0.01 run (modulated decoder): residual_probe.log."""
import sys, time
import numpy as np
from ml.synth.gridbuilder import GridSpec, build_grid
from ml.synth.stellar import StellarSpectrumModel
from ml.disentangle import DisentanglerTrainer
from ml.evaluate import r2_probe, twin_metrics, PolynomialResidual
t0 = time.time()
g = build_grid(GridSpec(band="apogee", n_profiles=200, snr=50, seed=0), StellarSpectrumModel("apogee"), batch_size=512)
print(f"grid {time.time()-t0:.0f}s", flush=True)
for path in sys.argv[1:]:
    tr = DisentanglerTrainer.load(path, device="cpu")
    params = np.stack([g.labels[c] for c in tr.config.conditional], 1)
    from ml.data import split_indices
    cfg = tr.config
    split = split_indices(len(g.flux), cfg.validation, cfg.test, cfg.seed)
    z = tr.encode(g.flux, params)
    train, test = split["train"], split["test"]
    rng = np.random.default_rng(0); ptrain = np.sort(rng.choice(train, 4000, replace=False))
    for deg in (3, 5):
        res = PolynomialResidual(deg).fit(z[train], params[train])
        zr = res.transform(z, params).astype(np.float32)
        r2 = {p: r2_probe(zr[ptrain], g.labels[p][ptrain], zr[test], g.labels[p][test], repetitions=1) for p in ["teff", "logg", "fe_h", "Mg_Fe", "C_Fe"]}
        tw = twin_metrics(zr[test], g.group[test])
        print(path, f"deg {deg}:", " ".join(f"{p} {v:.3f}" for p, v in r2.items()), f"R@1 {tw['recall_at_1']:.3f}", f"{time.time()-t0:.0f}s", flush=True)
