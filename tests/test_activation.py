"""Activation: only complete, ready versions; one transaction; rollback to the previous one."""
import pytest

from catalog import services
from catalog.models import ModelVersion
from tests.factories import EmbeddingFactory, LabelsFactory, ModelVersionFactory, SpectrumFactory, TrainingRunFactory

pytestmark = pytest.mark.django_db

State = ModelVersion.State
CONFIG = {"survey": "apogee", "label_source": "grid", "conditional": ["teff", "logg"]}


def _labelled_spectra(n=3):
    spectra = [SpectrumFactory() for _ in range(n)]
    for spectrum in spectra:
        LabelsFactory(star=spectrum.star)
    return spectra


def _ready(spectra, **kwargs):
    version = ModelVersionFactory(state=State.READY, config=CONFIG, **kwargs)
    for spectrum in spectra:
        EmbeddingFactory(model_version=version, spectrum=spectrum)
    services.embedding_index_build(version=version)
    return version


def test_incomplete_version_cannot_be_activated():
    spectra = _labelled_spectra()
    version = ModelVersionFactory(state=State.READY, config=CONFIG)
    EmbeddingFactory(model_version=version, spectrum=spectra[0])
    with pytest.raises(services.RegistryError, match="incomplete: 1 of 3 spectra done, index not built"):
        services.activate(version=version)
    version.refresh_from_db()
    assert version.state == State.READY


def test_the_reason_is_written_with_the_switch_and_not_on_a_refusal():
    spectra = _labelled_spectra()
    incomplete = ModelVersionFactory(state=State.READY, config=CONFIG)
    TrainingRunFactory(model_version=incomplete)
    with pytest.raises(services.RegistryError):
        services.activate(version=incomplete, note="activated: gate passed")
    assert "activated" not in incomplete.latest_run.logs
    version = _ready(spectra)
    TrainingRunFactory(model_version=version)
    services.activate(version=version, note="activated: gate passed")
    assert version.latest_run.logs.endswith("activated: gate passed\n")


def test_activation_switches_and_rollback_restores():
    spectra = _labelled_spectra()
    first = services.activate(version=_ready(spectra))
    second = services.activate(version=_ready(spectra))
    first.refresh_from_db()
    assert (first.state, second.state) == (State.ARCHIVED, State.ACTIVE)
    assert ModelVersion.objects.filter(kind="disentangler", state=State.ACTIVE).count() == 1
    assert services.rollback(kind="disentangler") == first
    second.refresh_from_db()
    assert second.state == State.READY
    with pytest.raises(services.RegistryError, match="no earlier disentangler version"):
        services.rollback(kind="disentangler")


def test_training_version_cannot_be_activated():
    version = ModelVersionFactory(state=State.TRAINING, config=CONFIG)
    with pytest.raises(services.RegistryError, match="training, not ready"):
        services.activate(version=version)


def test_activation_gate_compares_with_active_metric():
    active = ModelVersionFactory(state=State.ACTIVE, metrics={"twin_recall_at_10": 0.5})
    gate = {"mode": "if_better", "metric": "twin_recall_at_10", "tolerance": 0.01}
    worse = ModelVersionFactory(state=State.READY, metrics={"twin_recall_at_10": 0.45}, config={"activation": gate})
    close = ModelVersionFactory(state=State.READY, metrics={"twin_recall_at_10": 0.495}, config={"activation": gate})
    assert services.activation_decision(version=worse)[0] is False
    assert "worse than the active version's 0.5" in services.activation_decision(version=worse)[1]
    assert services.activation_decision(version=close)[0] is True
    never = ModelVersionFactory(state=State.READY, config={"activation": {**gate, "mode": "never"}})
    assert services.activation_decision(version=never)[0] is False
    assert active.state == State.ACTIVE
