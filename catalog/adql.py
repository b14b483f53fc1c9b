"""ADQL → PostgreSQL through queryparser, parsed in ANTLR's SLL prediction mode first.

queryparser's parsers predict in ANTLR's full LL mode, which in the Python runtime takes a good
fraction of a second for an ordinary query and grows with its length (tens of milliseconds per
element of an ``IN`` list) before any statement timeout applies. SLL prediction parses the same
queries in milliseconds, and where it finishes without a syntax error its tree is the one LL
builds (ANTLR's guarantee for ``PredictionMode.SLL``). A query SLL reports an error in is parsed
again in LL, so a real syntax error is reported exactly as queryparser reports it. The
translation itself is queryparser's; ``bench/tap.py`` times both parses and checks that they give
the same PostgreSQL.
"""
from __future__ import annotations

import antlr4
from antlr4.atn.PredictionMode import PredictionMode
from antlr4.error.ErrorListener import ErrorListener
from queryparser.adql import ADQLQueryTranslator
from queryparser.adql.ADQLLexer import ADQLLexer
from queryparser.adql.ADQLParser import ADQLParser
from queryparser.common import SQLQueryProcessor
from queryparser.exceptions import QuerySyntaxError
from queryparser.postgresql import PostgreSQLQueryProcessor
from queryparser.postgresql.PostgreSQLLexer import PostgreSQLLexer
from queryparser.postgresql.PostgreSQLParser import PostgreSQLParser
from queryparser.postgresql.PostgreSQLParserListener import PostgreSQLParserListener


class _Errors(ErrorListener):
    """Collects syntax errors as queryparser reports them: (line, column, offending text)."""

    def __init__(self):
        super().__init__()
        self.syntax_errors: list[tuple[int, int, str]] = []

    def syntaxError(self, recognizer, offendingSymbol, line, column, msg, e):  # noqa: N802 (ANTLR's name)
        self.syntax_errors.append((line, column, offendingSymbol.text))


class _Translator(ADQLQueryTranslator):
    """queryparser's ADQL translator with a parse that tries SLL prediction before LL, run once:
    by ``to_postgresql`` (queryparser's also parses when the query is set)."""

    def set_query(self, query):
        self._query = query.lstrip("\n").rstrip().rstrip(";") + ";"  # queryparser's normalisation

    def parse(self):
        for mode in (PredictionMode.SLL, PredictionMode.LL):
            self.stream = antlr4.CommonTokenStream(ADQLLexer(antlr4.InputStream(self.query)))
            self.parser = ADQLParser(self.stream)
            self.syntax_error_listener = _Errors()
            self.parser._listeners = [self.syntax_error_listener]
            self.parser._interp.predictionMode = mode
            self.tree = self.parser.query()
            if not self.syntax_error_listener.syntax_errors:
                break
        else:
            raise QuerySyntaxError(self.syntax_error_listener.syntax_errors)
        self.walker = antlr4.ParseTreeWalker()


class _SLLPostgreSQLParser(PostgreSQLParser):
    """queryparser's PostgreSQL parser predicting in SLL mode."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._interp.predictionMode = PredictionMode.SLL


def _tables(sql: str) -> list[tuple[str | None, str]]:
    """The (schema or None, table) pairs the PostgreSQL ``sql`` reads, by queryparser's processor:
    parsed in SLL mode, and again in LL where SLL reports a syntax error."""
    processor = SQLQueryProcessor(PostgreSQLLexer, _SLLPostgreSQLParser, PostgreSQLParserListener, '"')
    processor.set_query(sql)  # given to the constructor, the query would be processed there
    try:
        processor.process_query()
    except QuerySyntaxError:
        processor = PostgreSQLQueryProcessor()
        processor.set_query(sql)
        processor.process_query()
    return [(schema, name) for schema, name in processor.tables]


def translate(adql: str) -> tuple[str, list[tuple[str | None, str]]]:
    """(the PostgreSQL of ``adql``, the (schema or None, table) pairs it reads). Raises
    queryparser's ``QuerySyntaxError`` and ``QueryError`` as its own translator does. Tables of
    the ``TAP_UPLOAD`` schema are read from the session's temporary schema, ``pg_temp``."""
    sql = _Translator(_uploads_in_temporary_schema(adql)).to_postgresql().strip().rstrip(";")
    return sql, _tables(sql)


def _uploads_in_temporary_schema(adql: str) -> str:
    """``adql`` with each ``TAP_UPLOAD.`` schema name (any case, quoted or not) written
    ``pg_temp.``, where an upload's temporary table lives; found among the lexer's tokens, so a
    string or a column that happens to read TAP_UPLOAD is left alone."""
    if "tap_upload" not in adql.lower():  # most queries: no second pass of the lexer
        return adql
    tokens = antlr4.CommonTokenStream(ADQLLexer(antlr4.InputStream(adql)))
    tokens.fill()
    visible = [token for token in tokens.tokens if token.channel == antlr4.Token.DEFAULT_CHANNEL]
    spans = [(token.start, token.stop) for token, after in zip(visible, visible[1:])
             if token.text.strip('"').lower() == "tap_upload" and after.text == "."]
    for start, stop in reversed(spans):
        adql = adql[:start] + "pg_temp" + adql[stop + 1:]
    return adql
