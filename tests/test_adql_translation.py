"""ADQL → PostgreSQL (``catalog.adql``): the same PostgreSQL, tables and syntax errors as queryparser
as it ships, from parses in ANTLR's SLL mode (LL only where SLL reports an error)."""
import logging

import pytest
from antlr4.atn.PredictionMode import PredictionMode
from queryparser.adql import ADQLQueryTranslator
from queryparser.exceptions import QuerySyntaxError
from queryparser.postgresql import PostgreSQLQueryProcessor

from catalog import adql
from catalog.tap_schema import EXAMPLES

QUERIES = [
    EXAMPLES[0][1],  # a cone: CONTAINS, POINT, CIRCLE
    EXAMPLES[2][1],  # two joins, ORDER BY
    "SELECT TOP 5 s.designation, DISTANCE(POINT('ICRS', s.ra, s.dec), POINT('ICRS', 150.0, 2.0)) AS sep "
    "FROM doppel.stars AS s WHERE s.star_id IN (SELECT star_id FROM doppel.labels WHERE source = 'grid') ORDER BY sep",
    "SELECT table_name FROM TAP_SCHEMA.tables",
]


@pytest.fixture(autouse=True)
def _quiet():
    logging.disable(logging.INFO)  # queryparser logs every parse step
    yield
    logging.disable(logging.NOTSET)


def _as_shipped(query: str):
    sql = ADQLQueryTranslator(query).to_postgresql().strip().rstrip(";")
    processor = PostgreSQLQueryProcessor()
    processor.set_query(sql)
    processor.process_query()
    return sql, [(schema, name) for schema, name in processor.tables]


@pytest.mark.parametrize("query", QUERIES)
def test_the_translation_and_its_tables_are_queryparsers(query):
    assert adql.translate(query) == _as_shipped(query)


def test_a_valid_query_is_parsed_in_sll_mode_only():
    translator = adql._Translator(QUERIES[1])
    translator.to_postgresql()
    assert translator.parser._interp.predictionMode == PredictionMode.SLL
    tokens = adql.antlr4.CommonTokenStream(adql.PostgreSQLLexer(adql.antlr4.InputStream("SELECT 1;")))
    assert adql._SLLPostgreSQLParser(tokens)._interp.predictionMode == PredictionMode.SLL


def test_the_adql_is_parsed_once(monkeypatch):
    parses = []

    class Counting(adql.ADQLParser):
        def query(self):
            parses.append(self._interp.predictionMode)
            return super().query()

    monkeypatch.setattr(adql, "ADQLParser", Counting)
    adql.translate(QUERIES[0])
    assert parses == [PredictionMode.SLL]


@pytest.mark.parametrize("query", ["SELECT FROM doppel.stars", "SELECT ra FROM doppel.stars WHERE (ra > 1",
                                   "SELECT ra doppel.stars"])
def test_a_syntax_error_is_reported_as_queryparser_reports_it(query):
    with pytest.raises(QuerySyntaxError) as shipped:
        ADQLQueryTranslator(query)
    with pytest.raises(QuerySyntaxError) as ours:
        adql.translate(query)
    assert ours.value.syntax_errors == shipped.value.syntax_errors and ours.value.syntax_errors


def test_adql_that_sll_cannot_parse_is_parsed_again_in_ll(monkeypatch):
    modes = []

    class SLLFails(adql.ADQLParser):
        def query(self):
            if self._interp.predictionMode == PredictionMode.SLL:
                modes.append("SLL")
                self._listeners[0].syntaxError(self, self.getCurrentToken(), 1, 0, "SLL could not decide", None)
                return None
            modes.append("LL")
            return super().query()

    monkeypatch.setattr(adql, "ADQLParser", SLLFails)
    assert adql.translate(QUERIES[1]) == _as_shipped(QUERIES[1])
    assert modes[:2] == ["SLL", "LL"]


def test_sql_that_sll_cannot_parse_is_parsed_again_in_ll(monkeypatch):
    """Where the SLL processor reports an error, the tables come from queryparser's own (LL) processor."""
    modes = []

    class SLLFails(adql._SLLPostgreSQLParser):
        def query(self):
            modes.append("SLL")
            raise QuerySyntaxError([(1, 0, "SLL could not decide")])

    monkeypatch.setattr(adql, "_SLLPostgreSQLParser", SLLFails)
    assert adql.translate(QUERIES[1]) == _as_shipped(QUERIES[1]) and modes == ["SLL"]
