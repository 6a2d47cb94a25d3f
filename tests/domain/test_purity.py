"""The domain imports nothing but the standard library and itself."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import bank_api.domain

DOMAIN_DIR = Path(bank_api.domain.__file__).parent


def _imported_modules(path: Path) -> set[str]:
    modules: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules.add(node.module)
    return modules


def _allowed(module: str) -> bool:
    top = module.partition(".")[0]
    return top in sys.stdlib_module_names or module.startswith("bank_api.domain")


def test_domain_imports_only_stdlib_and_itself() -> None:
    files = sorted(DOMAIN_DIR.glob("*.py"))
    assert len(files) >= 10
    offending = {
        f"{path.name}: {module}"
        for path in files
        for module in _imported_modules(path)
        if not _allowed(module)
    }
    assert offending == set()


def test_import_walker_sees_third_party_imports(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("import os\nfrom pydantic import BaseModel\nfrom . import sibling\n")
    modules = _imported_modules(sample)
    assert modules == {"os", "pydantic"}
    assert [m for m in sorted(modules) if not _allowed(m)] == ["pydantic"]
