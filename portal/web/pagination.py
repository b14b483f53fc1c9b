"""Pages of long lists that never count a huge result in full."""
from __future__ import annotations

from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.utils.functional import cached_property

from catalog import selectors


class EstimatingPaginator(Paginator):
    """A paginator whose count is exact up to ``catalog.selectors.counts.EXACT_UP_TO`` rows and the
    planner's estimate beyond (then ``estimated`` is True and the page says "about")."""

    estimated = False

    @cached_property
    def count(self) -> int:
        if not isinstance(self.object_list, QuerySet):
            return len(self.object_list)
        counted = selectors.result_count(self.object_list)
        self.estimated = counted.estimated
        return counted.n
