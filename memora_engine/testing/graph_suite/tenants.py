"""Organizations, users and agents: create / get / update / list / delete."""

from __future__ import annotations

import pytest

from memora_engine.errors import (
    AgentNotFoundError,
    ConflictError,
    NotFoundError,
    OrganizationNotFoundError,
    UserNotFoundError,
)
from memora_engine.graph_db.base import BaseGraphDB
from memora_engine.testing.graph_suite.support import GraphSuiteBase, World, dto

__all__ = ["TenantTests"]


class TenantTests(GraphSuiteBase):
    """Tenant entities."""

    async def test_setup_is_idempotent(self, graph_db: BaseGraphDB, world: World) -> None:
        """If this fails, check setup() can run again on a used store without losing data."""
        await graph_db.setup()
        await graph_db.setup()
        assert (await graph_db.get_user(world.org_id, world.user_id)).user_name == "Jake"

    async def test_create_and_get_organization(self, graph_db: BaseGraphDB) -> None:
        """If this fails, check create_organization stores name, a new id and an aware time."""
        org = await graph_db.create_organization("Acme")
        assert org.org_name == "Acme"
        assert org.org_id
        assert org.created_at.tzinfo is not None
        assert await graph_db.get_organization(org.org_id) == org

    async def test_create_organization_with_preset_id_and_conflict(
        self, graph_db: BaseGraphDB
    ) -> None:
        """If this fails, check a given org_id is used as-is and a taken one is a ConflictError."""
        org = await graph_db.create_organization("Acme", org_id="acme-1")
        assert org.org_id == "acme-1"
        with pytest.raises(ConflictError):
            await graph_db.create_organization("Other", org_id="acme-1")
        assert (await graph_db.get_organization("acme-1")).org_name == "Acme"

    async def test_update_organization(self, graph_db: BaseGraphDB) -> None:
        """If this fails, check update_organization renames and returns the stored org."""
        org = await graph_db.create_organization("Acme")
        renamed = await graph_db.update_organization(org.org_id, "Acme Corp")
        assert renamed.org_name == "Acme Corp"
        assert renamed.created_at == org.created_at
        assert (await graph_db.get_organization(org.org_id)).org_name == "Acme Corp"

    async def test_missing_organization_raises_not_found(self, graph_db: BaseGraphDB) -> None:
        """If this fails, check get/update/list of a missing org raise OrganizationNotFoundError."""
        with pytest.raises(OrganizationNotFoundError) as info:
            await graph_db.get_organization("nope")
        assert info.value.ids == {"org_id": "nope"}
        assert "nope" in str(info.value)
        with pytest.raises(OrganizationNotFoundError):
            await graph_db.update_organization("nope", "X")
        with pytest.raises(OrganizationNotFoundError):
            await graph_db.get_all_org_users("nope")
        with pytest.raises(OrganizationNotFoundError):
            await graph_db.get_all_org_agents("nope")
        assert await graph_db.get_all_organizations() == []

    async def test_get_all_organizations_newest_first(self, graph_db: BaseGraphDB) -> None:
        """If this fails, check get_all_organizations returns every org ordered newest first."""
        created = [await graph_db.create_organization(f"Org {i}") for i in range(4)]
        listed = await graph_db.get_all_organizations()
        assert {o.org_id for o in listed} == {o.org_id for o in created}
        times = [o.created_at for o in listed]
        assert times == sorted(times, reverse=True)

    async def test_delete_organization_removes_everything(
        self, graph_db: BaseGraphDB, world: World
    ) -> None:
        """If this fails, check delete_organization cascades to users, agents and interactions."""
        await graph_db.save_interaction_with_memories(
            world.org_id, world.agent_id, world.user_id, dto(["hi"], [("fact", [0])])
        )
        await graph_db.delete_organization(world.org_id)
        with pytest.raises(OrganizationNotFoundError):
            await graph_db.get_organization(world.org_id)
        with pytest.raises(NotFoundError):
            await graph_db.get_user(world.org_id, world.user_id)
        with pytest.raises(NotFoundError):
            await graph_db.get_agent(world.org_id, world.agent_id)
        assert await graph_db.get_all_organizations() == []
        # The ids are free again: a new org with the same id starts empty.
        await graph_db.create_organization("Again", org_id=world.org_id)
        assert await graph_db.get_all_org_users(world.org_id) == []

    async def test_delete_missing_entities_is_a_no_op(
        self, graph_db: BaseGraphDB, world: World
    ) -> None:
        """If this fails, check deletes of missing orgs/users/agents are silent no-ops."""
        await graph_db.delete_organization("missing-org")
        await graph_db.delete_user(world.org_id, "missing-user")
        await graph_db.delete_agent(world.org_id, "missing-agent")
        await graph_db.delete_user_interaction_and_its_memories(
            world.org_id, world.user_id, "missing-ix"
        )
        await graph_db.delete_user_memory(
            world.org_id, world.user_id, "00000000-0000-4000-8000-000000000000"
        )
        assert (await graph_db.get_user(world.org_id, world.user_id)).user_name == "Jake"

    async def test_user_crud(self, graph_db: BaseGraphDB) -> None:
        """If this fails, check create_user / get_user / update_user / get_all_org_users."""
        org = await graph_db.create_organization("Acme")
        jake = await graph_db.create_user(org.org_id, "Jake")
        mary = await graph_db.create_user(org.org_id, "Mary", user_id="app-user-42")
        assert mary.user_id == "app-user-42"
        assert jake.created_at.tzinfo is not None
        assert await graph_db.get_user(org.org_id, jake.user_id) == jake
        renamed = await graph_db.update_user(org.org_id, jake.user_id, "Jacob")
        assert renamed.user_name == "Jacob"
        assert renamed.created_at == jake.created_at
        users = await graph_db.get_all_org_users(org.org_id)
        assert {u.user_id: u.user_name for u in users} == {
            jake.user_id: "Jacob",
            "app-user-42": "Mary",
        }
        times = [u.created_at for u in users]
        assert times == sorted(times, reverse=True)

    async def test_user_conflict_and_missing(self, graph_db: BaseGraphDB) -> None:
        """If this fails, check duplicate user ids conflict and missing users/orgs raise."""
        org = await graph_db.create_organization("Acme")
        await graph_db.create_user(org.org_id, "Jake", user_id="u1")
        with pytest.raises(ConflictError):
            await graph_db.create_user(org.org_id, "Other", user_id="u1")
        with pytest.raises(OrganizationNotFoundError):
            await graph_db.create_user("missing-org", "Jake")
        with pytest.raises(UserNotFoundError) as info:
            await graph_db.get_user(org.org_id, "u2")
        assert info.value.ids == {"org_id": org.org_id, "user_id": "u2"}
        with pytest.raises(UserNotFoundError):
            await graph_db.update_user(org.org_id, "u2", "X")
        assert [u.user_name for u in await graph_db.get_all_org_users(org.org_id)] == ["Jake"]

    async def test_agent_crud(self, graph_db: BaseGraphDB) -> None:
        """If this fails, check org-level and per-user agents and their listings."""
        org = await graph_db.create_organization("Acme")
        jake = await graph_db.create_user(org.org_id, "Jake")
        shared = await graph_db.create_agent(org.org_id, "Support bot")
        personal = await graph_db.create_agent(
            org.org_id, "Jake's assistant", jake.user_id, agent_id="assistant-1"
        )
        assert shared.user_id is None
        assert personal.user_id == jake.user_id
        assert personal.agent_id == "assistant-1"
        assert await graph_db.get_agent(org.org_id, "assistant-1") == personal
        renamed = await graph_db.update_agent(org.org_id, shared.agent_id, "Helpdesk")
        assert renamed.agent_label == "Helpdesk"
        assert renamed.created_at == shared.created_at
        org_agents = await graph_db.get_all_org_agents(org.org_id)
        assert {a.agent_id for a in org_agents} == {shared.agent_id, "assistant-1"}
        times = [a.created_at for a in org_agents]
        assert times == sorted(times, reverse=True)
        user_agents = await graph_db.get_all_user_agents(org.org_id, jake.user_id)
        assert [a.agent_id for a in user_agents] == ["assistant-1"]

    async def test_agent_conflict_and_missing_owner(self, graph_db: BaseGraphDB) -> None:
        """If this fails, check create_agent checks its org/user and rejects a taken agent id."""
        org = await graph_db.create_organization("Acme")
        await graph_db.create_agent(org.org_id, "Bot", agent_id="bot")
        with pytest.raises(ConflictError):
            await graph_db.create_agent(org.org_id, "Bot 2", agent_id="bot")
        with pytest.raises(OrganizationNotFoundError):
            await graph_db.create_agent("missing-org", "Bot")
        with pytest.raises(UserNotFoundError):
            await graph_db.create_agent(org.org_id, "Bot", "missing-user")
        with pytest.raises(AgentNotFoundError) as info:
            await graph_db.get_agent(org.org_id, "nope")
        assert info.value.ids == {"org_id": org.org_id, "agent_id": "nope"}
        with pytest.raises(AgentNotFoundError):
            await graph_db.update_agent(org.org_id, "nope", "X")
        with pytest.raises(UserNotFoundError):
            await graph_db.get_all_user_agents(org.org_id, "missing-user")
        assert [a.agent_id for a in await graph_db.get_all_org_agents(org.org_id)] == ["bot"]

    async def test_delete_user_keeps_their_agents_as_org_agents(
        self, graph_db: BaseGraphDB
    ) -> None:
        """If this fails, check delete_user detaches (not deletes) the user's agents."""
        org = await graph_db.create_organization("Acme")
        jake = await graph_db.create_user(org.org_id, "Jake")
        agent = await graph_db.create_agent(org.org_id, "Assistant", jake.user_id)
        await graph_db.delete_user(org.org_id, jake.user_id)
        with pytest.raises(UserNotFoundError):
            await graph_db.get_user(org.org_id, jake.user_id)
        kept = await graph_db.get_agent(org.org_id, agent.agent_id)
        assert kept.user_id is None
        assert kept.agent_label == "Assistant"
        # A new user reusing the id does not inherit the agent.
        await graph_db.create_user(org.org_id, "New Jake", user_id=jake.user_id)
        assert await graph_db.get_all_user_agents(org.org_id, jake.user_id) == []

    async def test_delete_agent_keeps_memories_readable(
        self, graph_db: BaseGraphDB, world: World
    ) -> None:
        """If this fails, check reads of memories never require their agent to exist."""
        text = f"user_{world.user_id} asked agent_{world.agent_id} about peanuts"
        ix_id, _ = await graph_db.save_interaction_with_memories(
            world.org_id, world.agent_id, world.user_id, dto(["peanuts?"], [(text, [0])])
        )
        memory = (await graph_db.get_all_user_memories(world.org_id, world.user_id))[0]
        assert memory.memory == "Jake asked Helper about peanuts"
        await graph_db.delete_agent(world.org_id, world.agent_id)
        with pytest.raises(AgentNotFoundError):
            await graph_db.get_agent(world.org_id, world.agent_id)
        expected = f"Jake asked agent_{world.agent_id} about peanuts"
        got = await graph_db.get_user_memory(world.org_id, world.user_id, memory.memory_id)
        assert got.memory == expected
        assert [m.memory for m in await graph_db.get_all_user_memories(
            world.org_id, world.user_id
        )] == [expected]  # fmt: skip
        resolved = await graph_db.fetch_user_memories_resolved([world.ref(memory.memory_id)])
        assert [m.memory for m in resolved] == [expected]
        history = await graph_db.get_user_memory_history(
            world.org_id, world.user_id, memory.memory_id
        )
        assert [m.memory_id for m in history] == [memory.memory_id]
        interaction = await graph_db.get_interaction(world.org_id, world.user_id, ix_id)
        assert interaction.agent_id == world.agent_id
        assert [m.memory for m in interaction.memories] == [expected]
