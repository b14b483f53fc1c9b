"""A failed training is recorded with a readable error; the active version is untouched."""
import pytest

from catalog.models import ModelVersion, TrainingRun
from tasks.training import train_disentangler
from catalog import services
from tests.factories import TOY_TRAINING, ModelVersionFactory, toy_grid

pytestmark = pytest.mark.django_db(transaction=True)


def test_failure_marks_version_failed_and_keeps_active():
    toy_grid(n_groups=2, per_group=10)
    active = ModelVersionFactory(state=ModelVersion.State.ACTIVE)
    version = services.model_version_create(kind="disentangler", config={"training": {**TOY_TRAINING, "batch_size": 500}})
    outcome = train_disentangler.apply(args=[version.pk])
    assert outcome.state == "FAILURE"
    version.refresh_from_db()
    active.refresh_from_db()
    run = version.latest_run
    assert version.state == ModelVersion.State.FAILED and active.state == ModelVersion.State.ACTIVE
    assert run.state == TrainingRun.State.FAILED
    assert run.error.startswith("ValueError: the training split (16) is smaller than one batch (500)")
    assert "failed: ValueError" in run.logs
    with pytest.raises(services.RegistryError, match="failed, not ready"):
        services.activate(version=version)
    assert train_disentangler.apply(args=[version.pk]).state == "IGNORED"  # a failed version is not retried by accident
