"""Grid loads over parallel COPY streams: all the rows arrive (stars, spectra, labels, the star
columns the label triggers keep), and a failure in any stream or in the input leaves nothing
behind: no rows, no prepared transaction."""
import numpy as np
import pytest
from django.db import connection

from catalog import services
from catalog.ingest.records import BadInput
from catalog.models import Labels, Spectrum, Star
from ml.synth.gridbuilder import GridBatch

pytestmark = pytest.mark.django_db(transaction=True)  # each stream is its own connection and transaction


def _batches(n_batches: int, size: int = 50, prefix: str = "G", repeat_at: int | None = None):
    rng = np.random.default_rng(0)
    for b in range(n_batches):
        names = [f"{prefix}-{b}-{i}" for i in range(size)]
        if repeat_at == b:
            names[size // 2] = f"{prefix}-0-{size // 2}"  # a star of the first batch, mid-batch
        flux = rng.normal(1.0, 0.02, (size, 7214)).astype(np.float32)
        yield GridBatch(designation=names, group=np.arange(size) % 5, ra=rng.uniform(0, 360, size),
                        dec=rng.uniform(-60, 60, size),
                        labels={"teff": rng.uniform(4000, 5000, size), "logg": np.full(size, 2.0),
                                "fe_h": np.zeros(size), "alpha_fe": np.zeros(size), "Mn_Fe": np.full(size, 0.1)},
                        flux=flux, error=np.full_like(flux, 0.02), snr=50.0)


def _prepared() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_xacts WHERE gid LIKE 'doppel-grid-%%'")
        return cursor.fetchone()[0]


def test_two_streams_load_everything():
    progress = []
    assert services.grid_load(batches=_batches(6), survey_code="apogee", streams=2, on_batch=progress.append) == 300
    assert sum(progress) == 300
    assert Star.objects.count() == Spectrum.objects.count() == Labels.objects.count() == 300
    star = Star.objects.get(designation="G-3-7")
    assert star.teff is not None and star.teff == pytest.approx(star.labels.get().teff)  # the label triggers ran
    assert np.allclose(star.spectra.get().error_array, 0.02) and _prepared() == 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(DISTINCT xmin::text) FROM catalog_spectrum")
        assert cursor.fetchone()[0] == 2  # written by two transactions, committed together


def test_a_failing_stream_leaves_nothing(monkeypatch):
    from catalog.services import grids

    real, real_many, calls = grids._copy, grids._many_streams, []

    def fails_on_the_fourth(cursor, rows):
        calls.append(1)
        if len(calls) == 4:
            raise RuntimeError("the disk is full")
        return real(cursor, rows)

    monkeypatch.setattr(grids, "_copy", fails_on_the_fourth)
    streams = []
    monkeypatch.setattr(grids, "_many_streams", lambda *a, **kw: streams.append(a[-1]) or real_many(*a, **kw))
    with pytest.raises(RuntimeError, match="the disk is full"):
        services.grid_load(batches=_batches(8), survey_code="apogee", streams=2)
    assert streams == [2]
    assert Star.objects.count() == Spectrum.objects.count() == Labels.objects.count() == 0 and _prepared() == 0


def test_a_star_twice_in_the_grid_is_refused_before_anything_is_kept():
    with pytest.raises(BadInput, match="star G-0-25 appears twice in the grid"):
        services.grid_load(batches=_batches(4, repeat_at=2), survey_code="apogee", streams=2)
    assert Star.objects.count() == 0 and _prepared() == 0
    services.grid_load(batches=_batches(2), survey_code="apogee", streams=2)
    with pytest.raises(BadInput, match="grid already loaded: star G-0-0 exists"):
        services.grid_load(batches=_batches(2), survey_code="apogee", streams=2)
    assert Star.objects.count() == 100


def test_inside_a_callers_transaction_one_stream_writes_in_it():
    from django.db import transaction

    with pytest.raises(RuntimeError, match="changed my mind"), transaction.atomic():
        services.grid_load(batches=_batches(2), survey_code="apogee", streams=2)
        assert Star.objects.count() == 100  # visible inside: the caller's transaction
        raise RuntimeError("changed my mind")
    assert Star.objects.count() == 0
