"""Twin recall@1 and R² probes (MLP, one repetition) on latents concatenated over several trained
models: the "latents averaged over seeds" idea. Each model's z is standardised on the training
split, so squared distance in the concatenation is the sum of each model's squared distances.
Usage (repository root; the weights are not in git):
    OMP_NUM_THREADS=2 PYTHONPATH=. python bench/results/disentangle_apogee_2p_snr50_p200_modulated/trajectories/ensemble_probe.py MODEL.pt MODEL.pt ...
Prints every single model, every pair and all of them together. Output for the two μ 0.02 runs
(first run and rerun, same config and seed) and the μ 0.02 + ν 0.05 run: ensemble_probe.log."""
import sys, time, itertools
import numpy as np
from ml.synth.gridbuilder import GridSpec, build_grid
from ml.synth.stellar import StellarSpectrumModel
from ml.disentangle import DisentanglerTrainer
from ml.evaluate import r2_probe, twin_metrics
from ml.data import split_indices
t0 = time.time()
g = build_grid(GridSpec(band="apogee", n_profiles=200, snr=50, seed=0), StellarSpectrumModel("apogee"), batch_size=512)
print(f"grid {time.time()-t0:.0f}s", flush=True)
latents = {}
for path in sys.argv[1:]:
    tr = DisentanglerTrainer.load(path, device="cpu")
    params = np.stack([g.labels[c] for c in tr.config.conditional], 1)
    split = split_indices(len(g.flux), tr.config.validation, tr.config.test, tr.config.seed)
    z = tr.encode(g.flux, params)
    train, test = split["train"], split["test"]
    z = (z - z[train].mean(0)) / np.maximum(z[train].std(0), 1e-12)
    latents[path] = z.astype(np.float32)
ptrain = np.sort(np.random.default_rng(0).choice(train, 4000, replace=False))
def report(names):
    z = np.concatenate([latents[n] for n in names], 1)
    r2 = {p: r2_probe(z[ptrain], g.labels[p][ptrain], z[test], g.labels[p][test], repetitions=1) for p in ["teff", "logg", "fe_h", "Mg_Fe", "C_Fe"]}
    tw = twin_metrics(z[test], g.group[test])
    print(" + ".join(n.split("/")[-1] for n in names), ":", " ".join(f"{p} {v:.3f}" for p, v in r2.items()),
          f"R@1 {tw['recall_at_1']:.3f} R@10 {tw['recall_at_10']:.3f}", f"{time.time()-t0:.0f}s", flush=True)
paths = sys.argv[1:]
for k in range(1, len(paths) + 1):
    for names in itertools.combinations(paths, k):
        if k == 1 or k == len(paths) or k == 2:
            report(list(names))
