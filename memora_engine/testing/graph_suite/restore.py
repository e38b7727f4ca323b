"""What an exact backup / restore needs: preset creation times and memory text as stored."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from memora_engine.graph_db.base import BaseGraphDB
from memora_engine.ids import utc_now
from memora_engine.schema.models import Agent, Memory, Organization, User
from memora_engine.testing.graph_suite.support import GraphSuiteBase, World, dto

__all__ = ["RestoreTests"]

_CEST = timezone(timedelta(hours=2))


def _texts(memories: list[Memory]) -> list[str]:
    return sorted(m.memory for m in memories)


class RestoreTests(GraphSuiteBase):
    """``created_at`` on org / user / agent creation and ``resolve_names=False`` reads."""

    async def test_preset_creation_times_are_stored_exactly(self, graph_db: BaseGraphDB) -> None:
        """If this fails, check create_organization / create_user / create_agent store the
        given ``created_at`` (value, microseconds and UTC offset) instead of "now"."""
        old = datetime(2021, 2, 3, 4, 5, 6, 789012, tzinfo=_CEST)
        org = await graph_db.create_organization("Acme", org_id="acme", created_at=old)
        user = await graph_db.create_user("acme", "Jake", user_id="jake", created_at=old)
        agent = await graph_db.create_agent(
            "acme", "Helper", "jake", agent_id="helper", created_at=old
        )
        reads: list[Organization | User | Agent] = [
            org,
            user,
            agent,
            await graph_db.get_organization("acme"),
            await graph_db.get_user("acme", "jake"),
            await graph_db.get_agent("acme", "helper"),
            (await graph_db.get_all_organizations())[0],
            (await graph_db.get_all_org_users("acme"))[0],
            (await graph_db.get_all_org_agents("acme"))[0],
            (await graph_db.get_all_user_agents("acme", "jake"))[0],
        ]
        for entity in reads:
            assert entity.created_at == old, entity
            assert entity.created_at.utcoffset() == timedelta(hours=2), entity
        assert await graph_db.get_organization("acme") == org
        assert await graph_db.get_user("acme", "jake") == user
        assert await graph_db.get_agent("acme", "helper") == agent
        renamed = await graph_db.update_user("acme", "jake", "Jacob")
        assert renamed.created_at == old

    async def test_preset_creation_times_order_the_listings(self, graph_db: BaseGraphDB) -> None:
        """If this fails, check "newest first" listings sort by the stored (preset) time, not
        by insertion order."""
        base = datetime(2020, 1, 1, tzinfo=timezone.utc)
        # Created oldest last: the listings must still put the newest preset time first.
        order = (3, 1, 2)
        for i in order:
            when = base + timedelta(days=i)
            await graph_db.create_organization(f"Org {i}", org_id=f"org{i}", created_at=when)
        for i in order:
            when = base + timedelta(days=i)
            await graph_db.create_user("org1", f"User {i}", user_id=f"u{i}", created_at=when)
            await graph_db.create_agent("org1", f"Agent {i}", agent_id=f"a{i}", created_at=when)
        assert [o.org_id for o in await graph_db.get_all_organizations()] == [
            "org3",
            "org2",
            "org1",
        ]
        assert [u.user_id for u in await graph_db.get_all_org_users("org1")] == ["u3", "u2", "u1"]
        assert [a.agent_id for a in await graph_db.get_all_org_agents("org1")] == ["a3", "a2", "a1"]

    async def test_naive_and_default_creation_times(self, graph_db: BaseGraphDB) -> None:
        """If this fails, check a naive ``created_at`` is taken as UTC (ids.ensure_aware) and
        ``None`` means the time of the call."""
        naive = datetime(2022, 6, 7, 8, 9, 10, 111213)
        org = await graph_db.create_organization("Acme", created_at=naive)
        user = await graph_db.create_user(org.org_id, "Jake", created_at=naive)
        agent = await graph_db.create_agent(org.org_id, "Helper", created_at=naive)
        expected = naive.replace(tzinfo=timezone.utc)
        assert org.created_at == user.created_at == agent.created_at == expected
        assert (await graph_db.get_organization(org.org_id)).created_at == expected
        assert (await graph_db.get_user(org.org_id, user.user_id)).created_at == expected
        assert (await graph_db.get_agent(org.org_id, agent.agent_id)).created_at == expected
        before = utc_now()
        fresh: list[Organization | User | Agent] = [
            await graph_db.create_organization("Now"),
            await graph_db.create_user(org.org_id, "Mia", created_at=None),
            await graph_db.create_agent(org.org_id, "Bot", created_at=None),
        ]
        after = utc_now()
        for entity in fresh:
            assert before - timedelta(seconds=1) <= entity.created_at <= after, entity

    async def test_memory_text_can_be_read_as_stored(
        self, graph_db: BaseGraphDB, world: World
    ) -> None:
        """If this fails, check ``resolve_names=False`` on get_interaction,
        get_all_user_interactions, get_user_memory and get_all_user_memories returns the stored
        text (placeholders kept) and changes nothing else of the memory."""
        mary = await graph_db.create_user(world.org_id, "Mary")
        stored = [
            f"user_{world.user_id}'s sister told agent_{world.agent_id} about peanuts",
            f"user_{world.user_id} met user_{mary.user_id}",
            "no placeholder here",
        ]
        resolved = [
            "Jake's sister told Helper about peanuts",
            f"Jake met user_{mary.user_id}",
            "no placeholder here",
        ]
        ix_id, _ = await graph_db.save_interaction_with_memories(
            world.org_id,
            world.agent_id,
            world.user_id,
            dto(["hi", "hello"], [(stored[0], [0]), (stored[1], [1]), stored[2]]),
        )
        oid, uid = world.org_id, world.user_id

        async def reads(resolve: bool) -> list[list[Memory]]:
            one = await graph_db.get_interaction(oid, uid, ix_id, resolve_names=resolve)
            listed = await graph_db.get_all_user_interactions(oid, uid, resolve_names=resolve)
            memories = await graph_db.get_all_user_memories(oid, uid, resolve_names=resolve)
            singles = [
                await graph_db.get_user_memory(oid, uid, m.memory_id, resolve_names=resolve)
                for m in memories
            ]
            return [one.memories, listed[0].memories, memories, singles]

        raw, default = await reads(False), await reads(True)
        for memories in raw:
            assert _texts(memories) == sorted(stored)
        for memories in default:
            assert _texts(memories) == sorted(resolved)
        assert [m.memory for m in await graph_db.get_all_user_memories(oid, uid)] == [
            m.memory for m in default[2]
        ]
        # Only the text differs: ids, times, agents and message sources are the same.
        for raw_list, resolved_list in zip(raw, default, strict=True):
            assert [m.model_dump(exclude={"memory"}) for m in raw_list] == [
                m.model_dump(exclude={"memory"}) for m in resolved_list
            ]
        # A rename changes resolved reads only; the stored text is untouched.
        await graph_db.update_user(oid, uid, "Jacob")
        await graph_db.update_agent(oid, world.agent_id, "Assistant")
        for memories in await reads(False):
            assert _texts(memories) == sorted(stored)
        renamed = await graph_db.get_interaction(oid, uid, ix_id)
        assert "Jacob's sister told Assistant about peanuts" in _texts(renamed.memories)

    async def test_raw_reads_keep_flags_pagination_and_scoping(
        self, graph_db: BaseGraphDB, world: World
    ) -> None:
        """If this fails, check ``resolve_names=False`` combines with the other options and
        still reads only this user's data."""
        text = f"user_{world.user_id} likes tea"
        for i in range(3):
            await graph_db.save_interaction_with_memories(
                world.org_id,
                world.agent_id,
                world.user_id,
                dto([f"m{i}"], [(text, [0])], date=datetime(2024, 1, 1 + i, tzinfo=timezone.utc)),
                interaction_id=f"ix{i}",
            )
        other = await graph_db.create_user(world.org_id, "Mary")
        page = await graph_db.get_all_user_interactions(
            world.org_id, world.user_id, False, True, 1, 1, resolve_names=False
        )
        assert [(i.interaction_id, i.messages) for i in page] == [("ix1", [])]
        assert [m.memory for m in page[0].memories] == [text]
        bare = await graph_db.get_interaction(
            world.org_id, world.user_id, "ix0", with_memories=False, resolve_names=False
        )
        assert bare.memories == []
        assert [m.content for m in bare.messages] == ["m0"]
        memories = await graph_db.get_all_user_memories(
            world.org_id, world.user_id, world.agent_id, skip=1, limit=1, resolve_names=False
        )
        assert [m.memory for m in memories] == [text]
        assert memories[0].interaction_id == "ix1"
        assert (
            await graph_db.get_all_user_memories(world.org_id, other.user_id, resolve_names=False)
            == []
        )
        assert (
            await graph_db.get_all_user_interactions(
                world.org_id, other.user_id, resolve_names=False
            )
            == []
        )
