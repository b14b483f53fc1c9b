"""The layers of docs/architecture.md, checked on the source: catalog never imports tasks or portal,
ml never imports Django or research, research stays out of the wheel, product files stay small."""
import ast
import tomllib

import pytest

from tests.conftest import ROOT

MAX_LINES = 450


def imported_modules(package: str) -> dict[str, set[str]]:
    """{file: top-level names it imports} for every .py file under ``package``."""
    found = {}
    for path in (ROOT / package).rglob("*.py"):
        names = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module.split(".")[0])
        found[str(path.relative_to(ROOT))] = names
    return found


@pytest.mark.parametrize("package, forbidden", [("catalog", {"tasks", "portal", "research"}),
                                                ("ml", {"django", "rest_framework", "celery", "catalog", "portal",
                                                        "tasks", "research"}),
                                                ("tasks", {"portal", "research"}), ("portal", {"research"})])
def test_imports_go_one_way(package, forbidden):
    offenders = {path: sorted(names & forbidden) for path, names in imported_modules(package).items() if names & forbidden}
    assert offenders == {}


def test_research_is_not_packaged_and_xgboost_is_an_extra():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    packages = project["tool"]["setuptools"]["packages"]["find"]["include"]
    assert not any(pattern.startswith("research") for pattern in packages)
    assert not any(dependency.startswith("xgboost") for dependency in project["project"]["dependencies"])
    assert any(dependency.startswith("xgboost") for dependency in project["project"]["optional-dependencies"]["research"])


def test_product_files_stay_small():
    sizes = {str(path.relative_to(ROOT)): len(path.read_text().splitlines())
             for package in ("ml", "catalog", "tasks", "portal") for path in (ROOT / package).rglob("*.py")
             if "migrations" not in path.parts}
    assert {path: n for path, n in sizes.items() if n > MAX_LINES} == {}
