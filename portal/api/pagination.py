"""limit/offset pagination with a hard cap: no request can ask for an unbounded page, and a limit
or offset that is not a whole number in range is a 400 naming it (not silently the default)."""
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import LimitOffsetPagination


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
