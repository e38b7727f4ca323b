"""Interactions: save, get, list, the update diff, and concurrent updates."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import pytest

from memora_engine.errors import ConflictError, InteractionNotFoundError
from memora_engine.graph_db.base import BaseGraphDB
from memora_engine.schema.models import Interaction
from memora_engine.testing.graph_suite.support import T0, GraphSuiteBase, World, at, dto

__all__ = ["InteractionTests"]


def _pairs(interaction: Interaction) -> list[tuple[str, str, int]]:
    return [(m.role, m.content, m.msg_position) for m in interaction.messages]


class InteractionTests(GraphSuiteBase):
    """Interaction writes and reads."""

    async def test_save_and_get_interaction(self, graph_db: BaseGraphDB, world: World) -> None:
        """If this fails, check save_interaction_with_memories stores messages, memories, dates."""
        data = dto(
            ["I'm allergic to peanuts", "Noted!", "And I live in Oslo"],
            [("user_x is allergic to peanuts", [0]), ("lives in Oslo", [2, 0])],
            date=T0,
        )
        ix_id, date = await graph_db.save_interaction_with_memories(
            world.org_id, world.agent_id, world.user_id, data
        )
        assert ix_id
        assert date == T0
        got = await graph_db.get_interaction(world.org_id, world.user_id, ix_id)
        assert (got.org_id, got.user_id, got.agent_id) == (
            world.org_id,
            world.user_id,
            world.agent_id,
        )
        assert got.created_at == got.updated_at == T0
        assert _pairs(got) == [
            ("user", "I'm allergic to peanuts", 0),
            ("assistant", "Noted!", 1),
            ("user", "And I live in Oslo", 2),
        ]
        by_text = {m.memory: m for m in got.memories}
        assert set(by_text) == {"user_x is allergic to peanuts", "lives in Oslo"}
        oslo = by_text["lives in Oslo"]
        assert [s.msg_position for s in oslo.message_sources] == [0, 2]
        assert oslo.message_sources[1].content == "And I live in Oslo"
        assert oslo.obtained_at == T0
        assert oslo.interaction_id == ix_id
        assert oslo.agent_id == world.agent_id

    async def test_get_interaction_flags(self, graph_db: BaseGraphDB, world: World) -> None:
        """If this fails, check with_messages / with_memories=False give empty lists."""
        ix_id, _ = await graph_db.save_interaction_with_memories(
            world.org_id, world.agent_id, world.user_id, dto(["hi"], [("fact", [0])])
        )
        bare = await graph_db.get_interaction(world.org_id, world.user_id, ix_id, False, False)
        assert bare.messages == []
        assert bare.memories == []
        only_messages = await graph_db.get_interaction(
            world.org_id, world.user_id, ix_id, with_messages=True, with_memories=False
        )
        assert len(only_messages.messages) == 1
        assert only_messages.memories == []

    async def test_datetimes_round_trip_with_offset(
        self, graph_db: BaseGraphDB, world: World
    ) -> None:
        """If this fails, check stored datetimes keep their value, microseconds and UTC offset."""
        tz = timezone(timedelta(hours=5, minutes=30))
        date = datetime(2023, 7, 14, 22, 5, 1, 123456, tzinfo=tz)
        ix_id, returned = await graph_db.save_interaction_with_memories(
            world.org_id, world.agent_id, world.user_id, dto(["hi"], ["fact"], date=date)
        )
        assert returned == date
        got = await graph_db.get_interaction(world.org_id, world.user_id, ix_id)
        for value in (got.created_at, got.updated_at, got.memories[0].obtained_at):
            assert value == date
            assert value.utcoffset() == timedelta(hours=5, minutes=30)

    async def test_save_with_preset_interaction_id_and_conflict(
        self, graph_db: BaseGraphDB, world: World
    ) -> None:
        """If this fails, check a given interaction_id is used and a taken one conflicts."""
        ix_id, _ = await graph_db.save_interaction_with_memories(
            world.org_id, world.agent_id, world.user_id, dto(["a"]), interaction_id="chat-1"
        )
        assert ix_id == "chat-1"
        with pytest.raises(ConflictError):
            await graph_db.save_interaction_with_memories(
                world.org_id, world.agent_id, world.user_id, dto(["b"], ["m"]),
                interaction_id="chat-1",
            )  # fmt: skip
        got = await graph_db.get_interaction(world.org_id, world.user_id, "chat-1")
        assert [m.content for m in got.messages] == ["a"]
        assert await graph_db.get_all_user_memories(world.org_id, world.user_id) == []

    async def test_save_without_messages_keeps_memories(
        self, graph_db: BaseGraphDB, world: World
    ) -> None:
        """If this fails, check an empty message list still stores the memories (original bug)."""
        ix_id, date = await graph_db.save_interaction_with_memories(
            world.org_id, world.agent_id, world.user_id, dto([], ["standalone fact"])
        )
        assert isinstance(date, datetime)
        got = await graph_db.get_interaction(world.org_id, world.user_id, ix_id)
        assert got.messages == []
        assert [m.memory for m in got.memories] == ["standalone fact"]
        assert got.memories[0].message_sources == []

    async def test_list_interactions_newest_first_with_pagination(
        self, graph_db: BaseGraphDB, world: World
    ) -> None:
        """If this fails, check get_all_user_interactions orders by updated_at desc and pages."""
        ids = []
        for i in range(5):
            ix_id, _ = await graph_db.save_interaction_with_memories(
                world.org_id, world.agent_id, world.user_id, dto([f"m{i}"], [f"f{i}"], date=at(i))
            )
            ids.append(ix_id)
        # Updating the oldest makes it the most recent.
        await graph_db.update_interaction_and_memories(
            world.org_id, world.agent_id, world.user_id, ids[0], dto(["m0", "more"], date=at(10))
        )
        expected = [ids[0], ids[4], ids[3], ids[2], ids[1]]
        listed = await graph_db.get_all_user_interactions(world.org_id, world.user_id)
        assert [i.interaction_id for i in listed] == expected
        assert [m.content for m in listed[0].messages] == ["m0", "more"]
        assert [m.memory for m in listed[1].memories] == ["f4"]
        page = await graph_db.get_all_user_interactions(
            world.org_id, world.user_id, False, False, skip=1, limit=2
        )
        assert [i.interaction_id for i in page] == expected[1:3]
        assert all(i.messages == [] and i.memories == [] for i in page)
        assert await graph_db.get_all_user_interactions(world.org_id, world.user_id, skip=5) == []

    async def test_missing_interaction_raises(self, graph_db: BaseGraphDB, world: World) -> None:
        """If this fails, check get/update of a missing interaction raise InteractionNotFoundError."""
        with pytest.raises(InteractionNotFoundError) as info:
            await graph_db.get_interaction(world.org_id, world.user_id, "nope")
        assert info.value.ids["interaction_id"] == "nope"
        with pytest.raises(InteractionNotFoundError):
            await graph_db.update_interaction_and_memories(
                world.org_id, world.agent_id, world.user_id, "nope", dto(["x"], ["m"])
            )
        assert await graph_db.get_all_user_memories(world.org_id, world.user_id) == []

    # ------------------------------------------------------------------ the update diff
    async def _update_case(
        self,
        db: BaseGraphDB,
        world: World,
        old: list[str],
        new: list[str],
    ) -> Interaction:
        """Save ``old`` with one memory per message, update to ``new``, return the result."""
        ix_id, _ = await db.save_interaction_with_memories(
            world.org_id, world.agent_id, world.user_id,
            dto(old, [(f"about {text}", [i]) for i, text in enumerate(old)], date=at(0)),
        )  # fmt: skip
        await db.update_interaction_and_memories(
            world.org_id, world.agent_id, world.user_id, ix_id, dto(new, date=at(1))
        )
        return await db.get_interaction(world.org_id, world.user_id, ix_id)

    @staticmethod
    def _sourced(interaction: Interaction) -> dict[str, list[str]]:
        return {m.memory: [s.content for s in m.message_sources] for m in interaction.memories}

    async def test_update_with_empty_list_clears_messages(
        self, graph_db: BaseGraphDB, world: World
    ) -> None:
        """If this fails, check the diff case "empty new list clears every message"."""
        got = await self._update_case(graph_db, world, ["a", "b"], [])
        assert got.messages == []
        assert self._sourced(got) == {"about a": [], "about b": []}

    async def test_update_of_empty_interaction_adds_all(
        self, graph_db: BaseGraphDB, world: World
    ) -> None:
        """If this fails, check the diff case "empty stored list adds every message"."""
        got = await self._update_case(graph_db, world, [], ["a", "b"])
        assert _pairs(got) == [("user", "a", 0), ("assistant", "b", 1)]

    async def test_update_mismatch_truncates_and_appends(
        self, graph_db: BaseGraphDB, world: World
    ) -> None:
        """If this fails, check the first role/content mismatch truncates there and appends."""
        got = await self._update_case(graph_db, world, ["a", "b", "c"], ["a", "B", "c", "d"])
        assert [m.content for m in got.messages] == ["a", "B", "c", "d"]
        assert [m.msg_position for m in got.messages] == [0, 1, 2, 3]
        # "about c" pointed at position 2, which was truncated: the new "c" is another message.
        assert self._sourced(got) == {"about a": ["a"], "about b": [], "about c": []}

    async def test_update_role_mismatch_counts(self, graph_db: BaseGraphDB, world: World) -> None:
        """If this fails, check a role change alone (same content) is a mismatch."""
        ix_id, _ = await graph_db.save_interaction_with_memories(
            world.org_id, world.agent_id, world.user_id, dto([("user", "x"), ("user", "y")])
        )
        await graph_db.update_interaction_and_memories(
            world.org_id, world.agent_id, world.user_id, ix_id,
            dto([("user", "x"), ("assistant", "y")]),
        )  # fmt: skip
        got = await graph_db.get_interaction(world.org_id, world.user_id, ix_id)
        assert _pairs(got) == [("user", "x", 0), ("assistant", "y", 1)]

    async def test_update_mismatch_at_first_message(
        self, graph_db: BaseGraphDB, world: World
    ) -> None:
        """If this fails, check a mismatch at position 0 replaces every message."""
        got = await self._update_case(graph_db, world, ["a", "b"], ["z"])
        assert [m.content for m in got.messages] == ["z"]
        assert self._sourced(got) == {"about a": [], "about b": []}

    async def test_update_shorter_prefix_truncates(
        self, graph_db: BaseGraphDB, world: World
    ) -> None:
        """If this fails, check a shorter prefix-equal list truncates to its length."""
        got = await self._update_case(graph_db, world, ["a", "b", "c"], ["a", "b"])
        assert [m.content for m in got.messages] == ["a", "b"]
        assert self._sourced(got) == {"about a": ["a"], "about b": ["b"], "about c": []}

    async def test_update_longer_prefix_appends(self, graph_db: BaseGraphDB, world: World) -> None:
        """If this fails, check a longer prefix-equal list appends and keeps earlier sources."""
        got = await self._update_case(graph_db, world, ["a", "b"], ["a", "b", "c", "d"])
        assert [m.content for m in got.messages] == ["a", "b", "c", "d"]
        assert self._sourced(got) == {"about a": ["a"], "about b": ["b"]}

    async def test_update_with_equal_list_changes_no_message(
        self, graph_db: BaseGraphDB, world: World
    ) -> None:
        """If this fails, check an identical list keeps messages and sources as they were."""
        got = await self._update_case(graph_db, world, ["a", "b"], ["a", "b"])
        assert [m.content for m in got.messages] == ["a", "b"]
        assert self._sourced(got) == {"about a": ["a"], "about b": ["b"]}

    async def test_update_records_time_agent_and_new_memories(
        self, graph_db: BaseGraphDB, world: World
    ) -> None:
        """If this fails, check updates set updated_at, the last agent, and add new memories
        whose sources index the updated list."""
        other = await graph_db.create_agent(world.org_id, "Other bot")
        ix_id, _ = await graph_db.save_interaction_with_memories(
            world.org_id, world.agent_id, world.user_id, dto(["a", "b"], [("old", [1])], date=at(0))
        )
        returned = await graph_db.update_interaction_and_memories(
            world.org_id, other.agent_id, world.user_id, ix_id,
            dto(["a", "X", "Y"], [("new", [1, 2])], date=at(5)),
        )  # fmt: skip
        assert returned == (ix_id, at(5))
        got = await graph_db.get_interaction(world.org_id, world.user_id, ix_id)
        assert got.created_at == at(0)
        assert got.updated_at == at(5)
        assert got.agent_id == other.agent_id
        by_text = {m.memory: m for m in got.memories}
        assert [s.content for s in by_text["new"].message_sources] == ["X", "Y"]
        assert by_text["new"].agent_id == other.agent_id
        assert by_text["new"].obtained_at == at(5)
        assert by_text["old"].message_sources == []
        assert by_text["old"].agent_id == world.agent_id
        everything = await graph_db.get_all_user_memories(world.org_id, world.user_id)
        assert [m.memory for m in everything] == ["new", "old"]

    async def test_get_user_memory_after_its_sources_were_truncated(
        self, graph_db: BaseGraphDB, world: World
    ) -> None:
        """If this fails, check get_user_memory does not require message sources (original bug)."""
        ix_id, _ = await graph_db.save_interaction_with_memories(
            world.org_id, world.agent_id, world.user_id, dto(["a", "b"], [("fact", [1])])
        )
        memory_id = (await graph_db.get_all_user_memories(world.org_id, world.user_id))[0].memory_id
        await graph_db.update_interaction_and_memories(
            world.org_id, world.agent_id, world.user_id, ix_id, dto(["a"])
        )
        got = await graph_db.get_user_memory(world.org_id, world.user_id, memory_id)
        assert got.memory == "fact"
        assert got.message_sources == []

    async def test_concurrent_updates_of_one_interaction_serialize(
        self, graph_db: BaseGraphDB, world: World
    ) -> None:
        """If this fails, check an update reads and diffs the messages in ONE transaction."""
        ix_id, _ = await graph_db.save_interaction_with_memories(
            world.org_id, world.agent_id, world.user_id, dto(["m0"])
        )
        conversation = [f"m{i}" for i in range(12)]

        async def grow(length: int) -> None:
            await graph_db.update_interaction_and_memories(
                world.org_id, world.agent_id, world.user_id, ix_id,
                dto(conversation[:length], [(f"fact {length}", [length - 1])], date=at(length)),
            )  # fmt: skip

        await asyncio.gather(*(grow(n) for n in range(2, 13)))
        got = await graph_db.get_interaction(world.org_id, world.user_id, ix_id)
        contents = [m.content for m in got.messages]
        # Every update left a consistent prefix of the conversation; none interleaved.
        assert contents == conversation[: len(contents)]
        assert [m.msg_position for m in got.messages] == list(range(len(contents)))
        assert len(got.memories) == 11

    async def test_concurrent_saves_from_many_coroutines(
        self, graph_db: BaseGraphDB, world: World
    ) -> None:
        """If this fails, check one store is safe to share between many coroutines."""
        results = await asyncio.gather(
            *(
                graph_db.save_interaction_with_memories(
                    world.org_id,
                    world.agent_id,
                    world.user_id,
                    dto([f"q{i}"], [f"f{i}"], date=at(i)),
                )
                for i in range(20)
            )
        )
        assert len({ix_id for ix_id, _ in results}) == 20
        memories = await graph_db.get_all_user_memories(world.org_id, world.user_id)
        assert [m.memory for m in memories] == [f"f{i}" for i in reversed(range(20))]
