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
from memora_engine.graph_db.checks import check_name, creation_time, optional_id
from memora_engine.graph_db.neo4j import cypher
from memora_engine.graph_db.neo4j.core import Neo4jCore, fetch, fetch_one
from memora_engine.graph_db.neo4j.mapping import (
    agent_key,
    to_agent,
    to_organization,
    to_user,
    user_key,
)
from memora_engine.ids import new_short_id, require_id
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


async def _delete_org(tx: AsyncManagedTransaction, org_id: str) -> None:
    for step in cypher.DELETE_ORG_STEPS:
        await fetch(tx, step, org_id=org_id)


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


async def _delete_user(tx: AsyncManagedTransaction, org_id: str, user_id: str) -> None:
    for step in cypher.DELETE_USER_STEPS:
        await fetch(tx, step, org_user_id=user_key(org_id, user_id))


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


async def _delete_agent(tx: AsyncManagedTransaction, org_id: str, agent_id: str) -> None:
    await fetch(tx, cypher.DELETE_AGENT, org_agent_id=agent_key(org_id, agent_id))


# ---------------------------------------------------------------------- public methods
class Neo4jTenants(Neo4jCore):
    """Organization, user and agent methods of :class:`Neo4jGraphInterface`."""

    async def create_organization(
        self, org_name: str, *, org_id: str | None = None, created_at: datetime | None = None
    ) -> Organization:
        name = check_name(org_name, "org_name")
        oid = new_short_id() if org_id is None else require_id(org_id, "org_id")
        return await self._write(_create_org, oid, name, creation_time(created_at))

    async def update_organization(self, org_id: str, new_org_name: str) -> Organization:
        oid, name = require_id(org_id, "org_id"), check_name(new_org_name, "new_org_name")
        return await self._write(_update_org, oid, name)

    async def delete_organization(self, org_id: str) -> None:
        oid = require_id(org_id, "org_id")
        await self._write(_delete_org, oid)
        if self.associated_vector_db is not None:
            await self.associated_vector_db.delete_all_organization_memories(oid)

    async def get_organization(self, org_id: str) -> Organization:
        return await self._read(_get_org, require_id(org_id, "org_id"))

    async def get_all_organizations(self) -> list[Organization]:
        return await self._read(_list_orgs)

    async def create_agent(
        self,
        org_id: str,
        agent_label: str,
        user_id: str | None = None,
        *,
        agent_id: str | None = None,
        created_at: datetime | None = None,
    ) -> Agent:
        oid, label = require_id(org_id, "org_id"), check_name(agent_label, "agent_label")
        uid = optional_id(user_id, "user_id")
        aid = new_short_id() if agent_id is None else require_id(agent_id, "agent_id")
        when = creation_time(created_at)
        return await self._write(_create_agent, oid, aid, label, uid, when)

    async def update_agent(self, org_id: str, agent_id: str, new_agent_label: str) -> Agent:
        oid, aid = require_id(org_id, "org_id"), require_id(agent_id, "agent_id")
        label = check_name(new_agent_label, "new_agent_label")
        return await self._write(_update_agent, oid, aid, label)

    async def delete_agent(self, org_id: str, agent_id: str) -> None:
        oid, aid = require_id(org_id, "org_id"), require_id(agent_id, "agent_id")
        await self._write(_delete_agent, oid, aid)

    async def get_agent(self, org_id: str, agent_id: str) -> Agent:
        oid, aid = require_id(org_id, "org_id"), require_id(agent_id, "agent_id")
        return await self._read(_get_agent, oid, aid)

    async def get_all_org_agents(self, org_id: str) -> list[Agent]:
        return await self._read(_list_org_agents, require_id(org_id, "org_id"))

    async def get_all_user_agents(self, org_id: str, user_id: str) -> list[Agent]:
        oid, uid = require_id(org_id, "org_id"), require_id(user_id, "user_id")
        return await self._read(_list_user_agents, oid, uid)

    async def create_user(
        self,
        org_id: str,
        user_name: str,
        *,
        user_id: str | None = None,
        created_at: datetime | None = None,
    ) -> User:
        oid, name = require_id(org_id, "org_id"), check_name(user_name, "user_name")
        uid = new_short_id() if user_id is None else require_id(user_id, "user_id")
        return await self._write(_create_user, oid, uid, name, creation_time(created_at))

    async def update_user(self, org_id: str, user_id: str, new_user_name: str) -> User:
        oid, uid = require_id(org_id, "org_id"), require_id(user_id, "user_id")
        name = check_name(new_user_name, "new_user_name")
        return await self._write(_update_user, oid, uid, name)

    async def delete_user(self, org_id: str, user_id: str) -> None:
        oid, uid = require_id(org_id, "org_id"), require_id(user_id, "user_id")
        await self._write(_delete_user, oid, uid)
        if self.associated_vector_db is not None:
            await self.associated_vector_db.delete_all_user_memories(oid, uid)

    async def get_user(self, org_id: str, user_id: str) -> User:
        oid, uid = require_id(org_id, "org_id"), require_id(user_id, "user_id")
        return await self._read(_get_user, oid, uid)

    async def get_all_org_users(self, org_id: str) -> list[User]:
        return await self._read(_list_org_users, require_id(org_id, "org_id"))
