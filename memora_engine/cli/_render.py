"""Rich renderings of Memora objects for the terminal (tables and trees; no I/O besides print)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.tree import Tree

from memora_engine import Agent, Interaction, Memory, Organization, User

__all__ = [
    "agents_table",
    "fmt_metadata",
    "fmt_time",
    "interaction_tree",
    "interactions_table",
    "memories_list",
    "memories_table",
    "orgs_table",
    "users_table",
]


def fmt_time(value: datetime) -> str:
    """A compact, unambiguous timestamp (minutes, with the offset; JSON output is exact)."""
    return value.isoformat(timespec="minutes")


def _id_column(table: Table, header: str, ids: Sequence[str]) -> None:
    """An id column that is never wrapped or cut, whatever the terminal width (ids are copied
    into other commands); the other columns wrap instead."""
    width = max([len(header), *(len(i) for i in ids)])
    table.add_column(header, style="dim", no_wrap=True, overflow="ignore", min_width=width)


def _sources(memory: Memory) -> str:
    return ", ".join(str(m.msg_position) for m in memory.message_sources) or "-"


def fmt_metadata(memory: Memory) -> str:
    """A memory's metadata as compact JSON (``-`` when it has none)."""
    if not memory.metadata:
        return "-"
    return json.dumps(memory.metadata, ensure_ascii=False, separators=(", ", ": "))


def memories_table(
    memories: Sequence[Memory],
    *,
    title: str | None = None,
    scores: Sequence[float] | None = None,
    superseded_by: Mapping[str, str] | None = None,
) -> Table:
    """Memories with text, time, source message positions and full id (and scores if given).

    ``superseded_by`` (``--history``) marks each superseded version with the id of the version
    that replaced it; current versions are marked ``current``.
    """
    table = Table(title=title, show_lines=False, expand=False)
    table.add_column("#", justify="right", style="dim")
    if scores is not None:
        table.add_column("score", justify="right")
    table.add_column("memory", style="bold", overflow="fold", min_width=20)
    table.add_column("obtained at", overflow="fold")
    table.add_column("sources", justify="center", overflow="fold")
    labelled = any(m.metadata for m in memories)
    if labelled:
        table.add_column("metadata", overflow="fold")
    if superseded_by is not None:
        table.add_column("version", overflow="fold")
    _id_column(table, "memory_id", [m.memory_id for m in memories])
    for index, memory in enumerate(memories, start=1):
        row = [str(index)]
        if scores is not None:
            row.append(f"{scores[index - 1]:.3f}")
        row += [memory.memory, fmt_time(memory.obtained_at), _sources(memory)]
        if labelled:
            row.append(escape(fmt_metadata(memory)))
        if superseded_by is not None:
            newer = superseded_by.get(memory.memory_id)
            row.append(f"superseded by {newer}" if newer else "current")
        row.append(memory.memory_id)
        table.add_row(*row)
    return table


def orgs_table(orgs: Sequence[Organization]) -> Table:
    """Organizations, newest first."""
    table = Table(title="Organizations")
    _id_column(table, "org_id", [o.org_id for o in orgs])
    for column in ("name", "created at"):
        table.add_column(column)
    for org in orgs:
        table.add_row(org.org_id, org.org_name, fmt_time(org.created_at))
    return table


def users_table(users: Sequence[User]) -> Table:
    """Users of one organization."""
    table = Table(title="Users")
    _id_column(table, "user_id", [u.user_id for u in users])
    for column in ("name", "created at"):
        table.add_column(column)
    for user in users:
        table.add_row(user.user_id, user.user_name, fmt_time(user.created_at))
    return table


def agents_table(agents: Sequence[Agent]) -> Table:
    """Agents (org-level, or owned by a user)."""
    table = Table(title="Agents")
    _id_column(table, "agent_id", [a.agent_id for a in agents])
    table.add_column("label")
    _id_column(table, "user_id", [a.user_id or "-" for a in agents])
    table.add_column("created at")
    for agent in agents:
        table.add_row(
            agent.agent_id, agent.agent_label, agent.user_id or "-", fmt_time(agent.created_at)
        )
    return table


def interactions_table(interactions: Sequence[Interaction]) -> Table:
    """Interactions with their message and memory counts."""
    table = Table(title="Interactions")
    _id_column(table, "interaction_id", [i.interaction_id for i in interactions])
    _id_column(table, "agent_id", [i.agent_id for i in interactions])
    for column in ("created at", "updated at", "msgs", "mems"):
        table.add_column(column, overflow="fold")
    for item in interactions:
        table.add_row(
            item.interaction_id,
            item.agent_id,
            fmt_time(item.created_at),
            fmt_time(item.updated_at),
            str(len(item.messages)),
            str(len(item.memories)),
        )
    return table


def interaction_tree(interaction: Interaction, *, label: str | None = None) -> Tree:
    """The stored graph of one interaction: messages, and memories with their sources."""
    tree = Tree(
        label
        or f"[bold]Interaction[/] {interaction.interaction_id} "
        f"(created {fmt_time(interaction.created_at)}, updated {fmt_time(interaction.updated_at)})"
    )
    messages = tree.add(f"[bold]Messages[/] ({len(interaction.messages)})")
    for message in interaction.messages:
        messages.add(f"[dim]#{message.msg_position}[/] [cyan]{message.role}[/]: {message.content}")
    memories = tree.add(f"[bold]Memories[/] ({len(interaction.memories)})")
    ordered = sorted(
        interaction.memories,
        key=lambda m: (min((s.msg_position for s in m.message_sources), default=-1), m.obtained_at),
    )
    for memory in ordered:
        node = memories.add(f"[green]{memory.memory}[/] [dim]{memory.memory_id}[/]")
        positions = [f"#{m.msg_position}" for m in memory.message_sources]
        node.add(f"[dim]sources: {', '.join(positions) or 'none (truncated)'}[/]")
        if memory.metadata:
            node.add(f"[dim]metadata: {escape(fmt_metadata(memory))}[/]")
    return tree


#: Narrowest console on which the memories table keeps every column readable.
_TABLE_MIN_WIDTH = 100


def memories_list(
    memories: Sequence[Memory],
    *,
    scores: Sequence[float] | None = None,
    superseded_by: Mapping[str, str] | None = None,
) -> list[str]:
    """Memories as short lines for narrow consoles: the full id alone on its line (so it is
    never wrapped or cut), then time / sources / score, the text, and the version mark."""
    lines: list[str] = []
    for index, memory in enumerate(memories, start=1):
        lines.append(f"[bold]{index:>2}[/] [dim]{memory.memory_id}[/]")
        details = [fmt_time(memory.obtained_at), f"sources {_sources(memory)}"]
        if scores is not None:
            details.append(f"score {scores[index - 1]:.3f}")
        lines.append("   " + " | ".join(details))
        lines.append(f"   [bold]{escape(memory.memory)}[/]")
        if memory.metadata:
            lines.append(f"   [dim]metadata {escape(fmt_metadata(memory))}[/]")
        if superseded_by is not None:
            newer = superseded_by.get(memory.memory_id)
            lines.append("   superseded by" if newer else "   current")
            if newer:
                lines.append(f"   [dim]{newer}[/]")
    return lines


def print_memories(
    out: Console,
    memories: Sequence[Memory],
    *,
    title: str,
    scores: Sequence[float] | None = None,
    empty: str = "No memories.",
    superseded_by: Mapping[str, str] | None = None,
) -> None:
    """Print a memories table (a list on consoles narrower than 100 columns, so ids are never
    cut), or one dim line when there are none."""
    if not memories:
        out.print(f"[dim]{title}: {empty}[/]")
        return
    if out.width < _TABLE_MIN_WIDTH:
        out.print(f"[bold]{escape(title)}[/]")
        for line in memories_list(memories, scores=scores, superseded_by=superseded_by):
            out.print(line)
        return
    out.print(memories_table(memories, title=title, scores=scores, superseded_by=superseded_by))
