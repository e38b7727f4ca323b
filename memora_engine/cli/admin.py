"""Scripted access: ``memora search`` and ``memora memories|interactions ...`` (tenants: tenants.py).

Every listing command takes ``--json``; ids default to ``MEMORA_ORG_ID`` / ``MEMORA_USER_ID`` /
``MEMORA_AGENT_ID`` (or the config file) when their flags are omitted.
"""

from __future__ import annotations

import json
from typing import Any

import click

from memora_engine import Memora, MemorySearchScope
from memora_engine.cli._common import (
    MemoraGroup,
    Settings,
    dump_json,
    json_option,
    require_value,
    settings_from,
    store_options,
    with_memora,
)
from memora_engine.cli._common import console as _console
from memora_engine.cli._render import (
    interaction_tree,
    interactions_table,
    print_memories,
)
from memora_engine.cli.filter_options import build_filter, filter_options

__all__ = [
    "confirm",
    "deleted",
    "emit",
    "interactions",
    "memories",
    "not_found",
    "resolve_ids",
    "search",
]

_org = click.option("--org", "org_id", default=None, help="Organization id [env MEMORA_ORG_ID].")
_user = click.option("--user", "user_id", default=None, help="User id [env MEMORA_USER_ID].")
_agent = click.option("--agent", "agent_id", default=None, help="Agent id [env MEMORA_AGENT_ID].")
_yes = click.option("--yes", is_flag=True, help="Do not ask for confirmation.")


def resolve_ids(
    ctx: click.Context, /, opts: dict[str, Any], *, org: bool = True, user: bool = False
) -> tuple[Settings, str, str]:
    """Settings plus the org id (and user id) resolved from flags or settings."""
    org_id, user_id = opts.pop("org_id", None), opts.pop("user_id", None)
    agent_id = opts.pop("agent_id", None)
    settings = settings_from(ctx, org_id=org_id, user_id=user_id, agent_id=agent_id, **opts)
    oid = require_value(settings.org_id, "--org", "org_id") if org else ""
    uid = require_value(settings.user_id, "--user", "user_id") if user else ""
    return settings, oid, uid


def emit(as_json: bool, data: Any, table: Any) -> None:
    """Print ``data`` as JSON, or ``table`` for people."""
    if as_json:
        dump_json(data)
    else:
        _console().print(table)


def confirm(yes: bool, what: str) -> None:
    """Ask before deleting, unless ``--yes``."""
    if not yes:
        click.confirm(f"Delete {what}? This cannot be undone", abort=True)


def not_found(what: str) -> None:
    """Report that the thing to delete does not exist: one ``Error:`` line, exit status 1."""
    raise click.ClickException(f"{what} not found; nothing was deleted.")


def deleted(done: bool, what: str) -> None:
    """Print ``Deleted ...`` or fail with "not found" (exit 1)."""
    if not done:
        not_found(what[:1].upper() + what[1:])
    _console().print(f"Deleted {what}.")


# ---------------------------------------------------------------------- search
@click.command()
@click.argument("queries", nargs=-1, required=True)
@_org
@_user
@_agent
@click.option(
    "--scope",
    type=click.Choice([s.value for s in MemorySearchScope]),
    default=MemorySearchScope.USER.value,
    show_default=True,
    help="Search one user's memories, or every user's of the organization.",
)
@click.option("--limit", type=click.IntRange(1, 1000), default=None, help="Results per query.")
@filter_options
@json_option
@store_options
@click.pass_context
def search(
    ctx: click.Context,
    /,
    queries: tuple[str, ...],
    scope: str,
    limit: int | None,
    filters: tuple[str, ...],
    filter_json: str | None,
    since: str | None,
    until: str | None,
    as_json: bool,
    **opts: Any,
) -> None:
    """Hybrid search (no LLM). USER scope merges all QUERIES into one ranked list.

    --filter / --filter-json / --since / --until keep only matching memories (inside the search,
    so --limit still fills up).
    """
    wanted = build_filter(filters, filter_json, since, until)
    user_scope = scope == MemorySearchScope.USER.value
    settings, org_id, user_id = resolve_ids(ctx, opts, user=user_scope)
    agent_id = settings.agent_id

    async def body(memora: Memora) -> Any:
        if user_scope:
            return await memora.search_memories_with_scores(
                org_id,
                user_id,
                list(queries),
                agent_id=agent_id,
                search_across_agents=agent_id is None,
                limit=limit,
                filter=wanted,
            )
        return await memora.search_memories_as_batch(
            org_id,
            list(queries),
            user_id=settings.user_id,
            agent_id=agent_id,
            memory_search_scope=MemorySearchScope.ORGANIZATION,
            search_across_agents=agent_id is None,
            limit=limit,
            filter=wanted,
        )

    result = with_memora(settings, body)
    out = _console()
    if user_scope:
        if as_json:
            dump_json([{**m.model_dump(mode="json"), "score": s} for m, s in result])
            return
        print_memories(
            out,
            [m for m, _ in result],
            scores=[s for _, s in result],
            title=f"Search: {' | '.join(queries)}",
            empty="nothing found.",
        )
        return
    if as_json:
        dump_json([{"query": q, "memories": ms} for q, ms in zip(queries, result, strict=True)])
        return
    for query, found in zip(queries, result, strict=True):
        print_memories(out, found, title=f"Search (organization): {query}", empty="nothing found.")


# ---------------------------------------------------------------------- memories
@click.group(cls=MemoraGroup)
def memories() -> None:
    """List, add, edit, show, trace and delete a user's memories (filters: --filter ...)."""


@memories.command("list")
@_org
@_user
@_agent
@click.option("--skip", type=click.IntRange(0), default=0, show_default=True)
@click.option("--limit", type=click.IntRange(1, 10_000), default=100, show_default=True)
@click.option(
    "--history",
    is_flag=True,
    help="Every version: superseded ones too, marked with the id of the version replacing them.",
)
@filter_options
@json_option
@store_options
@click.pass_context
def memories_list(
    ctx: click.Context,
    /,
    skip: int,
    limit: int,
    history: bool,
    filters: tuple[str, ...],
    filter_json: str | None,
    since: str | None,
    until: str | None,
    as_json: bool,
    **opts: Any,
) -> None:
    """A user's memories, newest first: current versions (``--history``: every version).

    --filter / --filter-json / --since / --until keep only matching memories.
    """
    wanted = build_filter(filters, filter_json, since, until)
    settings, org_id, user_id = resolve_ids(ctx, opts, user=True)

    async def body(memora: Memora) -> tuple[list[Any], dict[str, str]]:
        found = await memora.list_memories(
            org_id,
            user_id,
            agent_id=settings.agent_id,
            include_history=history,
            skip=skip,
            limit=limit,
            filter=wanted,
        )
        links = await memora.list_memory_links(org_id, user_id) if history else []
        return found, dict(links)

    found, replaced_by = with_memora(settings, body)
    if as_json:
        if history:
            dump_json(
                [
                    {**m.model_dump(mode="json"), "superseded_by": replaced_by.get(m.memory_id)}
                    for m in found
                ]
            )
        else:
            dump_json(found)
        return
    title = f"Memories of user {user_id}" + (" (every version)" if history else "")
    print_memories(_console(), found, title=title, superseded_by=replaced_by if history else None)


@memories.command("show")
@click.argument("memory_id")
@_org
@_user
@json_option
@store_options
@click.pass_context
def memories_show(ctx: click.Context, /, memory_id: str, as_json: bool, **opts: Any) -> None:
    """One memory as stored, with its source messages."""
    settings, org_id, user_id = resolve_ids(ctx, opts, user=True)
    memory = with_memora(settings, lambda m: m.get_memory(org_id, user_id, memory_id))
    if as_json:
        dump_json(memory)
        return
    out = _console()
    print_memories(out, [memory], title="Memory")
    for block in memory.message_sources:
        out.print(f"  [dim]source #{block.msg_position}[/] [cyan]{block.role}[/]: {block.content}")


@memories.command("history")
@click.argument("memory_id")
@_org
@_user
@json_option
@store_options
@click.pass_context
def memories_history(ctx: click.Context, /, memory_id: str, as_json: bool, **opts: Any) -> None:
    """The history chain of a memory, newest first (whichever version's id is given)."""
    settings, org_id, user_id = resolve_ids(ctx, opts, user=True)
    chain = with_memora(settings, lambda m: m.get_memory_history(org_id, user_id, memory_id))
    if as_json:
        dump_json(chain)
    else:
        print_memories(_console(), chain, title=f"History of {memory_id} (newest first)")


@memories.command("delete")
@click.argument("memory_id", required=False)
@_org
@_user
@_yes
@filter_options
@json_option
@store_options
@click.pass_context
def memories_delete(
    ctx: click.Context,
    /,
    memory_id: str | None,
    yes: bool,
    filters: tuple[str, ...],
    filter_json: str | None,
    since: str | None,
    until: str | None,
    as_json: bool,
    **opts: Any,
) -> None:
    """Delete one memory by id, or every version matching --filter / --filter-json / --since /
    --until (history chains are re-linked around deleted versions)."""
    wanted = build_filter(filters, filter_json, since, until)
    if (memory_id is None) == (wanted is None):
        raise click.UsageError("Give a MEMORY_ID or a filter (--filter ...), not both.")
    settings, org_id, user_id = resolve_ids(ctx, opts, user=True)
    if wanted is None:
        assert memory_id is not None
        confirm(yes, f"memory {memory_id}")
        done = with_memora(settings, lambda m: m.delete_memory(org_id, user_id, memory_id))
        if as_json and done:
            dump_json({"deleted": 1})
            return
        deleted(done, f"memory {memory_id}")
        return
    confirm(yes, f"every memory of user {user_id} matching {json.dumps(wanted)}")
    count = with_memora(settings, lambda m: m.delete_memories(org_id, user_id, filter=wanted))
    if as_json:
        dump_json({"deleted": count})
    else:
        _console().print(f"Deleted {count} memories of user {user_id} matching the filter.")


@memories.command("delete-all")
@_org
@_user
@_yes
@store_options
@click.pass_context
def memories_delete_all(ctx: click.Context, /, yes: bool, **opts: Any) -> None:
    """Delete every memory of one user (all versions); the interactions stay."""
    settings, org_id, user_id = resolve_ids(ctx, opts, user=True)

    async def body(memora: Memora) -> int:
        await memora.get_user(org_id, user_id)  # UserNotFoundError: exit 1, nothing asked
        return await memora.delete_all_memories(org_id, user_id)

    if not yes:
        # Check the user exists before asking.
        with_memora(settings, lambda m: m.get_user(org_id, user_id))
    confirm(yes, f"every memory of user {user_id} in organization {org_id}")
    count = with_memora(settings, body)
    _console().print(f"Deleted {count} memories of user {user_id}.")


# ---------------------------------------------------------------------- interactions
@click.group(cls=MemoraGroup)
def interactions() -> None:
    """List, show and delete a user's interactions."""


@interactions.command("list")
@_org
@_user
@click.option("--skip", type=click.IntRange(0), default=0, show_default=True)
@click.option("--limit", type=click.IntRange(1, 10_000), default=100, show_default=True)
@json_option
@store_options
@click.pass_context
def interactions_list(
    ctx: click.Context, /, skip: int, limit: int, as_json: bool, **opts: Any
) -> None:
    """A user's interactions, most recently updated first."""
    settings, org_id, user_id = resolve_ids(ctx, opts, user=True)
    found = with_memora(
        settings,
        lambda m: m.list_interactions(org_id, user_id, skip=skip, limit=limit),
    )
    if as_json:
        dump_json(found)
    else:
        _console().print(interactions_table(found))


@interactions.command("show")
@click.argument("interaction_id")
@_org
@_user
@json_option
@store_options
@click.pass_context
def interactions_show(
    ctx: click.Context, /, interaction_id: str, as_json: bool, **opts: Any
) -> None:
    """One interaction with its messages and the memories it produced (with sources)."""
    settings, org_id, user_id = resolve_ids(ctx, opts, user=True)
    found = with_memora(settings, lambda m: m.get_interaction(org_id, user_id, interaction_id))
    if as_json:
        dump_json(found)
    else:
        _console().print(interaction_tree(found))


@interactions.command("delete")
@click.argument("interaction_id")
@_org
@_user
@_yes
@store_options
@click.pass_context
def interactions_delete(ctx: click.Context, /, interaction_id: str, yes: bool, **opts: Any) -> None:
    """Delete one interaction, its messages and the memories it produced."""
    settings, org_id, user_id = resolve_ids(ctx, opts, user=True)
    confirm(yes, f"interaction {interaction_id} and its memories")
    done = with_memora(settings, lambda m: m.delete_interaction(org_id, user_id, interaction_id))
    deleted(done, f"interaction {interaction_id}")
