"""limit/offset pagination with a hard cap: no request can ask for an unbounded page."""
from rest_framework.pagination import LimitOffsetPagination


class BoundedPagination(LimitOffsetPagination):
    default_limit = 50
    max_limit = 1000
