"""The ``memora`` command: demo, chat, search, import/export, reindex, doctor and admin commands.

Examples:
    >>> from memora_engine.cli import main
    >>> main(["demo", "--path", "/tmp/memora-demo"])  # doctest: +SKIP
"""

from __future__ import annotations

from memora_engine.cli._common import CliState
from memora_engine.cli.app import app, main

__all__ = ["CliState", "app", "main"]
