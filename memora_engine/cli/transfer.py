"""``memora import`` and ``memora export``: a thin shell over :mod:`memora_engine.transfer`.

Import validates the whole file (and its references against the store) before writing anything,
reports every problem with its line, shows a progress bar, and is resumable: running the same
command again continues where it stopped (conversations already saved are remembered under the
data directory, ``imports/<file digest>.jsonl``).
"""

from __future__ import annotations

import time
from dataclasses import asdict
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from memora_engine import Memora
from memora_engine.cli._common import (
    CliState,
    LLMChoice,
    Settings,
    console,
    dump_json,
    err_console,
    llm_options,
    resolve_llm,
    settings_from,
    store_options,
    with_memora,
)
from memora_engine.transfer import (
    Defaults,
    ExportResult,
    ImportCounts,
    export_jsonl,
    export_lines,
    import_jsonl,
    read_import_file,
)

__all__ = ["export_cmd", "import_cmd"]

T = TypeVar("T")


def _run_import(settings: Settings, body: Any, llm: LLMChoice, *, dry_run: bool) -> Any:
    """Run the import; a dry run on a path with no store checks against an empty one."""
    if dry_run and not settings.store_exists():
        import tempfile

        with tempfile.TemporaryDirectory(prefix="memora-dry-run-") as empty:
            return with_memora(settings.model_copy(update={"path": Path(empty)}), body, create=True)
    if dry_run:
        return with_memora(settings, body)
    return with_memora(settings, body, llm, create=True)


_org = click.option("--org", "org_id", default=None, help="Default org id of interactions.")
_user = click.option("--user", "user_id", default=None, help="Default user id of interactions.")
_agent = click.option("--agent", "agent_id", default=None, help="Default agent id of interactions.")


@click.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["auto", "jsonl", "locomo"]),
    default="auto",
    show_default=True,
    help="auto: a JSON array is LoCoMo, anything else JSONL.",
)
@_org
@_user
@_agent
@click.option("--dry-run", is_flag=True, help="Validate only; write nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the counts as JSON.")
@llm_options
@store_options
@click.pass_context
def import_cmd(
    ctx: click.Context,
    /,
    file: Path,
    fmt: str,
    dry_run: bool,
    as_json: bool,
    raw: bool,
    model: str | None,
    search_model: str | None,
    **opts: Any,
) -> None:
    """Import conversations or a Memora export from FILE (JSONL, or LoCoMo JSON)."""
    settings = settings_from(ctx, model=model, search_model=search_model, **opts)
    defaults = Defaults(settings.org_id, settings.user_id, settings.agent_id)
    checked = read_import_file(file, fmt, defaults)  # type: ignore[arg-type]
    llm = LLMChoice(None, None, "not needed")
    if checked.plan.conversations and not dry_run and not checked.problems:
        llm = resolve_llm(settings, ctx.find_object(CliState), raw=raw)
        if llm.raw and not raw:
            err_console().print(
                "No LLM provider found: conversations are imported in raw mode "
                "(messages stored verbatim)."
            )
    progress = Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        console=err_console(),
        disable=as_json,
    )

    async def body(memora: Memora) -> ImportCounts:
        total = len(checked.plan.interactions)
        task = progress.add_task("Importing", total=total, start=False, rate="")
        started, done = time.perf_counter(), [0]

        def tick() -> None:
            done[0] += 1
            elapsed = max(time.perf_counter() - started, 1e-6)
            progress.start_task(task)
            progress.update(task, advance=1, rate=f"{done[0] / elapsed:,.1f} interactions/s")

        return await import_jsonl(
            memora,
            file,
            fmt=fmt,  # type: ignore[arg-type]
            defaults=defaults,
            dry_run=dry_run,
            infer=not llm.raw,
            state_dir=settings.layout.import_state_dir,
            on_interaction=tick,
        )

    try:
        with progress:
            counts = _run_import(settings, body, llm, dry_run=dry_run or bool(checked.problems))
    except KeyboardInterrupt:
        err_console().print(
            "\nInterrupted. Nothing is lost: run the same command again to resume the import "
            "where it stopped."
        )
        raise SystemExit(130) from None
    if as_json:
        dump_json({"dry_run": dry_run, **asdict(counts)})
        return
    title = f"Import of {file}"
    if dry_run:
        title += " (dry run: what would be written; nothing was)"
    table = Table(title=title)
    table.add_column("what")
    table.add_column("count", justify="right")
    for name, value in asdict(counts).items():
        table.add_row(name.replace("_", " "), str(value))
    console().print(table)


@click.command("export")
@click.option("--org", "org_id", default=None, help="Export one organization (default: all).")
@click.option("--user", "user_id", default=None, help="Export one user of --org.")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Output file (default: standard output).",
)
@store_options
@click.pass_context
def export_cmd(
    ctx: click.Context,
    /,
    org_id: str | None,
    user_id: str | None,
    output: Path | None,
    **opts: Any,
) -> None:
    """Export everything (or an org, or a user) as JSONL that `memora import` restores exactly."""
    settings = settings_from(ctx, org_id=org_id, user_id=user_id, **opts)
    if user_id and not settings.org_id:
        raise click.UsageError("--user needs --org.")
    to_stdout = output is None or str(output) == "-"

    async def body(memora: Memora) -> tuple[str, ExportResult]:
        if to_stdout:
            return await export_lines(memora, org_id=settings.org_id, user_id=user_id)
        assert output is not None
        return "", await export_jsonl(memora, output, org_id=settings.org_id, user_id=user_id)

    lines, result = with_memora(settings, body)
    for warning in result.warnings:
        err_console().print(f"[yellow]warning:[/] {warning}")
    if to_stdout:
        click.echo(lines, nl=False)
        return
    summary = ", ".join(f"{n} {k}(s)" for k, n in result.records.items())
    err_console().print(f"Exported {summary}, {result.memories} memories to {output}.")
