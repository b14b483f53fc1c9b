"""limit/offset pagination with a hard cap: no request can ask for an unbounded page, and a limit
or offset that is not a whole number in range is a 400 naming it (not silently the default).

A CSV or VOTable export (``?format=csv|votable`` or the Accept header) is the whole result, not a
page: up to ``EXPORT_MAX`` rows from ``offset``, with ``overflow`` true (and in a VOTable,
``QUERY_STATUS = OVERFLOW``) when there were more."""
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.response import Response

EXPORT_FORMATS = ("csv", "votable")
EXPORT_MAX = 100_000


class BoundedPagination(LimitOffsetPagination):
    default_limit = 50
    max_limit = 1000

    def _whole(self, request, name: str, low: int, high: int | None):
        raw = request.query_params.get(name)
        if raw in (None, ""):
            return None
        try:
            value = int(raw)
        except ValueError:
            raise ValidationError({name: f"not a whole number: {raw!r}"}) from None
        if value < low or (high is not None and value > high):
            raise ValidationError({name: f"must be between {low} and {high}" if high else f"must be {low} or more"})
        return value

    def get_limit(self, request):
        limit = self._whole(request, self.limit_query_param, 1, self.max_limit)
        return self.default_limit if limit is None else limit

    def get_offset(self, request):
        return self._whole(request, self.offset_query_param, 0, None) or 0

    def paginate_queryset(self, queryset, request, view=None):
        renderer = getattr(request, "accepted_renderer", None)
        self.export = getattr(renderer, "format", None) in EXPORT_FORMATS
        if not self.export:
            return super().paginate_queryset(queryset, request, view)
        self._whole(request, self.limit_query_param, 1, self.max_limit)  # still refused when malformed
        offset = self.get_offset(request)
        rows = list(queryset[offset : offset + EXPORT_MAX + 1])
        self.overflow = len(rows) > EXPORT_MAX
        return rows[:EXPORT_MAX]

    def get_paginated_response(self, data):
        if getattr(self, "export", False):
            return Response({"overflow": self.overflow, "rows": len(data), "results": data})
        return super().get_paginated_response(data)
