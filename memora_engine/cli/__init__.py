"""The ``memora`` command: demo, chat, search, import/export, reindex, doctor and admin commands.

The command needs the ``cli`` extra (click and rich); :func:`main` says so when they are missing.
Python users back up and restore with :mod:`memora_engine.transfer`, which needs neither.

Examples:
    >>> from memora_engine.cli import main
    >>> main(["demo", "--path", "/tmp/memora-demo"])  # doctest: +SKIP
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

from memora_engine.install import install_hint

try:  # click and rich come with the 'cli' extra
    from memora_engine.cli._common import CliState
    from memora_engine.cli.app import app
except ModuleNotFoundError as exc:  # pragma: no cover - exercised without the extra
    if exc.name not in ("click", "rich"):
        raise
    _MISSING: str | None = exc.name
else:
    _MISSING = None

__all__ = ["CliState", "app", "main", "missing_cli_packages"]


def missing_cli_packages() -> list[str]:
    """The packages of the ``cli`` extra that cannot be imported (empty: all present)."""
    missing = []
    for name in ("click", "rich"):
        try:
            __import__(name)
        except ImportError:
            missing.append(name)
    return missing


def main(args: Sequence[str] | None = None, **extra: Any) -> Any:
    """Run the ``memora`` command (the console script's entry point).

    Without the ``cli`` extra, prints which packages are missing and how to install them.
    """
    missing = missing_cli_packages()
    if missing or _MISSING is not None:
        names = missing or [str(_MISSING)]
        sys.stderr.write(
            f"Error: the memora command needs {' and '.join(names)} (the 'cli' extra): "
            f"{install_hint('cli')}\n"
        )
        raise SystemExit(1)
    from memora_engine.cli.app import main as run_app

    return run_app(args, **extra)
