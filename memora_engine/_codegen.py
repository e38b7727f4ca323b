"""Generate the blocking twins of Memora's async API (``memora_engine/_sync_generated.py``).

Run ``python -m memora_engine._codegen`` after adding or changing a public coroutine method of
:class:`~memora_engine.memora.Memora` (or of one of its bases) or of
:class:`~memora_engine.graph_compat.GraphNamespace`; ``tests/test_sync_facade.py`` fails while
the generated module is stale.

Each twin copies its coroutine's parameters exactly (names, kinds, defaults and annotations, as
source text read with :mod:`ast`), so mypy shows the real signatures, and runs the coroutine on
the portal: there is no hand-written copy that could drift. The imports the annotations need are
looked up in the module that defines each method.
"""

from __future__ import annotations

import argparse
import ast
import builtins
import importlib
import inspect
import sys
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["TARGET", "TWINS", "Twin", "public_coroutine_methods", "render"]

#: Where the generated module is written.
TARGET = Path(__file__).with_name("_sync_generated.py")

#: Methods that stay hand-written in :mod:`memora_engine.sync_facade` (construction, lifecycle).
SKIPPED = frozenset({"embedded", "from_settings", "setup", "close"})

_LINE = 100
_INDENT = "    "


@dataclass(frozen=True)
class Twin:
    """One generated class: the blocking twin of an async class."""

    name: str
    module: str
    source: str
    summary: str


TWINS = (
    Twin(
        "SyncMemoraMethods",
        "memora_engine.memora",
        "Memora",
        "Blocking twins of every public coroutine method of ``Memora`` (the base of SyncMemora).",
    ),
    Twin(
        "SyncGraphNamespace",
        "memora_engine.graph_compat",
        "GraphNamespace",
        "Blocking ``memora.graph``: the original graph method names, run on the portal.",
    ),
)


def public_coroutine_methods(cls: type) -> dict[str, Callable[..., Any]]:
    """Public coroutine methods of ``cls`` and its bases, own first, then in MRO order.

    Dunders, ``_private`` names and :data:`SKIPPED` are left out.
    """
    found: dict[str, Callable[..., Any]] = {}
    for klass in cls.__mro__[:-1]:
        for name in vars(klass):
            if name.startswith("_") or name in SKIPPED or name in found:
                continue
            method = getattr(cls, name)
            if inspect.iscoroutinefunction(method):
                found[name] = method
    return found


def render() -> str:
    """The full text of the generated module."""
    imports = _Imports()
    imports.add("memora_engine.sync", "EventLoopPortal")
    classes: list[str] = []
    for twin in TWINS:
        source_cls = getattr(importlib.import_module(twin.module), twin.source)
        imports.add(twin.module, twin.source)
        methods = [
            _render_method(twin.source, name, method, imports)
            for name, method in public_coroutine_methods(source_cls).items()
        ]
        classes.append(_render_class(twin, methods))
    header = (
        '"""Blocking twins of Memora\'s async API. GENERATED: do not edit.\n\n'
        "Regenerate with ``python -m memora_engine._codegen`` (see :mod:`memora_engine._codegen`).\n"
        '"""\n\n'
        "from __future__ import annotations\n\n"
    )
    names = ", ".join(f'"{name}"' for name in sorted(t.name for t in TWINS))
    return header + imports.render() + f"\n__all__ = [{names}]\n\n\n" + "\n\n".join(classes)


def _render_class(twin: Twin, methods: list[str]) -> str:
    head = (
        f"class {twin.name}:\n"
        f'{_INDENT}"""{twin.summary}"""\n\n'
        f"{_INDENT}def __init__(self, aio: {twin.source}, portal: EventLoopPortal) -> None:\n"
        f"{_INDENT * 2}self.aio = aio\n"
        f"{_INDENT * 2}self._portal = portal\n"
    )
    return head + "".join("\n" + m for m in methods)


def _render_method(owner: str, name: str, method: Callable[..., Any], imports: _Imports) -> str:
    func = inspect.unwrap(method)
    node = ast.parse(textwrap.dedent(inspect.getsource(func))).body[0]
    if not isinstance(node, ast.AsyncFunctionDef):
        raise TypeError(f"{owner}.{name} is not an `async def`.")
    module = sys.modules[func.__module__]
    for expr in _signature_expressions(node.args, node.returns):
        for used in _names(expr):
            imports.resolve(used, module)
    params = _params(node.args)
    returns = ast.unparse(node.returns) if node.returns else "None"
    body_indent = _INDENT * 2
    lines = _wrap(f"{_INDENT}def {name}(", params, f") -> {returns}:", _INDENT)
    lines.append(f'{body_indent}"""Blocking :meth:`{owner}.{name}`."""')
    call_args = _call_args(node.args)
    returning = returns != "None"
    single = f"self._portal.run(self.aio.{name}({', '.join(call_args)}))"
    prefix = "return " if returning else ""
    if len(body_indent + prefix + single) <= _LINE:
        lines.append(body_indent + prefix + single)
    else:
        lines += _wrap(f"{body_indent}call = self.aio.{name}(", call_args, ")", body_indent)
        lines.append(f"{body_indent}{prefix}self._portal.run(call)")
    return "\n".join(lines) + "\n"


def _wrap(open_: str, items: list[str], close: str, indent: str) -> list[str]:
    """Lay out ``open_ items close`` the way ruff format does (one line, one block, one each)."""
    flat = open_ + ", ".join(items) + close
    if len(flat) <= _LINE:
        return [flat]
    inner = indent + _INDENT + ", ".join(items)
    if len(inner) <= _LINE:
        return [open_, inner, indent + close]
    return [open_, *(f"{indent}{_INDENT}{item}," for item in items), indent + close]


def _params(args: ast.arguments) -> list[str]:
    """Parameter source texts in order, with ``/``, ``*`` and defaults as written."""
    positional = [*args.posonlyargs, *args.args]
    defaults: list[ast.expr | None] = [None] * (len(positional) - len(args.defaults))
    defaults += args.defaults
    out: list[str] = []
    for index, (arg, default) in enumerate(zip(positional, defaults, strict=True)):
        out.append(_param(arg, default))
        if args.posonlyargs and index == len(args.posonlyargs) - 1:
            out.append("/")
    if args.vararg:
        out.append("*" + _param(args.vararg, None))
    elif args.kwonlyargs:
        out.append("*")
    out += [_param(a, d) for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True)]
    if args.kwarg:
        out.append("**" + _param(args.kwarg, None))
    return out


def _param(arg: ast.arg, default: ast.expr | None) -> str:
    text = arg.arg
    if arg.annotation is not None:
        text += ": " + ast.unparse(arg.annotation)
        if default is not None:
            text += " = " + ast.unparse(default)
    elif default is not None:
        text += "=" + ast.unparse(default)
    return text


def _call_args(args: ast.arguments) -> list[str]:
    """How the twin passes its parameters on: positionally, then by keyword (``self`` dropped)."""
    positional = [a.arg for a in [*args.posonlyargs, *args.args]][1:]
    out = list(positional)
    if args.vararg:
        out.append("*" + args.vararg.arg)
    out += [f"{a.arg}={a.arg}" for a in args.kwonlyargs]
    if args.kwarg:
        out.append("**" + args.kwarg.arg)
    return out


def _signature_expressions(args: ast.arguments, returns: ast.expr | None) -> Iterator[ast.expr]:
    every = [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]
    yield from (a.annotation for a in every if a is not None and a.annotation is not None)
    yield from args.defaults
    yield from (d for d in args.kw_defaults if d is not None)
    if returns is not None:
        yield returns


def _names(expr: ast.expr) -> Iterator[str]:
    """Root names an expression refers to (``MemorySearchScope`` in ``MemorySearchScope.USER``)."""
    for node in ast.walk(expr):
        if isinstance(node, ast.Name):
            yield node.id
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            raise TypeError(f"String annotation or default {node.value!r}: write it unquoted.")


class _Imports:
    """The ``from module import name`` lines the generated annotations need."""

    def __init__(self) -> None:
        self._origin: dict[str, str] = {}
        self._tables: dict[str, dict[str, str]] = {}

    def add(self, module: str, name: str) -> None:
        known = self._origin.setdefault(name, module)
        if known != module:
            raise TypeError(f"{name!r} comes from both {known} and {module}; rename one.")

    def resolve(self, name: str, module: Any) -> None:
        if name == "self" or hasattr(builtins, name):
            return
        table = self._tables.get(module.__name__)
        if table is None:
            table = self._tables[module.__name__] = _import_table(module)
        if name in table:
            self.add(table[name], name)
        elif name in vars(module):
            self.add(module.__name__, name)
        else:
            raise TypeError(f"Cannot find where {name!r} comes from in {module.__name__}.")

    def render(self) -> str:
        groups: dict[int, dict[str, list[str]]] = {0: {}, 1: {}, 2: {}}
        for name, module in self._origin.items():
            root = module.split(".")[0]
            group = 2 if root == "memora_engine" else 0 if root in sys.stdlib_module_names else 1
            groups[group].setdefault(module, []).append(name)
        blocks = []
        for modules in groups.values():
            if modules:
                lines = [
                    _import_line(module, sorted(names, key=_isort_key))
                    for module, names in sorted(modules.items())
                ]
                blocks.append("\n".join(lines) + "\n")
        return "\n".join(blocks)


def _import_line(module: str, names: list[str]) -> str:
    flat = f"from {module} import {', '.join(names)}"
    if len(flat) <= _LINE:
        return flat
    return "\n".join([f"from {module} import (", *(f"{_INDENT}{n}," for n in names), ")"])


def _isort_key(name: str) -> tuple[int, str]:
    """isort's order-by-type: CONSTANTS, Classes, then functions."""
    kind = 0 if name.isupper() else 1 if name[:1].isupper() else 2
    return kind, name


def _import_table(module: Any) -> dict[str, str]:
    """``name -> module`` for every ``from module import name`` in the module's source."""
    tree = ast.parse(inspect.getsource(module))
    table: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                if alias.asname is not None and alias.asname != alias.name:
                    raise TypeError(f"{module.__name__}: import {alias.name} without an alias.")
                table[alias.name] = node.module
    return table


def main(argv: list[str] | None = None) -> int:
    """Write (or with ``--check`` compare) the generated module; exit 1 when stale."""
    parser = argparse.ArgumentParser(prog="python -m memora_engine._codegen", description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if the file is out of date")
    options = parser.parse_args(argv)
    text = render()
    current = TARGET.read_text(encoding="utf-8") if TARGET.exists() else None
    if options.check:
        if current != text:
            print(f"{TARGET} is out of date: run python -m memora_engine._codegen", file=sys.stderr)
            return 1
        return 0
    if current != text:
        TARGET.write_text(text, encoding="utf-8")
        print(f"wrote {TARGET}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
