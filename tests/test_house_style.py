"""Domain packages (chemistry, parsers, analyses) stay free of Django."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PURE_PACKAGES = ["synthesis/chemistry", "characterization/parsers", "characterization/analysis"]
PURE_MODULES = [
    "lims/graph_layout.py",
    "lims/rocrate.py",
    "lims/tabular.py",
    "characterization/harvest_paths.py",
]


def imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("package", PURE_PACKAGES)
def test_domain_package_never_imports_django(package):
    files = sorted((REPO / package).rglob("*.py"))
    assert files, f"{package} has no modules"
    offenders = {
        str(f.relative_to(REPO)): sorted(
            m
            for m in imported_modules(f)
            if m.split(".")[0] in {"django", "rest_framework", "celery", "lims"}
        )
        for f in files
    }
    assert {f: m for f, m in offenders.items() if m} == {}


@pytest.mark.parametrize("module", PURE_MODULES)
def test_pure_module_never_imports_django(module):
    imports = imported_modules(REPO / module)
    assert not {m for m in imports if m.split(".")[0] in {"django", "rest_framework", "lims"}}
