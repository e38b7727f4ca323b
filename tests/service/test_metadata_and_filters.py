"""Metadata, filters, facts and edits over HTTP: raw requests and ``MemoraClient`` (#14)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest

from memora_engine import (
    InvalidInputError,
    MemoryNotFoundError,
    OrganizationNotFoundError,
    UserNotFoundError,
)
from memora_engine.client import MemoraClient, SyncMemoraClient
from tests.service.conftest import AGENT_A, ORG_A, ORG_B, USER_A1, USER_A2, USER_B1, Served

MEMORIES = "/v1/orgs/{org}/users/{user}/memories"
SENT: dict[str, object] = {
    "channel": "web",
    "priority": 2,
    "ratio": 2.0,
    "ok": True,
    "tags": ["b", 1, False],
}


@asynccontextmanager
async def fresh_user(served: Served, user_id: str) -> AsyncIterator[MemoraClient]:
    """An org A client and an empty user of its own (deleted afterwards)."""
    async with MemoraClient(served.url, served.keys.org_a) as memora:
        await memora.get_or_create_user(ORG_A, user_id)
        try:
            yield memora
        finally:
            await memora.delete_user(ORG_A, user_id)


def raw_http(served: Served) -> httpx.AsyncClient:
    """Plain HTTP with org A's key, as curl would send it."""
    headers = {"Authorization": f"Bearer {served.keys.org_a}"}
    return httpx.AsyncClient(base_url=served.url, headers=headers)


async def _three_facts(memora: MemoraClient, user_id: str) -> list[str]:
    stored = await memora.add_memories(
        ORG_A,
        user_id,
        AGENT_A,
        [
            {"memory": "I am allergic to peanuts", "metadata": {"topic": "food", "score": 5}},
            {"memory": "I drink green tea every morning", "metadata": {"topic": "food"}},
            "I live in Lisbon",
        ],
        metadata={"topic": "home", "source": "import"},
    )
    return [m.memory_id for m in stored]


async def test_add_memories_stores_facts_with_their_metadata(served: Served) -> None:
    async with fresh_user(served, "mf-add") as memora:
        stored = await memora.add_memories(
            ORG_A,
            "mf-add",
            AGENT_A,
            ["I play chess", {"memory": "I own a bike", "metadata": {"tags": ["sport", "x"]}}],
            metadata={"source": "onboarding"},
        )
        assert [m.memory for m in stored] == ["I play chess", "I own a bike"]
        assert [m.metadata for m in stored] == [{"source": "onboarding"}, {"tags": ["sport", "x"]}]
        assert stored[0].interaction_id == stored[1].interaction_id
        again = await memora.get_memory(ORG_A, "mf-add", stored[1].memory_id)
        assert again.metadata == {"tags": ["sport", "x"]}


async def test_save_with_metadata_is_returned_on_every_read(served: Served) -> None:
    async with fresh_user(served, "mf-save") as memora:
        iid, _ = await memora.save_or_update_interaction_and_memories(
            ORG_A,
            "mf-save",
            AGENT_A,
            [{"role": "user", "content": "My dog is called Rex."}],
            metadata=SENT,
        )
        [memory] = (await memora.get_interaction(ORG_A, "mf-save", iid)).memories
        [found] = await memora.search_memories_as_one(ORG_A, "mf-save", ["dog name"])
        for metadata in (memory.metadata, found.metadata):
            # Exact over JSON: ints stay ints, floats floats, bools bools, list order kept.
            assert metadata == SENT
            assert [type(metadata[k]) for k in SENT] == [type(v) for v in SENT.values()]
            assert [type(v) for v in metadata["tags"]] == [str, int, bool]


async def test_list_memories_filter_travels_as_json_query(served: Served) -> None:
    async with fresh_user(served, "mf-list") as memora:
        peanuts, tea, lisbon = await _three_facts(memora, "mf-list")
        food = await memora.list_memories(ORG_A, "mf-list", filter={"topic": "food"})
        assert {m.memory_id for m in food} == {peanuts, tea}
        high = await memora.list_memories(ORG_A, "mf-list", filter={"score": {"$gte": 5}})
        assert [m.memory_id for m in high] == [peanuts]
        either = await memora.list_memories(
            ORG_A, "mf-list", filter={"$or": [{"score": 5}, {"source": "import"}]}
        )
        assert {m.memory_id for m in either} == {peanuts, lisbon}
        # The same call as a plain HTTP request (curl): ?filter=<JSON text>.
        async with raw_http(served) as http:
            response = await http.get(
                MEMORIES.format(org=ORG_A, user="mf-list"),
                params={"filter": json.dumps({"topic": {"$ne": "food"}})},
            )
        assert response.status_code == 200
        assert [m["memory_id"] for m in response.json()] == [lisbon]
        assert response.json()[0]["metadata"] == {"topic": "home", "source": "import"}


async def test_search_batch_and_recall_take_a_filter(served: Served) -> None:
    async with fresh_user(served, "mf-search") as memora:
        peanuts, tea, lisbon = await _three_facts(memora, "mf-search")
        unfiltered = await memora.search_memories_as_one(ORG_A, "mf-search", ["food"], limit=3)
        assert len(unfiltered) == 3
        only_home = await memora.search_memories_as_one(
            ORG_A, "mf-search", ["food"], limit=3, filter={"topic": "home"}
        )
        assert [m.memory_id for m in only_home] == [lisbon]
        scored = await memora.search_memories_with_scores(
            ORG_A, "mf-search", ["allergy"], filter={"topic": {"$in": ["food"]}}
        )
        assert {m.memory_id for m, _ in scored} == {peanuts, tea}
        [batch] = await memora.search_memories_as_batch(
            ORG_A, ["drink"], user_id="mf-search", filter={"score": {"$exists": False}}
        )
        assert {m.memory_id for m in batch} == {tea, lisbon}
        recalled, _ = await memora.recall_memories_for_message(
            ORG_A, "mf-search", "What do I drink?", filter={"topic": "food", "score": 5}
        )
        assert [m.memory_id for m in recalled] == [peanuts]


async def test_edit_memory_text_makes_a_version_and_metadata_edits_in_place(
    served: Served,
) -> None:
    async with fresh_user(served, "mf-edit") as memora:
        peanuts, _, _ = await _three_facts(memora, "mf-edit")
        tagged = await memora.edit_memory(
            ORG_A, "mf-edit", peanuts, metadata={"topic": "health", "score": 5}
        )
        assert tagged.memory_id == peanuts
        assert tagged.metadata == {"topic": "health", "score": 5}
        v2 = await memora.edit_memory(ORG_A, "mf-edit", peanuts, memory="I am allergic to nuts")
        assert v2.memory_id != peanuts
        assert v2.memory == "I am allergic to nuts"
        assert v2.metadata == {"topic": "health", "score": 5}  # inherited
        history = await memora.get_memory_history(ORG_A, "mf-edit", v2.memory_id)
        assert [m.memory_id for m in history] == [v2.memory_id, peanuts]
        with pytest.raises(InvalidInputError):
            await memora.edit_memory(ORG_A, "mf-edit", v2.memory_id)
        with pytest.raises(MemoryNotFoundError):
            await memora.edit_memory(
                ORG_A, "mf-edit", "00000000-0000-4000-8000-000000000000", memory="x"
            )


async def test_delete_memories_by_filter(served: Served) -> None:
    async with fresh_user(served, "mf-delete") as memora:
        _, _, lisbon = await _three_facts(memora, "mf-delete")
        assert await memora.delete_memories(ORG_A, "mf-delete", filter={"topic": "food"}) == 2
        assert [m.memory_id for m in await memora.list_memories(ORG_A, "mf-delete")] == [lisbon]
        assert await memora.delete_memories(ORG_A, "mf-delete", filter={"topic": "food"}) == 0
        with pytest.raises(InvalidInputError, match="non-empty filter"):
            await memora.delete_memories(ORG_A, "mf-delete", filter={})
        assert len(await memora.list_memories(ORG_A, "mf-delete")) == 1


@pytest.mark.parametrize(
    ("bad_filter", "named"),
    [
        ({"topic": {"$regex": "f.*"}}, "$regex"),
        ({"score": {"$gt": "high"}}, "$gt"),
        ({"$or": {"topic": "food"}}, "$or"),
        ({"agent_id": {"$gt": "a"}}, "agent_id"),
    ],
)
async def test_bad_filters_are_invalid_input_on_every_route(
    served: Served, bad_filter: dict[str, object], named: str
) -> None:
    async with fresh_user(served, "mf-bad") as memora:
        await _three_facts(memora, "mf-bad")
        calls = [
            memora.list_memories(ORG_A, "mf-bad", filter=bad_filter),
            memora.search_memories_as_one(ORG_A, "mf-bad", ["food"], filter=bad_filter),
            memora.search_memories_as_batch(ORG_A, ["food"], user_id="mf-bad", filter=bad_filter),
            memora.delete_memories(ORG_A, "mf-bad", filter=bad_filter),
        ]
        for call in calls:
            with pytest.raises(InvalidInputError) as caught:
                await call
            assert named in str(caught.value)
        assert len(await memora.list_memories(ORG_A, "mf-bad")) == 3  # nothing deleted
        async with raw_http(served) as http:
            response = await http.get(
                MEMORIES.format(org=ORG_A, user="mf-bad"), params={"filter": json.dumps(bad_filter)}
            )
        assert response.status_code == 422
        assert response.json()["error"]["type"] == "InvalidInputError"
        assert named in response.json()["error"]["message"]


async def test_bad_metadata_and_bad_json_are_422_and_write_nothing(served: Served) -> None:
    async with fresh_user(served, "mf-meta") as memora:
        for metadata in ({"nested": {"a": 1}}, {"agent_id": "x"}, {"k" * 65: 1}):
            with pytest.raises(InvalidInputError):
                await memora.add_memories(ORG_A, "mf-meta", AGENT_A, ["fact"], metadata=metadata)
            with pytest.raises(InvalidInputError):
                await memora.save_or_update_interaction_and_memories(
                    ORG_A,
                    "mf-meta",
                    AGENT_A,
                    [{"role": "user", "content": "hello"}],
                    metadata=metadata,
                )
        with pytest.raises(InvalidInputError):
            await memora.list_memories(ORG_A, "mf-meta", filter={"score": float("nan")})
        assert await memora.list_interactions(ORG_A, "mf-meta") == []
        url = MEMORIES.format(org=ORG_A, user="mf-meta")
        async with raw_http(served) as http:
            not_json = await http.get(url, params={"filter": "{topic: food"})
            nan = await http.post(
                url,
                content=b'{"agent_id": "agentA", "memories": ["x"], "metadata": {"n": NaN}}',
                headers={"Content-Type": "application/json"},
            )
        assert not_json.status_code == 422
        assert "filter must be JSON" in not_json.json()["error"]["message"]
        assert nan.status_code == 422
        assert await memora.list_interactions(ORG_A, "mf-meta") == []


async def test_user_key_adds_edits_and_deletes_for_its_own_user_only(served: Served) -> None:
    async with MemoraClient(served.url, served.keys.user_a1) as mine:
        [fact] = await mine.add_memories(
            ORG_A, USER_A1, AGENT_A, ["I keep a diary"], metadata={"kind": "mf-user-key"}
        )
        edited = await mine.edit_memory(ORG_A, USER_A1, fact.memory_id, metadata={"kind": "z"})
        assert edited.metadata == {"kind": "z"}
        with pytest.raises(UserNotFoundError):
            await mine.add_memories(ORG_A, USER_A2, AGENT_A, ["sneaky"])
        with pytest.raises(UserNotFoundError):
            await mine.edit_memory(ORG_A, USER_A2, fact.memory_id, metadata={"kind": "x"})
        with pytest.raises(UserNotFoundError):
            await mine.delete_memories(ORG_A, USER_A2, filter={"kind": "z"})
        assert await mine.delete_memories(ORG_A, USER_A1, filter={"kind": "z"}) == 1


async def test_other_orgs_ids_behave_as_missing_for_facts_and_edits(served: Served) -> None:
    async with MemoraClient(served.url, served.keys.org_a) as a:
        [fact] = await a.add_memories(ORG_A, USER_A1, AGENT_A, ["My locker is 12"])
    async with MemoraClient(served.url, served.keys.org_b) as b:
        with pytest.raises(MemoryNotFoundError):
            await b.edit_memory(ORG_B, USER_B1, fact.memory_id, memory="hacked")
        assert await b.delete_memories(ORG_B, USER_B1, filter={"interaction_id": "x"}) == 0
        with pytest.raises(OrganizationNotFoundError):
            await b.add_memories(ORG_A, USER_A1, AGENT_A, ["sneaky"])
    async with MemoraClient(served.url, served.keys.org_a) as a:
        assert (await a.get_memory(ORG_A, USER_A1, fact.memory_id)).memory == "My locker is 12"
        assert await a.delete_memory(ORG_A, USER_A1, fact.memory_id)


def test_sync_client_facts_and_filters(served: Served) -> None:
    with SyncMemoraClient(served.url, served.keys.org_a) as memora:
        memora.get_or_create_user(ORG_A, "mf-sync")
        try:
            memora.add_memories(ORG_A, "mf-sync", AGENT_A, ["I like jazz"], metadata={"t": "music"})
            memora.add_memories(ORG_A, "mf-sync", AGENT_A, ["I like pizza"], metadata={"t": "food"})
            hits = memora.search_memories_as_one(ORG_A, "mf-sync", ["music"], filter={"t": "food"})
            assert [m.memory for m in hits] == ["I like pizza"]
        finally:
            memora.delete_user(ORG_A, "mf-sync")


async def test_a_listing_filter_is_not_written_to_the_server_log(served: Served) -> None:
    secret = "private-project-codename-77"
    async with raw_http(served) as http:
        response = await http.get(
            MEMORIES.format(org=ORG_A, user=USER_A1),
            params={"filter": json.dumps({"project": secret})},
        )
    assert response.status_code == 200
    assert served.server.log is not None
    log = served.server.log.read_text()
    assert f"GET /v1/orgs/{ORG_A}/users/{USER_A1}/memories?<redacted>" in log
    assert secret not in log
