"""DOPPEL_TRAINING_TIMEOUT_S is enforced in the training loop (any worker pool): a run past it stops
after its current epoch and fails with that reason; nothing is kept and the active version stays."""
import pytest

from catalog import services
from catalog.models import ModelVersion
from tasks.training import train_disentangler
from tests.factories import TOY_TRAINING, ModelVersionFactory, toy_grid

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_run_past_the_time_limit_fails_with_the_reason(settings):
    settings.TRAINING_TIMEOUT_S = 0  # every run is already past it after its first epoch
    toy_grid(n_groups=2, per_group=10)
    active = ModelVersionFactory(state=ModelVersion.State.ACTIVE)
    version = services.model_version_create(kind="disentangler", config={"training": {**TOY_TRAINING, "epochs": 30}})
    assert train_disentangler.apply(args=[version.pk]).state == "IGNORED"
    version.refresh_from_db()
    run = version.latest_run
    assert version.state == ModelVersion.State.FAILED and not version.artifact
    assert run.error.startswith("TrainingTimeout: the run passed DOPPEL_TRAINING_TIMEOUT_S (0 s) after epoch 1")
    assert run.epoch == 1
    assert ModelVersion.objects.get(pk=active.pk).state == ModelVersion.State.ACTIVE


def test_within_the_limit_nothing_changes(settings):
    settings.TRAINING_TIMEOUT_S = 3600
    toy_grid(n_groups=2, per_group=10)
    version = services.model_version_create(kind="disentangler", config={"training": {**TOY_TRAINING, "epochs": 2}})
    assert train_disentangler.apply(args=[version.pk]).state == "SUCCESS"
    version.refresh_from_db()
    assert version.state == ModelVersion.State.FILLING and version.latest_run.epoch == 2
