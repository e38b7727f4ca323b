"""``memora import`` and ``memora export``: JSONL (see :mod:`memora_engine.cli.records`) and LoCoMo.

Import validates the whole file (and its references against the store) before writing anything,
shows a progress bar, and is resumable: entities and restored interactions are skipped when
already present, and conversations already saved are remembered in a small state file under the
data directory (``imports/<file digest>.jsonl``), so running the same command again continues
where it stopped.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict
from pathlib import Path
from typing import Any

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from memora_engine.cli._common import (
    CliState,
    LLMChoice,
    console,
    dump_json,
    err_console,
    llm_options,
    resolve_llm,
    settings_from,
    store_options,
    with_memora,
)
from memora_engine.cli.importer import ImportCounts, Importer
from memora_engine.cli.locomo import is_locomo, locomo_records
from memora_engine.cli.records import (
    FORMAT_VERSION,
    Defaults,
    ImportFileError,
    ImportPlan,
    decode_lines,
    parse_records,
)
from memora_engine.errors import NotFoundError
from memora_engine.ids import utc_now
from memora_engine.memora import Memora
from memora_engine.schema.models import Agent, Interaction, Organization, User

__all__ = ["export_cmd", "export_records", "import_cmd", "load_plan"]

_PAGE = 100


# ---------------------------------------------------------------------- import
def load_plan(file: Path, fmt: str, defaults: Defaults) -> tuple[ImportPlan, str]:
    """Read and validate an import file; returns the plan and the file's digest.

    Raises:
        ImportFileError: unreadable or invalid input (nothing is imported).
    """
    try:
        raw = file.read_bytes()
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ImportFileError(str(file), [f"cannot read the file: {exc}"]) from None
    digest = hashlib.sha256(raw).hexdigest()[:24]
    if fmt == "auto":
        fmt = "locomo" if text.lstrip().startswith("[") else "jsonl"
    if fmt == "locomo":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ImportFileError(str(file), [f"not valid JSON: {exc}"]) from None
        if not is_locomo(data):
            raise ImportFileError(str(file), ["not a LoCoMo file (a list of samples)"])
        records, problems = locomo_records(data, org_id=defaults.org_id)
    else:
        records, problems = decode_lines(text.splitlines())
    if problems:
        raise ImportFileError(str(file), problems)
    if not records:
        raise ImportFileError(str(file), ["the file holds no records"])
    return parse_records(records, defaults, source=str(file)), digest


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
    plan, digest = load_plan(file, fmt, defaults)
    llm = LLMChoice(None, None, "not needed")
    if plan.conversations and not dry_run:
        llm = resolve_llm(settings, ctx.find_object(CliState), raw=raw)
        if llm.raw and not raw:
            err_console().print(
                "No LLM provider found: conversations are imported in raw mode "
                "(messages stored verbatim)."
            )
    state_file = settings.path / "imports" / f"{digest}.jsonl"
    progress = Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console(),
        disable=as_json,
    )

    async def body(memora: Memora) -> ImportCounts:
        importer = Importer(memora, plan, state_file=state_file, infer=not llm.raw)
        await importer.check_against_store()
        if dry_run:
            return importer.planned_counts()
        task = progress.add_task("Importing", total=len(plan.interactions))
        return await importer.run(on_interaction=lambda: progress.advance(task))

    with progress:
        counts = with_memora(settings, body, llm)
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


# ---------------------------------------------------------------------- export
def _time(value: Any) -> str:
    return str(value.isoformat())


def _org_record(org: Organization) -> dict[str, Any]:
    return {
        "type": "organization",
        "org_id": org.org_id,
        "org_name": org.org_name,
        "created_at": _time(org.created_at),
    }


def _user_record(user: User) -> dict[str, Any]:
    return {
        "type": "user",
        "org_id": user.org_id,
        "user_id": user.user_id,
        "user_name": user.user_name,
        "created_at": _time(user.created_at),
    }


def _agent_record(agent: Agent) -> dict[str, Any]:
    return {
        "type": "agent",
        "org_id": agent.org_id,
        "agent_id": agent.agent_id,
        "agent_label": agent.agent_label,
        "user_id": agent.user_id,
        "created_at": _time(agent.created_at),
    }


def _interaction_record(item: Interaction, supersedes: dict[str, str]) -> dict[str, Any]:
    memories = sorted(item.memories, key=lambda m: (m.obtained_at, m.memory_id))
    return {
        "type": "interaction",
        "org_id": item.org_id,
        "user_id": item.user_id,
        "agent_id": item.agent_id,
        "interaction_id": item.interaction_id,
        "created_at": _time(item.created_at),
        "updated_at": _time(item.updated_at),
        "messages": [{"role": m.role, "content": m.content} for m in item.messages],
        "memories": [
            {
                "memory_id": m.memory_id,
                "memory": m.memory,
                "obtained_at": _time(m.obtained_at),
                "agent_id": m.agent_id,
                "sources": [s.msg_position for s in m.message_sources],
                "supersedes": supersedes.get(m.memory_id),
            }
            for m in memories
        ],
    }


async def export_records(
    memora: Memora, org_id: str | None = None, user_id: str | None = None
) -> tuple[list[dict[str, Any]], list[str]]:
    """Every record of the store, an org, or one user; returns ``(records, warnings)``.

    Order is deterministic (entities by id, interactions by creation time) and memory text is
    written as stored (with its ``user_<id>`` / ``agent_<id>`` placeholders), so an export of an
    import of an export is identical apart from the header's ``exported_at``.
    """
    graph = memora.graph
    warnings: list[str] = []
    header: dict[str, Any] = {
        "type": "memora-export",
        "version": FORMAT_VERSION,
        "exported_at": _time(utc_now()),
        "org_id": org_id,
        "user_id": user_id,
    }
    records: list[dict[str, Any]] = [header]
    orgs = [await graph.get_organization(org_id)] if org_id else await graph.get_all_organizations()
    for org in sorted(orgs, key=lambda o: o.org_id):
        records.append(_org_record(org))
        if user_id:
            users = [await graph.get_user(org.org_id, user_id)]
        else:
            users = await graph.get_all_org_users(org.org_id)
        users.sort(key=lambda u: u.user_id)
        records.extend(_user_record(u) for u in users)
        agents = await graph.get_all_org_agents(org.org_id)
        if user_id:
            agents = [a for a in agents if a.user_id in (None, user_id)]
        interactions: list[dict[str, Any]] = []
        for user in users:
            interactions.extend(await _user_interactions(memora, user, warnings))
        agents += await _referenced_agents(memora, org.org_id, agents, interactions, warnings)
        records.extend(_agent_record(a) for a in sorted(agents, key=lambda a: a.agent_id))
        records.extend(interactions)
    return records, warnings


async def _referenced_agents(
    memora: Memora,
    org_id: str,
    exported: list[Agent],
    interactions: list[dict[str, Any]],
    warnings: list[str],
) -> list[Agent]:
    """Agents the exported interactions name but the export does not hold yet (user scope).

    An agent owned by another user is exported as an org-level agent (its owner is not part of
    this export); a deleted agent cannot be exported, and the import will say so.
    """
    known = {a.agent_id for a in exported}
    wanted = {r["agent_id"] for r in interactions} | {
        m["agent_id"] for r in interactions for m in r["memories"] if m["agent_id"]
    }
    extra: list[Agent] = []
    for agent_id in sorted(wanted - known):
        try:
            agent = await memora.graph.get_agent(org_id, agent_id)
        except NotFoundError:
            warnings.append(f"agent {agent_id} was deleted; its interactions cannot be imported")
            continue
        if agent.user_id is not None:
            warnings.append(f"agent {agent_id} of user {agent.user_id} exported as org-level")
            agent = agent.model_copy(update={"user_id": None})
        extra.append(agent)
    return extra


async def _user_interactions(
    memora: Memora, user: User, warnings: list[str]
) -> list[dict[str, Any]]:
    graph = memora.graph
    org_id, user_id = user.org_id, user.user_id
    supersedes: dict[str, str] = {}
    for older, newer in await graph.get_user_memory_links(org_id, user_id):
        if newer in supersedes and supersedes[newer] != older:
            warnings.append(f"memory {newer} supersedes several memories; kept {supersedes[newer]}")
            continue
        supersedes[newer] = older
    interactions: list[Interaction] = []
    skip = 0
    while True:
        page = await graph.get_all_user_interactions(
            org_id,
            user_id,
            with_their_messages=True,
            with_their_memories=True,
            skip=skip,
            limit=_PAGE,
            resolve_names=False,
        )
        interactions.extend(page)
        if len(page) < _PAGE:
            break
        skip += _PAGE
    exported = {m.memory_id for i in interactions for m in i.memories}
    total = 0
    skip = 0
    while True:
        memories = await graph.get_all_user_memories(org_id, user_id, skip=skip, limit=1000)
        total += sum(1 for m in memories if m.memory_id not in exported)
        if len(memories) < 1000:
            break
        skip += 1000
    if total:
        warnings.append(f"{total} memories of user {user_id} belong to no interaction; skipped")
    interactions.sort(key=lambda i: (i.created_at, i.interaction_id))
    return [_interaction_record(i, supersedes) for i in interactions]


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
    records, warnings = with_memora(settings, lambda m: export_records(m, settings.org_id, user_id))
    lines = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    for warning in warnings:
        err_console().print(f"[yellow]warning:[/] {warning}")
    if output is None or str(output) == "-":
        click.echo(lines, nl=False)
        return
    temporary = output.with_name(output.name + ".tmp")
    temporary.write_text(lines, encoding="utf-8")
    os.replace(temporary, output)
    kinds: dict[str, int] = {}
    for record in records[1:]:
        kinds[record["type"]] = kinds.get(record["type"], 0) + 1
    memories = sum(len(r.get("memories") or []) for r in records)
    summary = ", ".join(f"{n} {k}(s)" for k, n in kinds.items())
    err_console().print(f"Exported {summary}, {memories} memories to {output}.")
