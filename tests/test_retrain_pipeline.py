"""A real worker runs train → fill → map → activate on a tiny grid; twin search then uses the new
version, a second version replaces it, and rollback restores the first."""
import time

import pytest

from catalog import selectors, services
from catalog.models import Embedding, ModelVersion, TrainingRun
from tasks.pipeline import start_retrain
from tests.factories import TOY_TRAINING, toy_grid

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

State = ModelVersion.State


def wait_for(version: ModelVersion, states, worker=None, timeout: float = 60.0) -> ModelVersion:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        version.refresh_from_db()
        if version.state in states:
            return version
        time.sleep(0.5)
    run = version.latest_run
    raise AssertionError(f"{version} never reached {states}; run: {run.state if run else None} {run.error if run else ''}\n"
                         f"{run.logs if run else ''}\n" + (worker.log_path.read_text()[-4000:] if worker else ""))


def config(**activation):
    return {"training": TOY_TRAINING, "evaluation": {"map_sample": 100},
            "activation": {"mode": "always", **activation}}


def test_train_fill_activate_then_rollback(celery_worker_process):
    spectra = toy_grid()
    first = wait_for(start_retrain(kind="disentangler", config=config()), {State.ACTIVE, State.FAILED},
                     celery_worker_process)
    assert first.state == State.ACTIVE, first.latest_run.error
    assert Embedding.objects.filter(model_version=first).count() == len(spectra)
    assert selectors.index_is_valid(first.index_name)
    run = first.latest_run
    assert run.state == TrainingRun.State.SUCCEEDED and run.epoch == 3 and len(run.loss_history) == 3
    assert {"twin_recall_at_10", "val_reconstruction", "r2_latent"} <= set(first.metrics)
    assert len(first.latent_map["spectrum_ids"]) == 100

    star = spectra[0].star
    twins = selectors.twins_for_star(star=star, k=5)
    assert twins.version == first and len(twins.rows) == 5

    second = wait_for(start_retrain(kind="disentangler", config=config()), {State.ACTIVE, State.FAILED},
                     celery_worker_process)
    assert second.state == State.ACTIVE
    first.refresh_from_db()
    assert first.state == State.ARCHIVED
    assert selectors.twins_for_star(star=star, k=5).version == second

    restored = services.rollback(kind="disentangler")
    assert restored == first
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.state, second.state) == (State.ACTIVE, State.READY)
    assert selectors.twins_for_star(star=star, k=5).version == first
