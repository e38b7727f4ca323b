"""MemoraClient / SyncMemoraClient against a real ``memora serve`` (uvicorn on 127.0.0.1)."""

from __future__ import annotations

import inspect
from datetime import datetime

import pytest

from memora_engine import (
    Interaction,
    InteractionNotFoundError,
    InvalidInputError,
    Memora,
    MemoryNotFoundError,
    MemorySearchScope,
    Organization,
    UserNotFoundError,
)
from memora_engine.client import MemoraClient, SyncMemoraClient
from memora_engine.client._generate import TARGET, generate_source
from memora_engine.errors import BackendUnavailableError
from memora_engine.service.wire import ROUTES
from tests.service.conftest import AGENT_A, ORG_A, USER_A1, USER_A2, Served


def _public_coroutines(cls: type) -> dict[str, inspect.Signature]:
    return {
        name: inspect.signature(member)
        for name, member in inspect.getmembers(cls)
        if not name.startswith("_")
        and inspect.iscoroutinefunction(member)
        and not isinstance(inspect.getattr_static(cls, name), classmethod)
    }


def test_client_has_every_public_coroutine_of_memora_with_the_same_signature() -> None:
    """If this fails, run `python -m memora_engine.client._generate` after changing Memora."""
    engine, client = _public_coroutines(Memora), _public_coroutines(MemoraClient)
    assert set(engine) == set(client)
    for name, signature in engine.items():
        assert str(client[name]) == str(signature), name


def test_sync_client_methods_have_the_same_signatures_without_async() -> None:
    engine = _public_coroutines(Memora)
    for name, signature in engine.items():
        method = getattr(SyncMemoraClient, name)
        assert not inspect.iscoroutinefunction(method), name
        assert str(inspect.signature(method)) == str(signature), name


def test_every_routed_method_is_public_and_every_data_method_is_routed() -> None:
    engine = set(_public_coroutines(Memora)) - {"setup", "close"}
    assert set(ROUTES) == engine


def test_generated_methods_are_up_to_date() -> None:
    """If this fails, run `python -m memora_engine.client._generate`."""
    assert TARGET.read_text(encoding="utf-8") == generate_source()


async def test_tenants_saves_search_history_and_deletes_round_trip(served: Served) -> None:
    async with MemoraClient(served.url, served.keys.org_a) as memora:
        await memora.setup()
        org = await memora.get_organization(ORG_A)
        assert isinstance(org, Organization)
        assert org.org_id == ORG_A
        user = await memora.get_or_create_user(ORG_A, "client-user", user_name="Zoe")
        assert user.user_name == "Zoe"
        assert "client-user" in {u.user_id for u in await memora.list_users(ORG_A)}
        iid, when = await memora.save_or_update_interaction_and_memories(
            ORG_A,
            user.user_id,
            AGENT_A,
            [{"role": "user", "content": "I am allergic to peanuts and I love green tea."}],
        )
        assert isinstance(when, datetime)
        assert when.tzinfo is not None
        found = await memora.search_memories_as_one(ORG_A, user.user_id, ["peanut allergy"])
        assert [m.interaction_id for m in found] == [iid]
        scored = await memora.search_memories_with_scores(ORG_A, user.user_id, ["tea"], limit=1)
        assert scored[0][0].memory_id == found[0].memory_id
        assert isinstance(scored[0][1], float)
        batch = await memora.search_memories_as_batch(
            ORG_A, ["peanuts", "tea"], user_id=user.user_id, limit=1
        )
        assert [len(hits) for hits in batch] == [1, 1]
        org_wide = await memora.search_memories_as_batch(
            ORG_A, ["peanuts"], memory_search_scope=MemorySearchScope.ORGANIZATION
        )
        assert found[0].memory_id in {m.memory_id for m in org_wide[0]}
        recalled, ids = await memora.recall_memories_for_message(
            ORG_A,
            user.user_id,
            "What should I avoid eating?",
            filter_out_memory_ids_set={"00000000-0000-4000-8000-000000000000"},
        )
        assert ids == [m.memory_id for m in recalled]
        interaction = await memora.get_interaction(ORG_A, user.user_id, iid)
        assert isinstance(interaction, Interaction)
        assert interaction.messages_as_dicts()[0]["content"].startswith("I am allergic")
        # update: the conversation grows by one message
        await memora.save_or_update_interaction_and_memories(
            ORG_A,
            user.user_id,
            AGENT_A,
            [*interaction.messages_as_dicts(), {"role": "user", "content": "I moved to Oslo."}],
            interaction_id=iid,
        )
        listed = await memora.list_interactions(ORG_A, user.user_id, with_memories=False)
        assert [len(i.messages) for i in listed] == [2]
        assert listed[0].memories == []
        memories = await memora.list_memories(ORG_A, user.user_id, limit=10)
        assert len(memories) == 2
        history = await memora.get_memory_history(ORG_A, user.user_id, memories[0].memory_id)
        assert [m.memory_id for m in history] == [memories[0].memory_id]
        assert await memora.list_memory_links(ORG_A, user.user_id) == []
        assert await memora.delete_memory(ORG_A, user.user_id, memories[0].memory_id) is True
        assert await memora.delete_memory(ORG_A, user.user_id, memories[0].memory_id) is False
        with pytest.raises(MemoryNotFoundError) as caught:
            await memora.get_memory(ORG_A, user.user_id, memories[0].memory_id)
        assert caught.value.ids["memory_id"] == memories[0].memory_id
        assert await memora.delete_all_memories(ORG_A, user.user_id) == 1
        assert await memora.delete_interaction(ORG_A, user.user_id, iid) is True
        with pytest.raises(InteractionNotFoundError):
            await memora.get_interaction(ORG_A, user.user_id, iid)
        assert await memora.delete_user(ORG_A, user.user_id) is True
        with pytest.raises(UserNotFoundError):
            await memora.get_user(ORG_A, user.user_id)


async def test_restore_and_create_if_missing_keep_caller_ids(served: Served) -> None:
    from memora_engine import MemoriesAndInteraction, MemoryToStore

    async with MemoraClient(served.url, served.keys.org_a) as memora:
        record = MemoriesAndInteraction(
            interaction=[{"role": "user", "content": "My cat is called Miso."}],
            memories=[
                MemoryToStore(memory="user_userA2 has a cat called Miso", source_msg_block_pos=[0])
            ],
        )
        iid, _ = await memora.restore_interaction(
            ORG_A, USER_A2, AGENT_A, record, interaction_id="restoredA2"
        )
        assert iid == "restoredA2"
        stored = await memora.get_interaction(ORG_A, USER_A2, iid)
        assert stored.memories[0].memory == "Mia has a cat called Miso"
        session_iid, _ = await memora.save_or_update_interaction_and_memories(
            ORG_A,
            USER_A2,
            AGENT_A,
            [{"role": "user", "content": "Hello"}],
            interaction_id="app-session-7",
            create_if_missing=True,
        )
        assert session_iid == "app-session-7"
        assert await memora.delete_all_interactions(ORG_A, USER_A2) is None
        assert await memora.list_interactions(ORG_A, USER_A2) == []


async def test_engine_errors_arrive_as_the_same_classes(served: Served) -> None:
    async with MemoraClient(served.url, served.keys.org_a) as memora:
        with pytest.raises(InvalidInputError):
            await memora.search_memories_as_one(ORG_A, USER_A1, [])
        with pytest.raises(InvalidInputError):
            await memora.search_memories_as_one(ORG_A, USER_A1, "not a list")  # type: ignore[arg-type]
        with pytest.raises(InvalidInputError):
            await memora.get_user(ORG_A, "../orgB")
        with pytest.raises(UserNotFoundError):
            await memora.list_memories(ORG_A, "nobody")


async def test_unreachable_service_is_backend_unavailable() -> None:
    from tests.service.server import free_port

    async with MemoraClient(f"http://127.0.0.1:{free_port()}", "mem_x") as memora:
        with pytest.raises(BackendUnavailableError):
            await memora.setup()


def test_sync_client_runs_on_the_portal(served: Served) -> None:
    with SyncMemoraClient(served.url, served.keys.user_a1) as memora:
        memora.setup()
        iid, _ = memora.save_or_update_interaction_and_memories(
            ORG_A, USER_A1, AGENT_A, [{"role": "user", "content": "I play the cello on Sundays."}]
        )
        hits = memora.search_memories_as_one(ORG_A, USER_A1, ["music instrument"])
        assert iid in {m.interaction_id for m in hits}
        assert memora.delete_interaction(ORG_A, USER_A1, iid) is True
