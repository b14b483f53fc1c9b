"""The kept epoch sees the leak: a fresh probe of the conditioned parameters from z on the validation
stars, so an epoch whose discriminators sit at chance while z still holds Teff is not kept."""
import numpy as np
import pytest

from ml.disentangler import DisentanglerTrainer
from ml.disentangler.selection import better, probe_r2
from tests.test_disentangler_model import config, toy_grid


def test_the_probe_reads_parameters_hidden_in_z_whatever_their_shape():
    rng = np.random.default_rng(0)
    cp = rng.normal(size=(600, 2))
    unrelated = rng.normal(size=(600, 25))
    assert probe_r2(unrelated, cp) < 0.1
    hidden = np.concatenate([unrelated[:, :23], cp], axis=1)  # the parameters in 2 of 25 latents
    assert probe_r2(hidden, cp) > 0.9
    assert probe_r2(np.concatenate([unrelated[:, :24], 100 * cp[:, :1]], axis=1), cp) > 0.9  # blind to scale
    squared = np.concatenate([unrelated[:, :24], cp[:, :1] ** 2], axis=1)  # a non-linear code in one latent
    assert probe_r2(squared, np.abs(cp[:, :1])) > 0.5
    mixed = unrelated @ rng.normal(size=(25, 25)) / 5 + 0.3 * np.tanh(cp @ rng.normal(size=(2, 25)))  # spread over all
    assert probe_r2(mixed, cp) > 0.5
    assert np.isnan(probe_r2(unrelated[:5], cp[:5]))


@pytest.mark.parametrize("epoch, kept, limit, expected", [
    ((0.10, 0.50), (0.20, 0.15), 0.2, False),  # a better reconstruction that leaks does not replace a clean epoch
    ((0.30, 0.10), (0.20, 0.50), 0.2, True),   # a clean epoch replaces a leaking one, whatever its reconstruction
    ((0.15, 0.10), (0.20, 0.05), 0.2, True),   # between clean epochs, the better reconstruction
    ((0.10, 0.40), (0.20, 0.30), 0.2, False),  # between leaking epochs, the smaller leak
    ((0.10, 0.90), (0.20, 0.10), None, True),  # no limit (noAT): reconstruction alone
])
def test_the_rule(epoch, kept, limit, expected):
    assert better(objective=epoch[0], probe=epoch[1], best_objective=kept[0], best_probe=kept[1], limit=limit) is expected


def test_the_trainer_keeps_the_epoch_the_rule_chooses():
    flux, params, _ = toy_grid(n_groups=20)
    trainer = DisentanglerTrainer(config(epochs=8, batch_size=32, lambdas=(0.5,), leak_limit=0.5), flux, params)
    history = trainer.fit()
    records = history.epochs
    assert all(np.isfinite(r["val_probe_r2"]) for r in records)
    clean = [r for r in records if r["val_probe_r2"] <= 0.5]
    if clean:
        expected = min(clean, key=lambda r: r["val_objective"])["epoch"]
    else:
        expected = min(records, key=lambda r: r["val_probe_r2"])["epoch"]
    assert history.best_epoch == expected == trainer.trained().kept_epoch
    no_at = DisentanglerTrainer(config(variant="noAT", epochs=4), flux, params)
    records = no_at.fit().epochs  # noAT keeps the parameters on purpose: reconstruction alone decides
    assert no_at.history.best_epoch == min(records, key=lambda r: r["val_objective"])["epoch"]
    assert not any("val_probe_r2" in r for r in records)  # no probe is fitted where no rule reads it


def test_a_bad_limit_is_refused():
    with pytest.raises(ValueError, match="leak_limit must be an R² between 0"):
        config(leak_limit=1.5)


def test_early_stopping_waits_while_the_kept_epoch_still_leaks():
    flux, params, _ = toy_grid()
    leaking = DisentanglerTrainer(config(epochs=6, patience=1, leak_limit=1e-9), flux, params)  # nothing can pass
    history = leaking.fit()
    assert len(history.epochs) == 6 and not history.stopped_early
