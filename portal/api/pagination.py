"""limit/offset pagination with a hard cap: no request can ask for an unbounded page, and a limit
or offset that is not a whole number in range is a 400 naming it (not silently the default).

A page's answer names its neighbours in a ``Link`` header too (RFC 8288: ``first``, ``prev``,
``next``), as well as in ``next`` and ``previous``.

``count`` is exact up to 10,000 results and the planner's estimate beyond; ``count_estimated``
says which (counting millions of rows for one page would cost more than the page).

Star searches also page by key (``StarPagination``): ``after`` is an opaque cursor naming the last
star of the previous page, and once offsets get deep (past 10,000) ``next`` hands one out, so a
client walking a million stars never makes the server count past them.

A CSV or VOTable export (``?format=csv|votable`` or the Accept header) is the whole result, not a
page, streamed from ``offset`` (``portal.api.exports``; at most ``DOPPEL_EXPORT_MAX_ROWS`` rows)."""
import base64
import json

from rest_framework.exceptions import ValidationError
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.utils.urls import remove_query_param, replace_query_param

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


class StarPagination(BoundedPagination):
    """``BoundedPagination`` plus keyset pages (``catalog.selectors.stars_after``) for star
    searches. The view sets ``order`` (the search's sort) before paginating."""

    after_query_param = "after"
    deep = 10_000  # an offset from which ``next`` is a cursor
    order = "designation"

    def paginate_queryset(self, queryset, request, view=None):
        token = request.query_params.get(self.after_query_param)
        self.after = None
        if token is None and self.get_offset(request):
            self.page = super().paginate_queryset(queryset, request, view)
            return self.page
        if token is not None and request.query_params.get(self.offset_query_param) not in (None, ""):
            raise ValidationError({self.after_query_param: "give after or offset, not both"})
        self.request, self.limit, self.offset = request, self.get_limit(request), 0 if token is None else None
        self.after = None if token is None else self._decode(token)
        self.count = self.get_count(queryset)
        self.display_page_controls = self.count > self.limit and self.template is not None
        # the first page too: the same stars as the offset's, found through the sort's index
        self.page = selectors.stars_after(queryset, self.order, self.after, self.limit) if self.count else []
        return self.page

    def _decode(self, token: str) -> tuple:
        try:
            order, value, pk = json.loads(base64.urlsafe_b64decode(token.encode() + b"=" * (-len(token) % 4)))
            if not isinstance(pk, int) or not (value is None or isinstance(value, (int, float, str))):
                raise ValueError
        except (ValueError, TypeError, json.JSONDecodeError):
            raise ValidationError({self.after_query_param: "not a cursor this API handed out (take it from next)"}) from None
        if order != self.order:
            raise ValidationError({self.after_query_param: f"this cursor pages a search sorted by {order!r}, "
                                                           f"not {self.order!r}"})
        return value, pk

    def _encode(self, star) -> str:
        value, pk = selectors.sort_key(star, self.order)
        return base64.urlsafe_b64encode(json.dumps([self.order, value, pk]).encode()).decode().rstrip("=")

    def _cursor_link(self) -> str | None:
        if len(self.page) < self.limit:
            return None
        url = remove_query_param(self.request.build_absolute_uri(), self.offset_query_param)
        return replace_query_param(url, self.after_query_param, self._encode(self.page[-1]))

    def get_next_link(self):
        if self.after is not None:
            return self._cursor_link()
        if self.offset + self.limit >= self.deep and self.page:
            return self._cursor_link()
        return super().get_next_link()

    def get_previous_link(self):
        return None if self.after is not None else super().get_previous_link()

    def get_paginated_response(self, data):
        response = super().get_paginated_response(data)
        if self.after is not None:  # the first page, by the same search
            first = remove_query_param(self.request.build_absolute_uri(), self.after_query_param)
            response["Link"] = ", ".join(filter(None, [response.get("Link"), f'<{first}>; rel="first"']))
        return response

    def get_schema_operation_parameters(self, view):
        return [*super().get_schema_operation_parameters(view), {
            "name": self.after_query_param, "required": False, "in": "query",
            "description": "a cursor from a previous page's next link: the page after it, found by key, not offset",
            "schema": {"type": "string"}}]
