"""How many rows a query returns, without counting millions: exact up to a limit, the planner's
estimate beyond it (what PostgreSQL's EXPLAIN expects the query to return)."""
from __future__ import annotations

import json
from dataclasses import dataclass

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import QuerySet

EXACT_UP_TO = 10_000  # results up to this size are counted exactly (reading at most this many rows)


@dataclass(frozen=True)
class ResultCount:
    n: int
    estimated: bool  # True: more than EXACT_UP_TO rows; ``n`` is the planner's estimate


def result_count(queryset: QuerySet, exact_up_to: int = EXACT_UP_TO) -> ResultCount:
    """The number of rows of ``queryset``: exact when at most ``exact_up_to``, else estimated (and
    never below ``exact_up_to + 1``, which is known)."""
    query = queryset.order_by()  # the order does not change the count, and costs a sort
    try:
        sql, params = query.query.sql_with_params()
    except EmptyResultSet:  # e.g. .none(): nothing to ask the database
        return ResultCount(0, estimated=False)
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM ({sql} LIMIT {int(exact_up_to) + 1}) counted", params)
        n = int(cursor.fetchone()[0])
        if n <= exact_up_to:
            return ResultCount(n, estimated=False)
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    plan = json.loads(plan) if isinstance(plan, str) else plan
    return ResultCount(max(int(plan[0]["Plan"]["Plan Rows"]), exact_up_to + 1), estimated=True)
