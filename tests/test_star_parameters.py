"""A star's preferred labels are columns kept in step with Labels by the database: on insert
(COPY included), update and delete, with aspcap before grid before synthetic; a search filters and
sorts on them without a subquery per star, and saving a stale star never writes them back."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog import selectors
from catalog.models import Labels, Star
from catalog.selectors.stars import LABEL_PREFERENCE
from tests.factories import LabelsFactory, StarFactory

pytestmark = pytest.mark.django_db


def _parameters(star) -> tuple:
    return tuple(Star.objects.filter(pk=star.pk).values_list("teff", "logg", "fe_h", "alpha_fe").get())


def test_labels_written_any_way_reach_the_star_in_order_of_preference():
    star = StarFactory()
    stale = Star.objects.get(pk=star.pk)  # read before any label arrives
    LabelsFactory(star=star, source="synthetic", teff=6000.0, logg=4.0, fe_h=0.0, alpha_fe=0.0)
    assert _parameters(star) == (6000.0, 4.0, 0.0, 0.0)
    LabelsFactory(star=star, source="grid", teff=5000.0, logg=2.5, fe_h=-0.5, alpha_fe=0.2)
    assert _parameters(star)[0] == 5000.0  # grid before synthetic
    with connection.cursor() as cursor:  # a raw write, as a COPY or another program would make it
        cursor.execute("INSERT INTO catalog_labels (star_id, source, teff, logg, fe_h, alpha_fe, abundances, abundance_errors) "
                       "VALUES (%s, 'aspcap', 4800, 2.2, -0.3, 0.1, '{}', '{}')", [star.pk])
    assert _parameters(star) == (4800.0, 2.2, -0.3, 0.1)
    Labels.objects.filter(star=star, source="aspcap").update(teff=4750.0)
    assert _parameters(star)[0] == 4750.0
    Labels.objects.filter(star=star, source__in=["aspcap", "grid"]).delete()
    assert _parameters(star)[0] == 6000.0
    stale.ra = 12.5
    stale.save()  # its stale (empty) copy of the labels must not overwrite the columns
    assert _parameters(star)[0] == 6000.0 and Star.objects.get(pk=star.pk).ra == 12.5
    Labels.objects.filter(star=star).delete()
    assert _parameters(star) == (None, None, None, None)
    assert LABEL_PREFERENCE == ("aspcap", "grid", "synthetic")  # the order the trigger applies


def test_a_parameter_search_has_no_subquery_per_star():
    for teff in (4500.0, 5000.0, 5500.0):
        LabelsFactory(star=StarFactory(), source="grid", teff=teff, logg=2.0, fe_h=0.0, alpha_fe=0.0)
    with CaptureQueriesContext(connection) as queries:
        stars = list(selectors.stars_search(selectors.StarQuery(teff=(4800.0, None), order="-teff")))
    assert [s.teff for s in stars] == [5500.0, 5000.0]
    search = queries.captured_queries[-1]["sql"]
    assert "catalog_labels" not in search and search.upper().count("SELECT") == 1, search
