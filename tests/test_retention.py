"""Retention: the active version and the last N archived ones keep their embeddings, index and
artifact (rollback works); older archived versions become pruned and, with failed ones, lose their
rows, index, files and stored artifact (kept while another version names the same bytes), and this
host's copies of released artifacts go; the snapshot cache stays under its size by evicting the
least recently used."""
import os
import time
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from catalog import services
from catalog.models import Artifact, BHBScore, Embedding, ModelVersion
from tests.factories import BHBScoreFactory, EmbeddingFactory, ModelVersionFactory, SpectrumFactory

State = ModelVersion.State


def _index_exists(version) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_class WHERE relname = %s", [version.index_name])
        return cursor.fetchone() is not None


def _version(tmp_path, state, age_days, spectra):
    version = ModelVersionFactory(state=state, activated_at=timezone.now() - timedelta(days=age_days))
    folder = tmp_path / f"v{version.pk}"
    folder.mkdir()
    (folder / "model.pt").write_bytes(f"weights of v{version.pk}".encode())
    (folder / "checkpoint.pt").write_bytes(b"checkpoint")
    version.artifact = services.artifact_store(folder / "model.pt")
    version.save()
    copy = tmp_path / "blobs" / f"{version.artifact}.pt"  # this host's copy, as loading leaves it
    copy.parent.mkdir(exist_ok=True)
    copy.write_bytes(b"copy")
    for spectrum in spectra:
        EmbeddingFactory(model_version=version, spectrum=spectrum)
    services.embedding_index_build(version=version)
    return version


@pytest.mark.django_db(transaction=True)
def test_old_archived_and_failed_versions_lose_their_outputs(tmp_path):
    spectra = [SpectrumFactory() for _ in range(5)]
    active = _version(tmp_path, State.ACTIVE, 0, spectra)
    archived = [_version(tmp_path, State.ARCHIVED, days, spectra) for days in (1, 2, 3, 4)]  # newest first
    failed = _version(tmp_path, State.FAILED, 5, spectra[:2])
    bhb_old = ModelVersionFactory(kind="bhb", state=State.ARCHIVED, activated_at=timezone.now() - timedelta(days=9))
    BHBScoreFactory(model_version=bhb_old)

    report = services.versions_prune(keep_archived=2, artifact_root=tmp_path)

    assert sorted(report.pruned) == sorted([archived[2].pk, archived[3].pk, failed.pk])  # bhb_old: within its kind's 2
    for version in (active, *archived[:2]):
        version.refresh_from_db()
        assert Embedding.objects.filter(model_version=version).count() == 5 and _index_exists(version)
        assert version.artifact and (tmp_path / f"v{version.pk}" / "model.pt").exists()
        assert Artifact.objects.filter(sha256=version.artifact).exists()
        assert (tmp_path / "blobs" / f"{version.artifact}.pt").exists()
    for version in (*archived[2:], failed):
        released = version.artifact
        version.refresh_from_db()
        assert not Embedding.objects.filter(model_version=version).exists() and not _index_exists(version)
        assert version.artifact == "" and not (tmp_path / f"v{version.pk}").exists()
        assert not Artifact.objects.filter(sha256=released).exists()
        assert not (tmp_path / "blobs" / f"{released}.pt").exists()
    assert report.copies_removed == 3
    assert [v.state for v in ModelVersion.objects.filter(pk__in=[a.pk for a in archived[2:]])] == [State.PRUNED] * 2
    assert ModelVersion.objects.get(pk=failed.pk).state == State.FAILED and BHBScore.objects.count() == 1
    assert report.rows_deleted == 12

    assert services.rollback(kind="disentangler").pk == archived[0].pk  # the kept ones still roll back
    assert services.versions_prune(keep_archived=2, artifact_root=tmp_path).pruned == []  # nothing left to do


@pytest.mark.django_db
def test_an_artifact_two_versions_share_stays_while_one_names_it(tmp_path):
    (tmp_path / "model.pt").write_bytes(b"the same weights")
    digest = services.artifact_store(tmp_path / "model.pt")
    assert services.artifact_store(tmp_path / "model.pt") == digest  # stored once
    kept = ModelVersionFactory(state=State.ARCHIVED, activated_at=timezone.now(), artifact=digest)
    ModelVersionFactory(state=State.FAILED, artifact=digest)
    assert services.versions_prune(keep_archived=1, artifact_root=tmp_path).pruned != []
    assert Artifact.objects.filter(sha256=digest).exists() and ModelVersion.objects.get(pk=kept.pk).artifact == digest


@pytest.mark.django_db
def test_the_prune_command_reports(tmp_path, settings):
    settings.ARTIFACT_ROOT, settings.KEEP_ARCHIVED = tmp_path, 0
    ModelVersionFactory(state=State.ARCHIVED, activated_at=timezone.now(), artifact=str(tmp_path / "gone.pt"))
    out = StringIO()
    call_command("prune", stdout=out)
    assert "pruned 1 version(s)" in out.getvalue()


def _snapshot(root, name, size, age_s):
    folder = root / "datasets" / name
    folder.mkdir(parents=True)
    (folder / "flux.npy").write_bytes(b"\0" * size)
    marker = folder / "complete"
    marker.touch()
    stamp = time.time() - age_s
    os.utime(marker, (stamp, stamp))
    return folder


def test_the_snapshot_cache_evicts_the_least_recently_used(tmp_path):
    old, used, new = (_snapshot(tmp_path, name, 1_000_000, age) for name, age in (("old", 300), ("used", 200), ("new", 100)))
    os.utime(used / "complete")  # read just now (services.datasets touches the marker on load)
    evicted = services.snapshots_prune(cache_root=tmp_path, max_bytes=2_500_000)
    assert evicted == ["old"] and used.exists() and new.exists()
    assert services.snapshots_prune(cache_root=tmp_path, max_bytes=0, keep="used") == ["new"] and used.exists()
