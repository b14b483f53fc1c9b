"""How long an ADQL query takes to parse and translate before it reaches PostgreSQL.

    python bench/tap.py [--rounds 3]

Each query is translated by queryparser as it ships (``ADQLQueryTranslator(...).to_postgresql()``,
then ``PostgreSQLQueryProcessor`` for the tables it reads; ANTLR's LL prediction) and by the
product's ``catalog.adql.translate`` (the same translator and processor, parsed in SLL mode first),
alternating, ``--rounds`` times (medians). Both must give the same PostgreSQL and the same tables,
or the script stops. The queries: the VO page's examples (``catalog.tap_schema.EXAMPLES``), a cone
with ``DISTANCE``, and the shapes that grow: ``IN`` lists, ``AND`` chains and nested parentheses.
No database is needed. Writes ``bench/out/tap.txt``.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time

from _django import OUT, ROOT, print_table

sys.path.insert(0, str(ROOT))

from catalog.adql import translate  # noqa: E402
from catalog.tap_schema import EXAMPLES  # noqa: E402


def queries() -> list[tuple[str, str]]:
    """(what it is, ADQL)."""
    shapes = [(title, adql) for title, adql in EXAMPLES]
    shapes.append(("cone by DISTANCE", "SELECT designation, DISTANCE(POINT('ICRS', ra, dec), POINT('ICRS', 150.0, 2.0)) "
                                       "AS sep FROM doppel.stars WHERE DISTANCE(POINT('ICRS', ra, dec), "
                                       "POINT('ICRS', 150.0, 2.0)) < 0.5 ORDER BY sep"))
    for n in (50, 200, 800):
        ids = ", ".join(str(1000 + k) for k in range(n))
        shapes.append((f"IN list of {n} star ids", f"SELECT designation, teff FROM doppel.stars WHERE star_id IN ({ids})"))
    for n in (10, 40):
        terms = " AND ".join(f"teff > {3000 + 10 * k}" for k in range(n))
        shapes.append((f"{n} conditions joined by AND", f"SELECT designation FROM doppel.stars WHERE {terms}"))
    shapes.append(("parentheses 10 deep", "SELECT designation FROM doppel.stars WHERE " + "(" * 10 + "teff > 4000" + ")" * 10))
    return shapes


def as_shipped(adql: str) -> tuple[str, list]:
    from queryparser.adql import ADQLQueryTranslator
    from queryparser.postgresql import PostgreSQLQueryProcessor

    sql = ADQLQueryTranslator(adql).to_postgresql().strip().rstrip(";")
    processor = PostgreSQLQueryProcessor()
    processor.set_query(sql)
    processor.process_query()
    return sql, [(schema, name) for schema, name in processor.tables]


def timed(function, adql: str) -> tuple[float, tuple]:
    started = time.perf_counter()
    out = function(adql)
    return time.perf_counter() - started, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    import logging

    logging.disable(logging.INFO)  # queryparser logs every parse step at INFO
    as_shipped("SELECT ra FROM doppel.stars"), translate("SELECT ra FROM doppel.stars")  # imports, first DFA states
    rows = []
    for title, adql in queries():
        shipped, product = [], []
        for round_ in range(args.rounds):
            pair = [(shipped, as_shipped), (product, translate)]
            for times, function in pair if round_ % 2 == 0 else pair[::-1]:
                seconds, out = timed(function, adql)
                times.append(seconds)
                if function is translate:
                    ours = out
                else:
                    theirs = out
            if ours != theirs:
                raise SystemExit(f"{title}: the two translations differ\n  queryparser: {theirs}\n  catalog.adql: {ours}")
        a, b = statistics.median(shipped), statistics.median(product)
        rows.append([title, len(adql), f"{a * 1000:,.0f}", f"{b * 1000:,.1f}", f"{a / b:,.0f}×", "yes"])
    text = print_table(f"ADQL → PostgreSQL, parse and translate, median of {args.rounds} (ms)",
                       ["query", "characters", "queryparser (LL)", "catalog.adql (SLL first)", "faster", "same SQL and tables"],
                       rows)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "tap.txt").write_text(text + "\n")


if __name__ == "__main__":
    main()
