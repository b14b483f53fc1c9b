"""The database itself rejects rows that break the catalog's rules."""
import pytest
from django.db import IntegrityError, transaction

from catalog.models import ModelVersion
from tests.factories import (
    BHBScoreFactory, ModelVersionFactory, SpectrumFactory, StarFactory,
)

pytestmark = pytest.mark.django_db


def _rejected(make):
    with pytest.raises(IntegrityError), transaction.atomic():
        make()


def test_second_active_model_of_a_kind_is_rejected():
    ModelVersionFactory(state=ModelVersion.State.ACTIVE)
    _rejected(lambda: ModelVersionFactory(state=ModelVersion.State.ACTIVE))


def test_one_active_model_per_kind_allows_other_kinds_and_states():
    ModelVersionFactory(state=ModelVersion.State.ACTIVE)
    ModelVersionFactory(state=ModelVersion.State.ACTIVE, kind=ModelVersion.Kind.BHB)
    ModelVersionFactory(state=ModelVersion.State.ARCHIVED)
    ModelVersionFactory(state=ModelVersion.State.ARCHIVED)
    assert ModelVersion.objects.filter(state="active").count() == 2


@pytest.mark.parametrize("dec", [-90.0001, 90.5, 123.0])
def test_out_of_range_dec_is_rejected(dec):
    _rejected(lambda: StarFactory(dec=dec))


@pytest.mark.parametrize("ra", [-0.1, 360.0, 400.0])
def test_out_of_range_ra_is_rejected(ra):
    _rejected(lambda: StarFactory(ra=ra))


def test_boundary_coordinates_are_accepted():
    StarFactory(ra=0.0, dec=-90.0)
    StarFactory(ra=359.999999, dec=90.0)


def test_duplicate_spectrum_is_rejected():
    spectrum = SpectrumFactory(source_key="HDU1")
    _rejected(lambda: SpectrumFactory(star=spectrum.star, survey=spectrum.survey, source_key="HDU1"))


def test_same_star_other_source_key_is_a_new_spectrum():
    spectrum = SpectrumFactory(source_key="HDU1")
    SpectrumFactory(star=spectrum.star, survey=spectrum.survey, source_key="HDU2")


@pytest.mark.parametrize("score", [-0.01, 1.01])
def test_bhb_score_outside_unit_interval_is_rejected(score):
    _rejected(lambda: BHBScoreFactory(score=score))


def test_duplicate_designation_is_rejected():
    StarFactory(designation="2M00000001+0000001")
    _rejected(lambda: StarFactory(designation="2M00000001+0000001"))
