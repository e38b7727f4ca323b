"""One door: the CLI reaches the engine only through ``Memora``'s public API.

If this fails, a CLI command imports a store module, a private engine module, or
touches a store attribute (``.graph`` / ``.graph_db`` / ``.vector_db``) of a Memora object: add
what it needs as a public, typed ``Memora`` method instead.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHECKED = [ROOT / "memora_engine" / "cli"]
FORBIDDEN_MODULES = (
    "memora_engine.graph_db",
    "memora_engine.vector_db",
    "memora_engine.recovery",
    "memora_engine.coordinator",
    "memora_engine.retrieval",
    "memora_engine.records_api",
    "memora_engine.tenants_api",
)
STORE_ATTRIBUTES = {"graph", "graph_db", "vector_db"}


def _sources() -> list[Path]:
    return sorted(p for folder in CHECKED for p in folder.rglob("*.py"))


def _violations(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[str] = []
    for node in ast.walk(tree):
        modules: list[str] = []
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules = [node.module]
        for module in modules:
            if module.startswith("memora_engine.cli"):
                continue  # the CLI's own modules
            private = any(part.startswith("_") for part in module.split(".")[1:])
            if module.startswith("memora_engine") and (
                private or module.startswith(FORBIDDEN_MODULES)
            ):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} imports {module}")
        if isinstance(node, ast.Attribute) and node.attr in STORE_ATTRIBUTES:
            found.append(f"{path.relative_to(ROOT)}:{node.lineno} touches .{node.attr}")
    return found


def test_sources_are_checked() -> None:
    """If this fails, the checked folders moved: update CHECKED."""
    assert len(_sources()) > 10


@pytest.mark.parametrize("path", _sources(), ids=lambda p: str(p.relative_to(ROOT)))
def test_cli_uses_only_the_public_api(path: Path) -> None:
    assert _violations(path) == []
