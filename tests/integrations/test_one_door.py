"""The adapters use ``Memora``'s public API only: no store, no private engine module."""

from __future__ import annotations

import ast
from pathlib import Path

import memora_integrations

ALLOWED_ENGINE_MODULES = {
    "memora_engine",
    "memora_engine.schema",
    "memora_engine.errors",
    "memora_engine.filters",  # pure validation and semantics of metadata and filters, no store
    "memora_engine.sync_facade",
    "memora_engine.tracing",
}
STORE_ATTRIBUTES = {"graph", "graph_db", "vector_db"}
SOURCES = sorted(Path(memora_integrations.__file__).parent.rglob("*.py"))


def _engine_imports(tree: ast.AST) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name.split(".")[0] == "memora_engine"}


def test_adapters_import_only_public_engine_modules() -> None:
    """If this fails, an adapter imports a store or a private engine module: use Memora's
    public methods (or ask for the missing one in the engine)."""
    assert SOURCES
    bad = {
        f"{path.name}: {module}"
        for path in SOURCES
        for module in _engine_imports(ast.parse(path.read_text(encoding="utf-8")))
        if module not in ALLOWED_ENGINE_MODULES
    }
    assert not bad, sorted(bad)


def test_adapters_never_touch_a_store_attribute() -> None:
    """If this fails, an adapter reaches a store through ``.graph`` / ``.graph_db`` /
    ``.vector_db`` instead of Memora's public methods."""
    bad = {
        f"{path.name}:{node.lineno} .{node.attr}"
        for path in SOURCES
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Attribute) and node.attr in STORE_ATTRIBUTES
    }
    assert not bad, sorted(bad)
