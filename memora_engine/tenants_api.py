"""Organizations, users and agents: the tenant part of :class:`~memora_engine.Memora`'s API.

Every method is a thin, typed door over the graph store; input is validated by the store's
public methods. Deletes cascade to the vector index through the engine, and return whether
anything was deleted (``False``: it did not exist), so callers can report "not found".
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TypeVar

from memora_engine.coordinator import StoreCoordinator
from memora_engine.errors import ConflictError, NotFoundError
from memora_engine.graph_db.base import BaseGraphDB
from memora_engine.ids import checked_arguments
from memora_engine.schema.models import Agent, Organization, User

__all__ = ["TenantManagement"]

T = TypeVar("T")


class TenantManagement:
    """Create, read, rename, delete and get-or-create organizations, users and agents.

    The base of :class:`~memora_engine.Memora`; see there for construction.

    Examples:
        >>> org = await memora.create_organization("Acme")
        >>> user = await memora.get_or_create_user(org.org_id, "app-user-42", user_name="Jake")
        >>> agent = await memora.create_agent(org.org_id, "Jarvis", user_id=user.user_id)
    """

    graph_db: BaseGraphDB
    _stores: StoreCoordinator

    # ------------------------------------------------------------------ organizations
    @checked_arguments
    async def create_organization(
        self, org_name: str, *, org_id: str | None = None, created_at: datetime | None = None
    ) -> Organization:
        """Create an organization (a new id unless ``org_id`` is given).

        Raises:
            ConflictError: ``org_id`` already exists.
        """
        return await self.graph_db.create_organization(
            org_name, org_id=org_id, created_at=created_at
        )

    @checked_arguments
    async def get_organization(self, org_id: str) -> Organization:
        """Get one organization (``OrganizationNotFoundError`` if missing)."""
        return await self.graph_db.get_organization(org_id)

    @checked_arguments
    async def list_organizations(self) -> list[Organization]:
        """Every organization, newest first."""
        return await self.graph_db.get_all_organizations()

    @checked_arguments
    async def update_organization(self, org_id: str, new_org_name: str) -> Organization:
        """Rename an organization."""
        return await self.graph_db.update_organization(org_id, new_org_name)

    @checked_arguments
    async def delete_organization(self, org_id: str) -> bool:
        """Delete the organization and everything below it (vectors included).

        Returns:
            ``False`` when there was no such organization.
        """
        return await self._stores.delete_organization(org_id)

    @checked_arguments
    async def get_or_create_organization(
        self, org_id: str, *, org_name: str | None = None
    ) -> Organization:
        """The organization ``org_id``, created (named ``org_name`` or its id) if missing."""
        return await _get_or_create(
            lambda: self.graph_db.get_organization(org_id),
            lambda: self.graph_db.create_organization(org_name or org_id, org_id=org_id),
        )

    # ------------------------------------------------------------------ users
    @checked_arguments
    async def create_user(
        self,
        org_id: str,
        user_name: str,
        *,
        user_id: str | None = None,
        created_at: datetime | None = None,
    ) -> User:
        """Create a user of the organization (a new id unless ``user_id`` is given).

        Raises:
            OrganizationNotFoundError: no such organization.
            ConflictError: ``user_id`` already exists in the organization.
        """
        return await self.graph_db.create_user(
            org_id, user_name, user_id=user_id, created_at=created_at
        )

    @checked_arguments
    async def get_user(self, org_id: str, user_id: str) -> User:
        """Get one user of the organization (``UserNotFoundError`` if missing)."""
        return await self.graph_db.get_user(org_id, user_id)

    @checked_arguments
    async def list_users(self, org_id: str) -> list[User]:
        """Every user of the organization, newest first."""
        return await self.graph_db.get_all_org_users(org_id)

    @checked_arguments
    async def update_user(self, org_id: str, user_id: str, new_user_name: str) -> User:
        """Rename a user (every memory about them reads differently)."""
        return await self.graph_db.update_user(org_id, user_id, new_user_name)

    @checked_arguments
    async def delete_user(self, org_id: str, user_id: str) -> bool:
        """Delete the user with their interactions, memories and vectors (their agents stay).

        Returns:
            ``False`` when there was no such user.
        """
        return await self._stores.delete_user(org_id, user_id)

    @checked_arguments
    async def get_or_create_user(
        self, org_id: str, user_id: str, *, user_name: str | None = None
    ) -> User:
        """The user ``user_id`` (e.g. your app's id), created (named ``user_name``) if missing."""
        return await _get_or_create(
            lambda: self.graph_db.get_user(org_id, user_id),
            lambda: self.graph_db.create_user(org_id, user_name or user_id, user_id=user_id),
        )

    # ------------------------------------------------------------------ agents
    @checked_arguments
    async def create_agent(
        self,
        org_id: str,
        agent_label: str,
        user_id: str | None = None,
        *,
        agent_id: str | None = None,
        created_at: datetime | None = None,
    ) -> Agent:
        """Create an org-level agent, or with ``user_id`` one that belongs to that user too.

        Raises:
            OrganizationNotFoundError / UserNotFoundError: the owner is missing.
            ConflictError: ``agent_id`` already exists in the organization.
        """
        return await self.graph_db.create_agent(
            org_id, agent_label, user_id, agent_id=agent_id, created_at=created_at
        )

    @checked_arguments
    async def get_agent(self, org_id: str, agent_id: str) -> Agent:
        """Get one agent of the organization (``AgentNotFoundError`` if missing)."""
        return await self.graph_db.get_agent(org_id, agent_id)

    @checked_arguments
    async def list_agents(self, org_id: str, *, user_id: str | None = None) -> list[Agent]:
        """The organization's agents, or with ``user_id`` the ones that user owns; newest first."""
        if user_id is None:
            return await self.graph_db.get_all_org_agents(org_id)
        return await self.graph_db.get_all_user_agents(org_id, user_id)

    @checked_arguments
    async def update_agent(self, org_id: str, agent_id: str, new_agent_label: str) -> Agent:
        """Change an agent's label."""
        return await self.graph_db.update_agent(org_id, agent_id, new_agent_label)

    @checked_arguments
    async def delete_agent(self, org_id: str, agent_id: str) -> bool:
        """Delete the agent only (its interactions and memories stay).

        Returns:
            ``False`` when there was no such agent.
        """
        return (await self.graph_db.delete_agent(org_id, agent_id)).found

    @checked_arguments
    async def get_or_create_agent(
        self,
        org_id: str,
        agent_id: str,
        *,
        agent_label: str | None = None,
        user_id: str | None = None,
    ) -> Agent:
        """The agent ``agent_id``, created (labelled ``agent_label``, owned by ``user_id``) if
        missing."""
        return await _get_or_create(
            lambda: self.graph_db.get_agent(org_id, agent_id),
            lambda: self.graph_db.create_agent(
                org_id, agent_label or agent_id, user_id, agent_id=agent_id
            ),
        )


async def _get_or_create(get: Callable[[], Awaitable[T]], create: Callable[[], Awaitable[T]]) -> T:
    """``get()``, else ``create()``; a concurrent creator's ``ConflictError`` means get again."""
    try:
        return await get()
    except NotFoundError:
        pass
    try:
        return await create()
    except ConflictError:
        return await get()
