"""Organizations, users and agents on Neo4j (one managed transaction per call)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from memora_engine.errors import (
    AgentNotFoundError,
    ConflictError,
    OrganizationNotFoundError,
    UserNotFoundError,
)
from memora_engine.graph_db.hooks import Deleted
from memora_engine.graph_db.neo4j import cypher
from memora_engine.graph_db.neo4j.core import Neo4jCore, fetch, fetch_one
from memora_engine.graph_db.neo4j.mapping import (
    agent_key,
    to_agent,
    to_organization,
    to_user,
    user_key,
)
from memora_engine.schema.models import Agent, Organization, User

if TYPE_CHECKING:
    from neo4j import AsyncManagedTransaction

__all__ = ["Neo4jTenants", "require_org", "require_user"]


async def require_org(tx: AsyncManagedTransaction, org_id: str) -> None:
    """Raise :class:`OrganizationNotFoundError` unless the org exists."""
    row = await fetch_one(tx, cypher.ORG_EXISTS, org_id=org_id)
    if not row or not row["found"]:
        raise OrganizationNotFoundError(org_id=org_id)


async def require_user(tx: AsyncManagedTransaction, org_id: str, user_id: str) -> None:
    """Raise :class:`UserNotFoundError` (or the org's error) unless the user exists."""
    row = await fetch_one(
        tx, cypher.TENANT_EXISTS, org_id=org_id, org_user_id=user_key(org_id, user_id)
    )
    if not row or not row["org_found"]:
        raise OrganizationNotFoundError(org_id=org_id)
    if not row["user_found"]:
        raise UserNotFoundError(org_id=org_id, user_id=user_id)


def _conflict(what: str, entity_id: str, org_id: str | None) -> ConflictError:
    where = "" if org_id is None else f" in organization {org_id!r}"
    return ConflictError(f"{what} {entity_id!r} already exists{where}.")


# ---------------------------------------------------------------------- transaction bodies
async def _create_org(
    tx: AsyncManagedTransaction, org_id: str, org_name: str, now: datetime
) -> Organization:
    if (await fetch_one(tx, cypher.ORG_EXISTS, org_id=org_id) or {}).get("found"):
        raise _conflict("Organization", org_id, None)
    row = await fetch_one(tx, cypher.CREATE_ORG, org_id=org_id, org_name=org_name, created_at=now)
    assert row is not None  # CREATE always returns its row
    return to_organization(row["org"])


async def _update_org(tx: AsyncManagedTransaction, org_id: str, org_name: str) -> Organization:
    row = await fetch_one(tx, cypher.UPDATE_ORG, org_id=org_id, org_name=org_name)
    if row is None:
        raise OrganizationNotFoundError(org_id=org_id)
    return to_organization(row["org"])


async def _get_org(tx: AsyncManagedTransaction, org_id: str) -> Organization:
    row = await fetch_one(tx, cypher.GET_ORG, org_id=org_id)
    if row is None:
        raise OrganizationNotFoundError(org_id=org_id)
    return to_organization(row["org"])


async def _list_orgs(tx: AsyncManagedTransaction) -> list[Organization]:
    return [to_organization(row["org"]) for row in await fetch(tx, cypher.LIST_ORGS)]


async def _delete_org(tx: AsyncManagedTransaction, org_id: str) -> Deleted:
    row = await fetch_one(tx, cypher.ORG_MEMORY_IDS, org_id=org_id)
    if row is None:
        return Deleted(found=False)
    for step in cypher.DELETE_ORG_STEPS:
        await fetch(tx, step, org_id=org_id)
    return Deleted(found=True, memory_ids=tuple(row["memory_ids"]))


async def _create_user(
    tx: AsyncManagedTransaction, org_id: str, user_id: str, user_name: str, now: datetime
) -> User:
    key = user_key(org_id, user_id)
    exists = await fetch_one(tx, cypher.TENANT_EXISTS, org_id=org_id, org_user_id=key)
    if not exists or not exists["org_found"]:
        raise OrganizationNotFoundError(org_id=org_id)
    if exists["user_found"]:
        raise _conflict("User", user_id, org_id)
    row = await fetch_one(
        tx,
        cypher.CREATE_USER,
        org_id=org_id,
        user_id=user_id,
        org_user_id=key,
        user_name=user_name,
        created_at=now,
    )
    if row is None:  # the org vanished between the two statements
        raise OrganizationNotFoundError(org_id=org_id)
    return to_user(row["user"])


async def _update_user(
    tx: AsyncManagedTransaction, org_id: str, user_id: str, user_name: str
) -> User:
    row = await fetch_one(
        tx, cypher.UPDATE_USER, org_user_id=user_key(org_id, user_id), user_name=user_name
    )
    if row is None:
        raise UserNotFoundError(org_id=org_id, user_id=user_id)
    return to_user(row["user"])


async def _get_user(tx: AsyncManagedTransaction, org_id: str, user_id: str) -> User:
    row = await fetch_one(tx, cypher.GET_USER, org_user_id=user_key(org_id, user_id))
    if row is None:
        raise UserNotFoundError(org_id=org_id, user_id=user_id)
    return to_user(row["user"])


async def _list_org_users(tx: AsyncManagedTransaction, org_id: str) -> list[User]:
    rows = await fetch(tx, cypher.LIST_ORG_USERS, org_id=org_id)
    if not rows:
        await require_org(tx, org_id)
    return [to_user(row["user"]) for row in rows]


async def _delete_user(tx: AsyncManagedTransaction, org_id: str, user_id: str) -> Deleted:
    key = user_key(org_id, user_id)
    row = await fetch_one(tx, cypher.USER_MEMORY_IDS, org_user_id=key)
    if row is None:
        return Deleted(found=False)
    for step in cypher.DELETE_USER_STEPS:
        await fetch(tx, step, org_user_id=key)
    return Deleted(found=True, memory_ids=tuple(row["memory_ids"]))


async def _create_agent(
    tx: AsyncManagedTransaction,
    org_id: str,
    agent_id: str,
    agent_label: str,
    user_id: str | None,
    now: datetime,
) -> Agent:
    if user_id is None:
        await require_org(tx, org_id)
    else:
        await require_user(tx, org_id, user_id)
    key = agent_key(org_id, agent_id)
    if await fetch_one(tx, cypher.GET_AGENT, org_agent_id=key) is not None:
        raise _conflict("Agent", agent_id, org_id)
    props = {
        "org_id": org_id,
        "agent_id": agent_id,
        "org_agent_id": key,
        "agent_label": agent_label,
        "created_at": now,
    }
    if user_id is None:
        row = await fetch_one(tx, cypher.CREATE_ORG_AGENT, **props)
    else:
        row = await fetch_one(
            tx,
            cypher.CREATE_USER_AGENT,
            **props,
            org_user_id=user_key(org_id, user_id),
            user_id=user_id,
        )
    if row is None:  # an owner vanished between the statements
        raise OrganizationNotFoundError(org_id=org_id)
    return to_agent(row["agent"])


async def _update_agent(
    tx: AsyncManagedTransaction, org_id: str, agent_id: str, agent_label: str
) -> Agent:
    row = await fetch_one(
        tx, cypher.UPDATE_AGENT, org_agent_id=agent_key(org_id, agent_id), agent_label=agent_label
    )
    if row is None:
        raise AgentNotFoundError(org_id=org_id, agent_id=agent_id)
    return to_agent(row["agent"])


async def _get_agent(tx: AsyncManagedTransaction, org_id: str, agent_id: str) -> Agent:
    row = await fetch_one(tx, cypher.GET_AGENT, org_agent_id=agent_key(org_id, agent_id))
    if row is None:
        raise AgentNotFoundError(org_id=org_id, agent_id=agent_id)
    return to_agent(row["agent"])


async def _list_org_agents(tx: AsyncManagedTransaction, org_id: str) -> list[Agent]:
    rows = await fetch(tx, cypher.LIST_ORG_AGENTS, org_id=org_id)
    if not rows:
        await require_org(tx, org_id)
    return [to_agent(row["agent"]) for row in rows]


async def _list_user_agents(tx: AsyncManagedTransaction, org_id: str, user_id: str) -> list[Agent]:
    rows = await fetch(tx, cypher.LIST_USER_AGENTS, org_user_id=user_key(org_id, user_id))
    if not rows:
        await require_user(tx, org_id, user_id)
    return [to_agent(row["agent"]) for row in rows]


async def _delete_agent(tx: AsyncManagedTransaction, org_id: str, agent_id: str) -> Deleted:
    key = agent_key(org_id, agent_id)
    found = await fetch_one(tx, cypher.GET_AGENT, org_agent_id=key) is not None
    await fetch(tx, cypher.DELETE_AGENT, org_agent_id=key)
    return Deleted(found=found)


# ---------------------------------------------------------------------- backend hooks
class Neo4jTenants(Neo4jCore):
    """Organization, user and agent hooks of :class:`Neo4jGraphInterface` (validated input)."""

    async def _create_organization(
        self, org_id: str, org_name: str, created_at: datetime
    ) -> Organization:
        return await self._write(_create_org, org_id, org_name, created_at)

    async def _update_organization(self, org_id: str, org_name: str) -> Organization:
        return await self._write(_update_org, org_id, org_name)

    async def _delete_organization(self, org_id: str) -> Deleted:
        return await self._write(_delete_org, org_id)

    async def _get_organization(self, org_id: str) -> Organization:
        return await self._read(_get_org, org_id)

    async def _get_all_organizations(self) -> list[Organization]:
        return await self._read(_list_orgs)

    async def _create_agent(
        self,
        org_id: str,
        agent_id: str,
        agent_label: str,
        user_id: str | None,
        created_at: datetime,
    ) -> Agent:
        return await self._write(_create_agent, org_id, agent_id, agent_label, user_id, created_at)

    async def _update_agent(self, org_id: str, agent_id: str, agent_label: str) -> Agent:
        return await self._write(_update_agent, org_id, agent_id, agent_label)

    async def _delete_agent(self, org_id: str, agent_id: str) -> Deleted:
        return await self._write(_delete_agent, org_id, agent_id)

    async def _get_agent(self, org_id: str, agent_id: str) -> Agent:
        return await self._read(_get_agent, org_id, agent_id)

    async def _get_all_org_agents(self, org_id: str) -> list[Agent]:
        return await self._read(_list_org_agents, org_id)

    async def _get_all_user_agents(self, org_id: str, user_id: str) -> list[Agent]:
        return await self._read(_list_user_agents, org_id, user_id)

    async def _create_user(
        self, org_id: str, user_id: str, user_name: str, created_at: datetime
    ) -> User:
        return await self._write(_create_user, org_id, user_id, user_name, created_at)

    async def _update_user(self, org_id: str, user_id: str, user_name: str) -> User:
        return await self._write(_update_user, org_id, user_id, user_name)

    async def _delete_user(self, org_id: str, user_id: str) -> Deleted:
        return await self._write(_delete_user, org_id, user_id)

    async def _get_user(self, org_id: str, user_id: str) -> User:
        return await self._read(_get_user, org_id, user_id)

    async def _get_all_org_users(self, org_id: str) -> list[User]:
        return await self._read(_list_org_users, org_id)
