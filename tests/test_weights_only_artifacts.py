"""Artifacts load with weights_only=True: a pickled (older or tampered) file is never unpickled by
the web process or a worker; it is refused with the command that converts it, and
`manage.py convert_artifacts` rewrites the versions' stored artifacts once."""
import io

import numpy as np
import pytest
import torch
from django.core.management import call_command

from catalog import loaded_models, services
from catalog.models import Artifact
from ml import artifacts
from tests.factories import ModelVersionFactory

RAN = []


class Payload:
    """What a tampered artifact would carry: code that runs when the file is unpickled."""

    def __reduce__(self):
        return (RAN.append, ("unpickled",))


def test_a_pickle_with_code_is_refused_without_running_it(tmp_path):
    path = tmp_path / "evil.pt"
    torch.save({"model": {}, "config": Payload()}, path)
    with pytest.raises(artifacts.LegacyArtifact, match="convert_artifacts"):
        artifacts.load(path)
    assert RAN == []


def test_state_round_trips_with_its_types(tmp_path):
    state = {"config": {"hidden": (512, 256), "lambdas": [0.01], "note": None}, "weights": {"w": torch.arange(6.0).view(2, 3)},
             "optimiser": {"state": {0: {"step": torch.tensor(4.0)}}}, "scale": np.linspace(0, 1, 5, dtype=np.float32),
             "history": {"best": float("inf")}}
    loaded = artifacts.load(artifacts.save(tmp_path / "a.pt", state))
    assert loaded["config"] == state["config"] and loaded["history"]["best"] == float("inf")
    assert list(loaded["optimiser"]["state"]) == [0] and torch.equal(loaded["weights"]["w"], state["weights"]["w"])
    np.testing.assert_array_equal(loaded["scale"], state["scale"])


@pytest.mark.django_db
def test_convert_artifacts_rewrites_older_files_once(tmp_path):
    old = tmp_path / "old.pt"
    torch.save({"config": {"latent_dim": 25}, "model": {"w": torch.ones(2)}, "scale": np.ones(3)}, old)
    legacy = services.artifact_store(old)
    version = ModelVersionFactory(artifact=legacy)
    ModelVersionFactory(artifact="0" * 64)  # names an artifact that is not stored
    out = io.StringIO()
    call_command("convert_artifacts", stdout=out, stderr=io.StringIO())
    assert "1 converted, 0 already weights-only, 1 missing, 0 failed" in out.getvalue()
    version.refresh_from_db()
    assert version.artifact != legacy and not Artifact.objects.filter(sha256=legacy).exists()  # replaced, released
    assert artifacts.load(loaded_models.artifact_path(version.artifact))["config"] == {"latent_dim": 25}
    again = io.StringIO()
    call_command("convert_artifacts", stdout=again, stderr=io.StringIO())
    assert "0 converted, 1 already weights-only" in again.getvalue()
