"""limit/offset pagination with a hard cap: no request can ask for an unbounded page, and a limit
or offset that is not a whole number in range is a 400 naming it (not silently the default).

A page's answer names its neighbours in a ``Link`` header too (RFC 8288: ``first``, ``prev``,
``next``), as well as in ``next`` and ``previous``.

``count`` is exact up to 10,000 results and the planner's estimate beyond; ``count_estimated``
says which (counting millions of rows for one page would cost more than the page).

A CSV or VOTable export (``?format=csv|votable`` or the Accept header) is the whole result, not a
page, streamed from ``offset`` (``portal.api.exports``; at most ``DOPPEL_EXPORT_MAX_ROWS`` rows)."""
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.utils.urls import remove_query_param

from catalog import selectors
from portal.api import exports

EXPORT_FORMATS = ("csv", "votable")


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

    def get_count(self, queryset) -> int:
        if not hasattr(queryset, "query"):  # a list
            self.count_estimated = False
            return len(queryset)
        counted = selectors.result_count(queryset)
        self.count_estimated = counted.estimated
        return counted.n

    def get_offset(self, request):
        return self._whole(request, self.offset_query_param, 0, None) or 0

    @staticmethod
    def exporting(request) -> bool:
        """Whether the request asks for the whole result as a file (CSV or VOTable)."""
        return getattr(getattr(request, "accepted_renderer", None), "format", None) in EXPORT_FORMATS

    def export(self, queryset, request, *, to_row, columns: dict[str, type], filename: str):
        """The whole result from ``offset`` as a streamed CSV or VOTable (``to_row``: item → dict)."""
        self._whole(request, self.limit_query_param, 1, self.max_limit)  # still refused when malformed
        rows, overflow = exports.rows_of(queryset, self.get_offset(request), to_row)
        return exports.response(rows, columns, request.accepted_renderer.format, overflow=overflow,
                                info={"request": request.get_full_path()}, filename=filename)

    def get_paginated_response(self, data):
        response = super().get_paginated_response(data)
        response.data["count_estimated"] = self.count_estimated
        links = [(self.get_next_link(), "next"), (self.get_previous_link(), "prev")]
        if self.offset:
            links.append((remove_query_param(self.request.build_absolute_uri(), self.offset_query_param), "first"))
        header = ", ".join(f'<{url}>; rel="{rel}"' for url, rel in links if url)
        if header:
            response["Link"] = header
        return response

    def get_paginated_response_schema(self, schema):
        described = super().get_paginated_response_schema(schema)
        described["properties"]["count"]["description"] = "exact up to 10,000 results, estimated beyond"
        described["properties"]["count_estimated"] = {"type": "boolean", "example": False,
                                                      "description": "whether count is the planner's estimate"}
        described["required"] = [*described.get("required", []), "count_estimated"]
        return described
