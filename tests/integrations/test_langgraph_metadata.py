"""Metadata and filters through the LangGraph adapters: MemoraStore (value fields as metadata,
filters pushed down so ``limit`` holds, LangGraph's semantics kept) and MemoraMemory (a recall
filter, save metadata). Real embedded Memora and MiniLM; a scripted model where one is needed."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from langchain.agents import create_agent
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.store.memory import InMemoryStore

from memora_engine import InvalidInputError, SyncMemora
from memora_engine.filters import matches, parse_filter
from memora_integrations.langgraph import MemoraMemory, MemoraStore, is_recall_message
from memora_integrations.langgraph.store_filters import (
    PARTIAL_KEY,
    matches_filter,
    pushdown_filter,
    value_metadata,
)
from tests.integrations.langchain_support import (
    AgentFakeModel,
    open_async,
    open_sync,
    public,
    seed_tenant,
)

JAKE = ("acme", "jake")


@pytest.fixture
def memora(tmp_path: Path) -> Iterator[SyncMemora]:
    memora = open_sync(tmp_path / "m", extract=True)
    yield memora
    memora.close()


@pytest.fixture
def store(memora: SyncMemora) -> MemoraStore:
    return MemoraStore(memora)


# ---------------------------------------------------------------------- store
def test_put_stores_value_fields_as_metadata(store: MemoraStore, memora: SyncMemora) -> None:
    value = {
        "content": "Jake is vegetarian",
        "kind": "food",
        "rating": 4,
        "tags": ["diet", "health"],
        "details": {"since": 2019},  # an object: kept in the value only
        "note": None,
        "bad key": "x",  # not a metadata key name
    }
    store.put(JAKE, "diet", value)
    [memory] = public(memora).list_memories("acme", "jake", filter={"kind": "food"})
    assert memory.metadata == {
        "content": "Jake is vegetarian",
        "kind": "food",
        "rating": 4,
        "tags": ["diet", "health"],
    }
    assert store.get(JAKE, "diet").value == value  # the item itself is unchanged
    # A new put replaces the metadata (the old version's is not inherited).
    store.put(JAKE, "diet", {"content": "Jake is vegan now"})
    assert public(memora).list_memories("acme", "jake", filter={"kind": "food"}) == []
    [head] = public(memora).list_memories("acme", "jake")
    assert head.metadata == {"content": "Jake is vegan now"}
    assert store.search(JAKE, filter={"kind": "food"}) == []


def test_filtered_search_returns_limit_items(store: MemoraStore) -> None:
    """Push-down: 40 newer / more relevant items do not match; limit is still filled."""
    for i in range(5):
        store.put(
            JAKE,
            f"kept-{i}",
            {"content": f"Jake once read a book about tea, part {i}", "kind": "kept", "n": i},
        )
    for i in range(40):
        store.put(
            JAKE,
            f"noise-{i}",
            {"content": f"Jake drinks tea, cup {i}, with tea friends", "kind": "noise", "n": i},
        )
    hits = store.search(JAKE, query="tea", filter={"kind": "kept"}, limit=3)
    assert len(hits) == 3
    assert all(h.key.startswith("kept-") for h in hits)
    listing = store.search(JAKE, filter={"kind": "kept"}, limit=4)  # no query: newest first
    assert [h.key for h in listing] == ["kept-4", "kept-3", "kept-2", "kept-1"]
    page2 = store.search(JAKE, filter={"kind": "kept"}, limit=4, offset=4)
    assert [h.key for h in page2] == ["kept-0"]
    ranged = store.search(JAKE, query="tea", filter={"kind": "noise", "n": {"$gte": 38}})
    assert {h.key for h in ranged} == {"noise-38", "noise-39"}
    org_wide = store.search(("acme",), query="tea", filter={"kind": "kept"}, limit=5)
    assert {h.key for h in org_wide} == {f"kept-{i}" for i in range(5)}


ITEMS: dict[str, dict[str, Any]] = {
    "a": {"content": "alpha", "kind": "food", "rating": 4, "tags": ["x", "y"], "flag": True},
    "b": {"content": "beta", "kind": "food", "rating": 2.5, "flag": False},
    "c": {"content": "gamma", "kind": "sport", "rating": 5, "tags": "x"},
    "d": {"content": "delta", "rating": 1, "flag": 1, "info": {"deep": 1}},
    "e": {"content": "epsilon", "kind": "food", "rating": 3, "tags": ["x"]},
}
FILTERS: list[dict[str, Any]] = [
    {"kind": "food"},
    {"kind": {"$ne": "food"}},
    {"rating": {"$gt": 2, "$lte": 4}},
    {"rating": {"$lt": 3}, "kind": "food"},
    {"tags": "x"},  # a list value does not equal a scalar
    {"tags": ["x", "y"]},
    {"tags": {"$ne": "x"}},
    {"flag": True},  # 1 == True, the Python way
    {"flag": 1},
    {"flag": {"$eq": False}},
    {"info": {"deep": 1}},
    {"kind": "food", "rating": {"$gte": 3}, "flag": {"$ne": False}},
    {"missing": {"$ne": 1}},
]


@pytest.mark.parametrize("filter_", FILTERS, ids=[str(f) for f in FILTERS])
def test_pure_filter_semantics_match_langgraphs_in_memory_store(filter_: dict[str, Any]) -> None:
    """LangGraph's InMemoryStore is the reference; the pushed-down filter is a superset."""
    reference = InMemoryStore()
    for key, value in ITEMS.items():
        reference.put(JAKE, key, value)
    want = {i.key for i in reference.search(JAKE, filter=filter_, limit=100)}
    assert {k for k, v in ITEMS.items() if matches_filter(v, filter_)} == want
    pushed = pushdown_filter(filter_)
    if pushed is not None:
        tree = parse_filter(pushed)
        passed = {k for k, v in ITEMS.items() if matches(tree, {"metadata": value_metadata(v)})}
        assert want <= passed


@pytest.fixture(scope="module")
def filled_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MemoraStore]:
    memora = open_sync(tmp_path_factory.mktemp("lg-filters"))
    store = MemoraStore(memora)
    for key, value in ITEMS.items():
        store.put(JAKE, key, value)
    yield store
    memora.close()


@pytest.mark.parametrize("filter_", FILTERS, ids=[str(f) for f in FILTERS])
def test_store_filters_agree_with_in_memory_store(
    filled_store: MemoraStore, filter_: dict[str, Any]
) -> None:
    store = filled_store
    reference = InMemoryStore()
    for key, value in ITEMS.items():
        reference.put(JAKE, key, value)
    want = {i.key for i in reference.search(JAKE, filter=filter_, limit=100)}
    assert {i.key for i in store.search(JAKE, filter=filter_, limit=100)} == want
    found = store.search(JAKE, query="alpha beta gamma", filter=filter_, limit=100)
    assert {i.key for i in found} == want


def test_fields_past_the_limits_still_filter(store: MemoraStore, memora: SyncMemora) -> None:
    wide = {f"f{i:02d}": i for i in range(40)}
    store.put(JAKE, "wide", {"content": "a very wide item", **wide})
    store.put(JAKE, "inf", {"content": "an endless score", "score": math.inf})
    store.put(JAKE, "plain", {"content": "a plain item", "f39": 0, "score": 1})
    metadata = {m.memory: m.metadata for m in public(memora).list_memories("acme", "jake")}
    assert metadata["a very wide item"][PARTIAL_KEY] is True
    assert len(metadata["a very wide item"]) == 32  # 31 fields and the marker
    assert metadata["an endless score"] == {"content": "an endless score", PARTIAL_KEY: True}
    assert PARTIAL_KEY not in metadata["a plain item"]
    assert [h.key for h in store.search(JAKE, filter={"f39": 39})] == ["wide"]
    assert [h.key for h in store.search(JAKE, filter={"score": {"$gt": 5}})] == ["inf"]
    assert PARTIAL_KEY not in store.get(JAKE, "wide").value


def test_memories_with_metadata_are_items(store: MemoraStore, memora: SyncMemora) -> None:
    seed_tenant(memora, "acme", "jake", "bot")
    public(memora).add_memories(
        "acme", "jake", "bot", ["Jake likes jazz."], metadata={"topic": "music"}
    )
    public(memora).add_memories(
        "acme", "jake", "bot", ["Jake likes judo."], metadata={"topic": "sport"}
    )
    [hit] = store.search(JAKE, query="jake likes", filter={"topic": "music"})
    assert hit.value == {"content": "Jake likes jazz.", "topic": "music"}
    assert store.get(("acme", "jake", "bot"), hit.key).value == hit.value


def test_bad_store_filters_raise(store: MemoraStore) -> None:
    store.put(JAKE, "k", {"content": "x", "rating": 1})
    with pytest.raises(InvalidInputError, match=r"\$regex"):
        store.search(JAKE, filter={"rating": {"$regex": "1"}})
    with pytest.raises(InvalidInputError, match="value fields"):
        store.search(JAKE, filter={"$or": [{"rating": 1}]})
    with pytest.raises(InvalidInputError, match="dict"):
        store.search(JAKE, filter=[("rating", 1)])  # type: ignore[arg-type]


def test_long_fields_stay_in_the_value(store: MemoraStore, memora: SyncMemora) -> None:
    """A field that cannot be metadata never makes a put fail; filters on it still work."""
    store.put(JAKE, "long", {"content": "y", "note": "z" * 600})
    item = store.get(JAKE, "long")
    assert item is not None
    assert item.value["note"] == "z" * 600
    [memory] = public(memora).list_memories("acme", "jake")
    assert memory.metadata == {"content": "y"}
    assert [h.key for h in store.search(JAKE, filter={"note": "z" * 600})] == ["long"]
    assert store.search(JAKE, filter={"note": "z"}) == []


async def test_async_store_filter(tmp_path: Path) -> None:
    memora = await open_async(tmp_path / "a")
    try:
        store = MemoraStore(memora)
        await store.aput(JAKE, "t", {"content": "Jake drinks green tea", "kind": "drink"})
        await store.aput(JAKE, "c", {"content": "Jake drinks coffee", "kind": "other"})
        hits = await store.asearch(JAKE, query="drinks", filter={"kind": "drink"})
        assert [h.key for h in hits] == ["t"]
    finally:
        await memora.close()


# ---------------------------------------------------------------------- MemoraMemory
def _echo_recall(messages: list[BaseMessage]) -> AIMessage:
    recalled = [str(m.content) for m in messages if is_recall_message(m)]
    return AIMessage(recalled[-1] if recalled else "nothing")


def test_memory_recall_filter_and_save_metadata(memora: SyncMemora) -> None:
    seed_tenant(memora, "acme", "jake", "bot")
    core = public(memora)
    core.add_memories(
        "acme", "jake", "bot", ["Jake's work laptop is a ThinkPad."], metadata={"scope": "work"}
    )
    core.add_memories(
        "acme", "jake", "bot", ["Jake's home laptop is a MacBook."], metadata={"scope": "home"}
    )
    memory = MemoraMemory(
        memora,
        org_id="acme",
        agent_id="bot",
        user_id="jake",
        filter={"scope": "work"},
        metadata={"scope": "work", "via": "agent"},
    )
    model = AgentFakeModel(responder=_echo_recall)
    agent = create_agent(model, tools=[], middleware=[memory], checkpointer=InMemorySaver())
    out = agent.invoke(
        {"messages": [HumanMessage("Which laptop do I use?")]},
        {"configurable": {"thread_id": "t1"}},
    )
    answer = str(out["messages"][-1].content)
    assert "ThinkPad" in answer
    assert "MacBook" not in answer
    saved = core.get_interaction("acme", "jake", "t1", with_memories=True)
    assert saved.memories
    assert all(m.metadata == {"scope": "work", "via": "agent"} for m in saved.memories)


async def test_memory_node_filter_async(tmp_path: Path) -> None:
    memora = await open_async(tmp_path / "a")
    try:
        await memora.get_or_create_organization("acme")
        await memora.get_or_create_user("acme", "jake")
        await memora.get_or_create_agent("acme", "bot")
        await memora.add_memories(
            "acme", "jake", "bot", ["Jake's bike is red."], metadata={"topic": "bike"}
        )
        await memora.add_memories(
            "acme", "jake", "bot", ["Jake's bike shop is closed."], metadata={"topic": "shop"}
        )
        memory = MemoraMemory(memora, org_id="acme", agent_id="bot", filter={"topic": "bike"})
        update = await memory.arecall_node(
            {"messages": [HumanMessage("Tell me about my bike")]},
            {"configurable": {"user_id": "jake"}},
        )
        [message] = update["messages"]
        assert "Jake's bike is red." in str(message.content)
        assert "shop" not in str(message.content)
    finally:
        await memora.close()


def test_memory_bad_settings_raise(memora: SyncMemora) -> None:
    with pytest.raises(InvalidInputError, match="metadata"):
        MemoraMemory(memora, org_id="acme", agent_id="bot", metadata={"k": [{"x": 1}]})
    with pytest.raises(InvalidInputError, match="filter"):
        MemoraMemory(memora, org_id="acme", agent_id="bot", filter="scope=work")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match=r"\$near"):
        MemoraMemory(memora, org_id="acme", agent_id="bot", filter={"scope": {"$near": 1}})
