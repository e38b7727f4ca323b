"""Bad input: clear InvalidInputError (or NotFound for unknown ids) and nothing written."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any, cast

import pytest

from memora_engine.errors import InvalidInputError, MemoraError, NotFoundError
from memora_engine.graph_db.base import BaseGraphDB
from memora_engine.limits import MAX_NAME_CHARS, MAX_PAGE_LIMIT
from memora_engine.testing.graph_suite.support import GraphSuiteBase, World, dto, snapshot

__all__ = ["BadInputTests"]

Call = Callable[[BaseGraphDB, World, Any], Awaitable[Any]]

BAD_IDS: list[Any] = ["", "has space", "x" * 65, "semi;colon", "ünï", 42, None]
BAD_NAMES: list[Any] = ["", "   ", "x" * (MAX_NAME_CHARS + 1), "nul\x00char", 7, None]
_MID = "00000000-0000-4000-8000-000000000000"

# Every method that takes an id, with the bad value put in one id position.
ID_CALLS: dict[str, Call] = {
    "get_organization": lambda db, w, bad: db.get_organization(bad),
    "update_organization": lambda db, w, bad: db.update_organization(bad, "X"),
    "delete_organization": lambda db, w, bad: db.delete_organization(bad),
    "create_organization(org_id)": lambda db, w, bad: db.create_organization("X", org_id=_pos(bad)),
    "create_user(org_id)": lambda db, w, bad: db.create_user(bad, "X"),
    "create_user(user_id)": lambda db, w, bad: db.create_user(w.org_id, "X", user_id=_pos(bad)),
    "get_user": lambda db, w, bad: db.get_user(w.org_id, bad),
    "update_user": lambda db, w, bad: db.update_user(w.org_id, bad, "X"),
    "delete_user": lambda db, w, bad: db.delete_user(bad, w.user_id),
    "get_all_org_users": lambda db, w, bad: db.get_all_org_users(bad),
    "create_agent(user_id)": lambda db, w, bad: db.create_agent(w.org_id, "X", _pos(bad)),
    "create_agent(agent_id)": lambda db, w, bad: db.create_agent(w.org_id, "X", agent_id=_pos(bad)),
    "get_agent": lambda db, w, bad: db.get_agent(w.org_id, bad),
    "update_agent": lambda db, w, bad: db.update_agent(bad, w.agent_id, "X"),
    "delete_agent": lambda db, w, bad: db.delete_agent(w.org_id, bad),
    "get_all_org_agents": lambda db, w, bad: db.get_all_org_agents(bad),
    "get_all_user_agents": lambda db, w, bad: db.get_all_user_agents(w.org_id, bad),
    "save(agent_id)": lambda db, w, bad: db.save_interaction_with_memories(
        w.org_id, bad, w.user_id, dto(["m"], ["x"])
    ),
    "save(user_id)": lambda db, w, bad: db.save_interaction_with_memories(
        w.org_id, w.agent_id, bad, dto(["m"], ["x"])
    ),
    "save(interaction_id)": lambda db, w, bad: db.save_interaction_with_memories(
        w.org_id, w.agent_id, w.user_id, dto(["m"], ["x"]), interaction_id=_pos(bad)
    ),
    "update(interaction_id)": lambda db, w, bad: db.update_interaction_and_memories(
        w.org_id, w.agent_id, w.user_id, bad, dto(["m"], ["x"])
    ),
    "get_interaction": lambda db, w, bad: db.get_interaction(w.org_id, w.user_id, bad),
    "get_all_user_interactions": lambda db, w, bad: db.get_all_user_interactions(bad, w.user_id),
    "delete_user_interaction": lambda db, w, bad: db.delete_user_interaction_and_its_memories(
        w.org_id, bad, "ix"
    ),
    "delete_all_user_interactions": lambda db, w, bad: (
        db.delete_all_user_interactions_and_their_memories(w.org_id, bad)
    ),
    "get_user_memory(memory_id)": lambda db, w, bad: db.get_user_memory(w.org_id, w.user_id, bad),
    "get_user_memory(user_id)": lambda db, w, bad: db.get_user_memory(w.org_id, bad, _MID),
    "get_all_user_memories(agent_id)": lambda db, w, bad: db.get_all_user_memories(
        w.org_id, w.user_id, agent_id=_pos(bad)
    ),
    "history(memory_id)": lambda db, w, bad: db.get_user_memory_history(w.org_id, w.user_id, bad),
    "links": lambda db, w, bad: db.get_user_memory_links(bad, w.user_id),
    "indexing(org_id)": lambda db, w, bad: db.list_memories_for_indexing(org_id=_pos(bad)),
    "indexing(after)": lambda db, w, bad: db.list_memories_for_indexing(after_memory_id=_pos(bad)),
    "delete_user_memory": lambda db, w, bad: db.delete_user_memory(w.org_id, w.user_id, bad),
    "delete_all_user_memories": lambda db, w, bad: db.delete_all_user_memories(bad, w.user_id),
    "resolve": lambda db, w, bad: db.fetch_user_memories_resolved(
        [{"memory_id": _MID, "org_id": bad, "user_id": w.user_id}]
    ),
}

NAME_CALLS: dict[str, Call] = {
    "create_organization": lambda db, w, bad: db.create_organization(bad),
    "update_organization": lambda db, w, bad: db.update_organization(w.org_id, bad),
    "create_user": lambda db, w, bad: db.create_user(w.org_id, bad),
    "update_user": lambda db, w, bad: db.update_user(w.org_id, w.user_id, bad),
    "create_agent": lambda db, w, bad: db.create_agent(w.org_id, bad),
    "update_agent": lambda db, w, bad: db.update_agent(w.org_id, w.agent_id, bad),
}


def _save_raw(db: BaseGraphDB, w: World, data: Any) -> Awaitable[Any]:
    """Save with an unchecked DTO value (``Any`` on purpose: these are wrong on purpose)."""
    return db.save_interaction_with_memories(w.org_id, w.agent_id, w.user_id, data)


def _pos(value: Any) -> Any:
    """Optional id parameters accept None, so test them with a bad non-None value."""
    return "!" if value is None else value


OTHER_BAD_CALLS: dict[str, Call] = {
    "dto is a list": lambda db, w, _: _save_raw(db, w, [{"role": "user", "content": "x"}]),
    "dto source out of range": lambda db, w, _: _save_raw(
        db,
        w,
        {
            "interaction": [{"role": "user", "content": "x"}],
            "memories": [{"memory": "m", "source_msg_block_pos": [3]}],
        },
    ),
    "dto blank memory": lambda db, w, _: _save_raw(db, w, {"memories": [{"memory": "  "}]}),
    "dto bad role": lambda db, w, _: _save_raw(
        db, w, {"interaction": [{"role": "", "content": "x"}]}
    ),
    "dto naive date": lambda db, w, _: _save_raw(db, w, {"interaction_date": "2024-01-01T10:00"}),
    "dto bad contrary id": lambda db, w, _: _save_raw(
        db, w, {"contrary_memories": [{"memory": "m", "existing_contrary_memory_id": "nope"}]}
    ),
    "update dto wrong type": lambda db, w, bad: db.update_interaction_and_memories(
        w.org_id, w.agent_id, w.user_id, "ix", bad
    ),
    "skip negative": lambda db, w, _: db.get_all_user_memories(w.org_id, w.user_id, skip=-1),
    "limit zero": lambda db, w, _: db.get_all_user_memories(w.org_id, w.user_id, limit=0),
    "limit too big": lambda db, w, _: db.get_all_user_interactions(
        w.org_id, w.user_id, limit=MAX_PAGE_LIMIT + 1
    ),
    "limit str": lambda db, w, _: db.get_all_user_interactions(
        w.org_id, w.user_id, limit=cast(Any, "10")
    ),
    "skip bool": lambda db, w, _: db.get_all_user_memories(w.org_id, w.user_id, skip=True),
    "indexing limit": lambda db, w, _: db.list_memories_for_indexing(limit=-5),
    "flag str": lambda db, w, _: db.get_interaction(
        w.org_id, w.user_id, "ix", with_messages=cast(Any, "no")
    ),
    "resolve_names str (interaction)": lambda db, w, _: db.get_interaction(
        w.org_id, w.user_id, "ix", resolve_names=cast(Any, "false")
    ),
    "resolve_names int (interactions)": lambda db, w, _: db.get_all_user_interactions(
        w.org_id, w.user_id, resolve_names=cast(Any, 0)
    ),
    "resolve_names None (memory)": lambda db, w, _: db.get_user_memory(
        w.org_id, w.user_id, _MID, resolve_names=cast(Any, None)
    ),
    "resolve_names str (memories)": lambda db, w, _: db.get_all_user_memories(
        w.org_id, w.user_id, resolve_names=cast(Any, "no")
    ),
    "created_at str (org)": lambda db, w, _: db.create_organization(
        "X", created_at=cast(Any, "2024-01-01T00:00:00Z")
    ),
    "created_at date (user)": lambda db, w, _: db.create_user(
        w.org_id, "X", created_at=cast(Any, date(2024, 1, 1))
    ),
    "created_at int (agent)": lambda db, w, _: db.create_agent(
        w.org_id, "X", created_at=cast(Any, 1_700_000_000)
    ),
    "refs not a list": lambda db, w, _: db.fetch_user_memories_resolved_batch(cast(Any, "abc")),
    "refs inner not a list": lambda db, w, _: db.fetch_user_memories_resolved_batch(
        [cast(Any, {"memory_id": _MID})]
    ),
    "ref not a dict": lambda db, w, _: db.fetch_user_memories_resolved([cast(Any, _MID)]),
    "ref missing key": lambda db, w, _: db.fetch_user_memories_resolved(
        [{"memory_id": _MID, "org_id": w.org_id}]
    ),
    "ref bad memory id": lambda db, w, _: db.fetch_user_memories_resolved(
        [{"memory_id": "42", "org_id": w.org_id, "user_id": w.user_id}]
    ),
}


class BadInputTests(GraphSuiteBase):
    """Validation at the public boundary."""

    async def _assert_rejected(self, db: BaseGraphDB, world: World, call: Call, bad: Any) -> None:
        await db.save_interaction_with_memories(
            world.org_id, world.agent_id, world.user_id, dto(["hello"], [("fact", [0])]),
            interaction_id="ix",
        )  # fmt: skip
        before = await snapshot(db)
        with pytest.raises(InvalidInputError) as info:
            await call(db, world, bad)
        assert str(info.value)
        assert await snapshot(db) == before

    @pytest.mark.parametrize("bad", BAD_IDS, ids=repr)
    @pytest.mark.parametrize("method", list(ID_CALLS))
    async def test_bad_ids_are_rejected(
        self, graph_db: BaseGraphDB, world: World, method: str, bad: Any
    ) -> None:
        """If this fails, check that method validates its ids (ids.require_id /
        require_memory_id) before touching the store."""
        await self._assert_rejected(graph_db, world, ID_CALLS[method], bad)

    @pytest.mark.parametrize("bad", BAD_NAMES, ids=repr)
    @pytest.mark.parametrize("method", list(NAME_CALLS))
    async def test_bad_names_are_rejected(
        self, graph_db: BaseGraphDB, world: World, method: str, bad: Any
    ) -> None:
        """If this fails, check names and labels go through ids.require_text with the limit."""
        await self._assert_rejected(graph_db, world, NAME_CALLS[method], bad)

    @pytest.mark.parametrize("case", list(OTHER_BAD_CALLS))
    async def test_bad_arguments_are_rejected(
        self, graph_db: BaseGraphDB, world: World, case: str
    ) -> None:
        """If this fails, check DTO, pagination, flag and search-hit validation."""
        await self._assert_rejected(graph_db, world, OTHER_BAD_CALLS[case], None)

    async def test_unknown_ids_raise_not_found_and_write_nothing(
        self, graph_db: BaseGraphDB, world: World
    ) -> None:
        """If this fails, check writes look their owners up first and fail without a trace."""
        before = await snapshot(graph_db)
        writes: list[Callable[[], Awaitable[Any]]] = [
            lambda: graph_db.create_user("no-org", "X"),
            lambda: graph_db.create_agent("no-org", "X"),
            lambda: graph_db.update_organization("no-org", "X"),
            lambda: graph_db.update_agent(world.org_id, "no-agent", "X"),
            lambda: graph_db.save_interaction_with_memories(
                world.org_id, world.agent_id, "no-user", dto(["m"], ["x"])
            ),
            lambda: graph_db.save_interaction_with_memories(
                "no-org", world.agent_id, world.user_id, dto(["m"], ["x"])
            ),
            lambda: graph_db.save_interaction_with_memories(
                world.org_id, "no-agent", world.user_id, dto(["m"], ["x"])
            ),
            lambda: graph_db.update_interaction_and_memories(
                world.org_id, world.agent_id, world.user_id, "no-ix", dto(["m"], ["x"])
            ),
        ]
        for write in writes:
            with pytest.raises(NotFoundError) as info:
                await write()
            assert info.value.ids
        assert await snapshot(graph_db) == before

    async def test_errors_are_memora_errors(self, graph_db: BaseGraphDB) -> None:
        """If this fails, check no raw driver or pydantic error escapes the store."""
        with pytest.raises(MemoraError):
            await graph_db.get_user_memory("o", "u", str(uuid.uuid4()))
        with pytest.raises(MemoraError):
            await graph_db.save_interaction_with_memories(
                "o",
                "a",
                "u",
                {"interaction": "nope"},  # type: ignore[arg-type]
            )
