"""Macro F1 of a saved VGG1D stage checkpoint on the training, validation and test splits.

Usage (repository root): python bench/results/bhb_mlp_head/score_vgg1d.py OUT SEED [SEED ...], OUT being an
experiment --out directory whose seeds/seed_<n>/ hold vgg1d.pt (the checkpoints are not kept in git)."""
import sys, json
sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[3]))
import numpy as np, torch
from ml.batmm import BATMMConfig
from ml.bhb_train import spectrum_head, metrics
from ml.data import split_indices
from ml.synth.bhb import bhb_sample
out = sys.argv[1]; seeds = [int(s) for s in sys.argv[2:]]
cfg = json.load(open(f"{out}/seeds/seed_{seeds[0]}/config.json"))
s = bhb_sample(4985, 3128, np.random.default_rng(0)); y = s.is_bhb.astype(int)
x = torch.as_tensor(np.asarray(s.flux, np.float32))
for seed in seeds:
    head = spectrum_head(BATMMConfig(**cfg["model"]))
    head.load_state_dict(torch.load(f"{out}/seeds/seed_{seed}/vgg1d.pt", weights_only=True)); head.eval()
    split = split_indices(len(y), 0.2, 0.1, seed)
    with torch.no_grad():
        res = {}
        for part in ("train", "validation", "test"):
            idx = split[part]
            p = torch.cat([torch.softmax(head(x[idx[i:i+256]])[0], 1)[:, 1] for i in range(0, len(idx), 256)]).numpy()
            res[part] = round(metrics(y[idx], p)["f1_macro"], 4)
    print("seed", seed, res, flush=True)
