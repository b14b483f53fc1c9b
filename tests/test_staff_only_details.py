"""A training run's traceback and worker log are for staff: anyone else sees its progress with
``error`` and ``logs`` null."""
import pytest

from tests.factories import TrainingRunFactory

pytestmark = pytest.mark.django_db
TRACEBACK = 'Traceback (most recent call last):\n  File "/srv/doppel/ml/trainer.py", line 1\nRuntimeError: CUDA out of memory'


@pytest.fixture
def failed_run():
    return TrainingRunFactory(state="failed", error=TRACEBACK, logs="worker gpu-7.internal: epoch 3")


def test_anonymous_clients_see_progress_but_not_the_traceback(client, failed_run):
    for row in (client.get("/api/training-runs/").json()["results"][0], client.get(f"/api/training-runs/{failed_run.pk}/").json()):
        assert row["state"] == "failed" and row["error"] is None and row["logs"] is None


def test_staff_see_the_traceback_and_the_log(admin_client, failed_run):
    row = admin_client.get(f"/api/training-runs/{failed_run.pk}/").json()
    assert row["error"] == TRACEBACK and "gpu-7.internal" in row["logs"]
