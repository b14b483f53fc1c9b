"""VGG1D alone (the experiment config, patience off): validation/test F1 of the raw weights and of an
exponential moving average (EMA) of them, every epoch. With --uniform-segments the segment
attention is switched off (every segment weight 1/7, so the CNN sees the spectrum as it is).

Usage (repository root, one thread):
    OMP_NUM_THREADS=1 python bench/results/bhb_vgg1d_probes/vgg1d_probe.py SEED DECAY [EPOCHS] [--uniform-segments]
Output: ema_seed3.log (3 0.998 15) and uniform_seed3.log (3 0.998 15 --uniform-segments)."""
import sys, time, copy, math
sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[3]))
import numpy as np, torch
from torch.nn import functional as F
from ml.batmm import BATMMConfig
from ml.bhb_train import BHBTrainer, BHBTrainingConfig, spectrum_head, metrics
from ml.data import split_indices
from ml.synth.bhb import bhb_sample
uniform = "--uniform-segments" in sys.argv
arguments = [a for a in sys.argv[1:] if a != "--uniform-segments"]
seed = int(arguments[0]); decay = float(arguments[1]); epochs = int(arguments[2]) if len(arguments) > 2 else 15
if uniform:
    import ml.batmm as batmm

    def _uniform(self, spectrum):
        segments = spectrum[:, : batmm.N_SEGMENTS * batmm.SEGMENT_PIXELS]
        return segments, torch.full((len(spectrum), batmm.N_SEGMENTS), 1.0 / batmm.N_SEGMENTS)
    batmm.SegmentAttention.forward = _uniform
t0 = time.perf_counter()
sample = bhb_sample(4985, 3128, np.random.default_rng(0))
labels = sample.is_bhb.astype(int)
split = split_indices(len(labels), 0.2, 0.1, seed)
cfg = BHBTrainingConfig(model=BATMMConfig(width=0.25, d_model=128, n_layers=8, n_heads=8, dropout=0.1), seed=seed,
                        epochs_encoder=epochs, batch_size=64, lr=1e-4, weight_decay=0.05, patience=0,
                        image_colour_weight=0.0, spectrum_noise=1.0)
trainer = BHBTrainer(cfg, sample.flux, sample.images, labels, split=split)
inputs = lambda index: (trainer.spectra[index],)
torch.manual_seed(cfg.seed)
model = spectrum_head(cfg.model)
ema = copy.deepcopy(model)
opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
train = split["train"]
steps = epochs * math.ceil(len(train) / cfg.batch_size)
sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.lr, total_steps=steps, pct_start=0.1, anneal_strategy="cos")
gen = torch.Generator().manual_seed(cfg.seed)
test = split["test"]
step = 0
for epoch in range(epochs):
    model.train()
    order = train[torch.randperm(len(train), generator=gen).numpy()]
    for start in range(0, len(order), cfg.batch_size):
        index = order[start:start + cfg.batch_size]
        if len(index) < 2: continue
        batch = trainer._noisy_spectra(inputs(index), index, gen)
        out = model(*batch)
        logits = out[0] if isinstance(out, tuple) else out
        loss = F.cross_entropy(logits.float(), trainer.labels[index], weight=trainer.weights)
        opt.zero_grad(); loss.backward(); opt.step(); sched.step(); step += 1
        d = min(decay, (1 + step) / (10 + step))
        with torch.no_grad():
            for pe, pm in zip(ema.parameters(), model.parameters()):
                pe.lerp_(pm, 1 - d)
            for be, bm in zip(ema.buffers(), model.buffers()):
                be.copy_(bm)
    row = []
    for name, m in (("raw", model), ("ema", ema)):
        v = trainer._validation_f1(m, inputs)
        te = metrics(labels[test], trainer._scores(m, inputs, test))["f1_macro"]
        row.append(f"{name} val {v:.4f} test {te:.4f}")
    print(f"seed {seed} decay {decay} epoch {epoch+1}: " + " | ".join(row) + f" ({time.perf_counter()-t0:.0f} s)", flush=True)
