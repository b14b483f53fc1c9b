"""Metrics and loss histories with NaN or infinite values (a probe on too few stars, a diverged
loss) are stored with null in their place: PostgreSQL's jsonb refuses NaN, and a whole training run
must not fail over one number."""
import math

import numpy as np
import pytest

from catalog.services.registry import json_safe


def test_non_finite_numbers_become_null_at_any_depth():
    value = {"a": float("nan"), "b": [1.0, float("inf"), {"c": np.float32(2.5), "d": np.float64("nan")}], "e": "nan"}
    assert json_safe(value) == {"a": None, "b": [1.0, None, {"c": 2.5, "d": None}], "e": "nan"}


@pytest.mark.django_db
def test_a_version_finishes_with_a_nan_metric(tmp_path):
    from catalog import services
    from catalog.models import ModelVersion
    from tests.factories import TOY_TRAINING, toy_grid

    toy_grid(n_groups=2, per_group=4)
    version = services.model_version_create(kind="disentangler", config={"training": TOY_TRAINING})
    claim = services.training_claim(version_id=version.pk, task_id="t")
    services.run_record_epoch(run=claim.run, record={"epoch": 1, "val_probe_r2": math.nan}, progress=0.5, eta_s=None)
    (tmp_path / "model.pt").write_bytes(b"weights")
    assert services.training_finish(version=claim.version, artifact=tmp_path / "model.pt", metrics={"far_auc": math.nan, "x": 1.0},
                                    timings={})
    version = ModelVersion.objects.get(pk=version.pk)
    assert version.metrics == {"far_auc": None, "x": 1.0}
    assert version.latest_run.loss_history[-1]["val_probe_r2"] is None
    services.training_release(version_id=version.pk)
