"""Export: every record of a store, an organization or one user, as JSONL records.

Only ``Memora``'s public methods are used. Order is deterministic (entities by id, interactions
by creation time) and memory text is written as stored (``user_<id>`` / ``agent_<id>``
placeholders), so an export of an import of an export is identical apart from ``exported_at``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from memora_engine.errors import NotFoundError
from memora_engine.ids import utc_now
from memora_engine.schema.models import Agent, Interaction, Organization, User
from memora_engine.transfer.records import FORMAT_VERSION

if TYPE_CHECKING:
    from memora_engine.memora import Memora

__all__ = ["export_records"]

_PAGE = 100


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
                "metadata": dict(m.metadata),
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
    warnings: list[str] = []
    header: dict[str, Any] = {
        "type": "memora-export",
        "version": FORMAT_VERSION,
        "exported_at": _time(utc_now()),
        "org_id": org_id,
        "user_id": user_id,
    }
    records: list[dict[str, Any]] = [header]
    orgs = [await memora.get_organization(org_id)] if org_id else await memora.list_organizations()
    for org in sorted(orgs, key=lambda o: o.org_id):
        records.append(_org_record(org))
        if user_id:
            users = [await memora.get_user(org.org_id, user_id)]
        else:
            users = await memora.list_users(org.org_id)
        users.sort(key=lambda u: u.user_id)
        records.extend(_user_record(u) for u in users)
        agents = await memora.list_agents(org.org_id)
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
            agent = await memora.get_agent(org_id, agent_id)
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
    org_id, user_id = user.org_id, user.user_id
    supersedes: dict[str, str] = {}
    for older, newer in await memora.list_memory_links(org_id, user_id):
        if newer in supersedes and supersedes[newer] != older:
            warnings.append(f"memory {newer} supersedes several memories; kept {supersedes[newer]}")
            continue
        supersedes[newer] = older
    interactions: list[Interaction] = []
    skip = 0
    while True:
        page = await memora.list_interactions(
            org_id,
            user_id,
            with_messages=True,
            with_memories=True,
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
        memories = await memora.list_memories(
            org_id, user_id, include_history=True, skip=skip, limit=1000, resolve_names=False
        )
        total += sum(1 for m in memories if m.memory_id not in exported)
        if len(memories) < 1000:
            break
        skip += 1000
    if total:
        warnings.append(f"{total} memories of user {user_id} belong to no interaction; skipped")
    interactions.sort(key=lambda i: (i.created_at, i.interaction_id))
    return [_interaction_record(i, supersedes) for i in interactions]
