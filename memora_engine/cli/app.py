"""The ``memora`` click group: wires every command together."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import click

from memora_engine import __version__
from memora_engine.cli._common import CliState, MemoraGroup, console, settings_from
from memora_engine.cli.admin import interactions, memories, search
from memora_engine.cli.chat import chat
from memora_engine.cli.demo import demo
from memora_engine.cli.doctor import doctor
from memora_engine.cli.facts import memories_add, memories_edit
from memora_engine.cli.reindex import reindex
from memora_engine.cli.serve import COMMANDS as SERVE_COMMANDS
from memora_engine.cli.tenants import agents, orgs, users
from memora_engine.cli.transfer import export_cmd, import_cmd

__all__ = ["app", "main"]


@click.group(cls=MemoraGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="memora")
@click.pass_context
def app(ctx: click.Context) -> None:
    """Memora: long-term memory for LLM agents.

    Start with `memora demo`. Settings come from flags, then MEMORA_* environment variables,
    then a [memora] table in a TOML config file (see `memora config`).
    """
    ctx.ensure_object(CliState)
    _quiet_library_logs()


def _quiet_library_logs() -> None:
    """Drivers log every retry (fastembed downloads, Neo4j connections); the CLI reports one
    clear line when they finally fail."""
    logging.getLogger("neo4j").setLevel(logging.ERROR)
    try:
        from loguru import logger
    except ImportError:  # pragma: no cover - fastembed depends on loguru
        return
    logger.disable("fastembed")


@app.command("config")
@click.option("--config", "config_file", default=None, help="TOML config file to read.")
@click.option("--path", default=None, help="Data directory.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def config_cmd(
    ctx: click.Context, /, config_file: str | None, path: str | None, as_json: bool
) -> None:
    """Show the effective settings and where each comes from (secrets hidden)."""
    from rich.table import Table

    from memora_engine.cli._common import dump_json

    settings = settings_from(ctx, config_file=config_file, path=path)
    rows = settings.shown()
    if as_json:
        dump_json(
            {
                "config_file": str(settings.config_file) if settings.config_file else None,
                "settings": [{"name": n, "env": e, "value": v, "source": s} for n, e, v, s in rows],
            }
        )
        return
    table = Table(title=f"Settings (config file: {settings.config_file or 'none'})")
    for column in ("setting", "environment", "value", "source"):
        table.add_column(column)
    for row in rows:
        table.add_row(*row)
    console().print(table)


for command in (
    demo,
    chat,
    search,
    memories,
    interactions,
    users,
    agents,
    orgs,
    import_cmd,
    export_cmd,
    reindex,
    doctor,
    *SERVE_COMMANDS,
):
    app.add_command(command)
memories.add_command(memories_add)
memories.add_command(memories_edit)


def main(args: Sequence[str] | None = None, **extra: Any) -> Any:
    """Run the ``memora`` command (the console script's entry point)."""
    return app.main(args=list(args) if args is not None else None, prog_name="memora", **extra)
