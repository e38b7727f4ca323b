"""The tenant methods of :class:`~memora_engine.graph_db.base.BaseGraphDB`: organizations,
agents and users (validated here, then passed to the backend's hooks).
"""

from __future__ import annotations

from datetime import datetime

from memora_engine.graph_db.checks import check_name, creation_time, optional_id, require_ids
from memora_engine.graph_db.hooks import Deleted, GraphHooks
from memora_engine.ids import new_short_id, require_id
from memora_engine.schema.models import Agent, Organization, User

__all__ = ["TenantMethods"]


class TenantMethods(GraphHooks):
    """Create, rename, delete, get and list organizations, agents and users.

    A mixin of :class:`~memora_engine.graph_db.base.BaseGraphDB` (the rules of its module
    docstring apply); it only validates and calls the hooks.

    Examples:
        >>> async with SqliteGraphDB(":memory:") as graph:  # doctest: +SKIP
        ...     org = await graph.create_organization("Acme")
        ...     (await graph.create_user(org.org_id, "Ada")).user_name
        'Ada'
    """

    # ------------------------------------------------------------------ organization
    async def create_organization(
        self, org_name: str, *, org_id: str | None = None, created_at: datetime | None = None
    ) -> Organization:
        """Create an organization (a new shortuuid id unless ``org_id`` is given).

        ``created_at`` presets the creation time (default: now); naive means UTC.

        Raises:
            ConflictError: ``org_id`` already exists.
        """
        name = check_name(org_name, "org_name")
        oid = new_short_id() if org_id is None else require_id(org_id, "org_id")
        return await self._create_organization(oid, name, creation_time(created_at))

    async def update_organization(self, org_id: str, new_org_name: str) -> Organization:
        """Rename an organization."""
        oid, name = require_id(org_id, "org_id"), check_name(new_org_name, "new_org_name")
        return await self._update_organization(oid, name)

    async def delete_organization(self, org_id: str) -> Deleted:
        """Delete the organization and everything below it; reports the memories deleted."""
        return await self._delete_organization(require_id(org_id, "org_id"))

    async def get_organization(self, org_id: str) -> Organization:
        """Get one organization."""
        return await self._get_organization(require_id(org_id, "org_id"))

    async def get_all_organizations(self) -> list[Organization]:
        """All organizations, newest first."""
        return await self._get_all_organizations()

    # ------------------------------------------------------------------ agent
    async def create_agent(
        self,
        org_id: str,
        agent_label: str,
        user_id: str | None = None,
        *,
        agent_id: str | None = None,
        created_at: datetime | None = None,
    ) -> Agent:
        """Create an org-level agent, or with ``user_id`` one that also belongs to that user.

        ``created_at`` presets the creation time (default: now); naive means UTC.

        Raises:
            OrganizationNotFoundError / UserNotFoundError: the owner is missing.
            ConflictError: ``agent_id`` already exists in the org.
        """
        oid, label = require_id(org_id, "org_id"), check_name(agent_label, "agent_label")
        uid = optional_id(user_id, "user_id")
        aid = new_short_id() if agent_id is None else require_id(agent_id, "agent_id")
        return await self._create_agent(oid, aid, label, uid, creation_time(created_at))

    async def update_agent(self, org_id: str, agent_id: str, new_agent_label: str) -> Agent:
        """Change an agent's label (every memory mentioning it reads differently)."""
        oid, aid = require_ids((org_id, "org_id"), (agent_id, "agent_id"))
        label = check_name(new_agent_label, "new_agent_label")
        return await self._update_agent(oid, aid, label)

    async def delete_agent(self, org_id: str, agent_id: str) -> Deleted:
        """Delete the agent only. Its interactions and memories stay readable and searchable;
        placeholders of the deleted agent are then left unresolved."""
        oid, aid = require_ids((org_id, "org_id"), (agent_id, "agent_id"))
        return await self._delete_agent(oid, aid)

    async def get_agent(self, org_id: str, agent_id: str) -> Agent:
        """Get one agent of the organization."""
        oid, aid = require_ids((org_id, "org_id"), (agent_id, "agent_id"))
        return await self._get_agent(oid, aid)

    async def get_all_org_agents(self, org_id: str) -> list[Agent]:
        """Every agent of the organization (org-level and per-user), newest first."""
        return await self._get_all_org_agents(require_id(org_id, "org_id"))

    async def get_all_user_agents(self, org_id: str, user_id: str) -> list[Agent]:
        """The agents that belong to one user, newest first."""
        oid, uid = require_ids((org_id, "org_id"), (user_id, "user_id"))
        return await self._get_all_user_agents(oid, uid)

    # ------------------------------------------------------------------ user
    async def create_user(
        self,
        org_id: str,
        user_name: str,
        *,
        user_id: str | None = None,
        created_at: datetime | None = None,
    ) -> User:
        """Create a user (a new shortuuid id unless ``user_id`` is given, e.g. your app's id).

        ``created_at`` presets the creation time (default: now); naive means UTC.

        Raises:
            OrganizationNotFoundError: the org is missing.
            ConflictError: ``user_id`` already exists in the org.
        """
        oid, name = require_id(org_id, "org_id"), check_name(user_name, "user_name")
        uid = new_short_id() if user_id is None else require_id(user_id, "user_id")
        return await self._create_user(oid, uid, name, creation_time(created_at))

    async def update_user(self, org_id: str, user_id: str, new_user_name: str) -> User:
        """Rename a user (every memory about them reads differently)."""
        oid, uid = require_ids((org_id, "org_id"), (user_id, "user_id"))
        return await self._update_user(oid, uid, check_name(new_user_name, "new_user_name"))

    async def delete_user(self, org_id: str, user_id: str) -> Deleted:
        """Delete the user with their interactions, messages and memories (reported).
        Agents owned by the user stay (as org-level agents)."""
        oid, uid = require_ids((org_id, "org_id"), (user_id, "user_id"))
        return await self._delete_user(oid, uid)

    async def get_user(self, org_id: str, user_id: str) -> User:
        """Get one user of the organization."""
        oid, uid = require_ids((org_id, "org_id"), (user_id, "user_id"))
        return await self._get_user(oid, uid)

    async def get_all_org_users(self, org_id: str) -> list[User]:
        """Every user of the organization, newest first."""
        return await self._get_all_org_users(require_id(org_id, "org_id"))
