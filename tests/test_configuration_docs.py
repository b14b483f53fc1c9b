"""docs/configuration.md and the code name the same environment variables: one read but not
documented, or documented but never read, fails here."""
import ast
import re

from tests.conftest import ROOT

PRODUCT = ("portal", "catalog", "tasks", "ml")
READERS = {"envstr", "envbool", "envint", "envfloat", "envlist"}


def _name(node: ast.AST) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def variables_read(source: str) -> set[str]:
    """Names passed to portal.env's readers, to os.environ.get / os.getenv, or used as os.environ[...]."""
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and node.args:
            function = node.func
            called = function.id if isinstance(function, ast.Name) else getattr(function, "attr", "")
            target = ast.unparse(function)
            if called in READERS or target in ("os.environ.get", "os.getenv"):
                names.add(_name(node.args[0]))
        elif isinstance(node, ast.Subscript) and ast.unparse(node.value) == "os.environ" and isinstance(node.ctx, ast.Load):
            names.add(_name(node.slice))
    return names - {None}


def code_variables() -> set[str]:
    names = set()
    for package in PRODUCT:
        for path in (ROOT / package).rglob("*.py"):
            if path.name != "env.py":  # the readers themselves
                names |= variables_read(path.read_text())
    return names


def documented_variables() -> set[str]:
    table = (ROOT / "docs/configuration.md").read_text()
    return set(re.findall(r"^\| `([A-Z][A-Z0-9_]+)` \|", table, flags=re.MULTILINE))


def test_every_variable_read_is_documented_and_every_documented_one_is_read():
    read, documented = code_variables(), documented_variables()
    assert "DATABASE_URL" in read and "DOPPEL_VAR" in read  # the scan sees settings.py and embedded.py
    assert read - documented == set(), "read by the code but missing from docs/configuration.md"
    assert documented - read == set(), "documented in docs/configuration.md but read nowhere"


def test_the_scan_finds_each_way_of_reading_a_variable():
    source = ("import os\nfrom portal.env import envint\nA = envint('DOPPEL_A', 1)\n"
              "B = os.environ.get('DOPPEL_B')\nC = os.environ['DOPPEL_C']\nos.environ.setdefault('NOT_READ', 'x')\n")
    assert variables_read(source) == {"DOPPEL_A", "DOPPEL_B", "DOPPEL_C"}
