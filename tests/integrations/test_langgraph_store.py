"""MemoraStore: behaviours modelled on LangGraph's own store tests (batch order, get/put/delete,
search with query / filter / limit / offset, list_namespaces) plus Memora's mapping and limits."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from langgraph.graph import END, START, MessagesState, StateGraph
from langgraph.runtime import Runtime
from langgraph.store.base import (
    GetOp,
    InvalidNamespaceError,
    Item,
    ListNamespacesOp,
    PutOp,
    SearchOp,
)

from memora_engine import InvalidInputError, SyncMemora
from memora_integrations.langgraph import MemoraStore
from tests.integrations.langchain_support import open_async, open_sync, public, seed_tenant

JAKE = ("acme", "jake")
ANN = ("acme", "ann")


@pytest.fixture
def memora(tmp_path: Path) -> Iterator[SyncMemora]:
    memora = open_sync(tmp_path / "m", extract=True)
    yield memora
    memora.close()


@pytest.fixture
def store(memora: SyncMemora) -> MemoraStore:
    return MemoraStore(memora)


def test_put_get_update_keeps_history(store: MemoraStore, memora: SyncMemora) -> None:
    store.put(JAKE, "diet", {"content": "Jake is vegetarian", "kind": "food"})
    item = store.get(JAKE, "diet")
    assert isinstance(item, Item)
    assert (item.namespace, item.key) == (JAKE, "diet")
    assert item.value == {"content": "Jake is vegetarian", "kind": "food"}
    assert item.created_at == item.updated_at

    store.put(JAKE, "diet", {"content": "Jake is vegan now", "kind": "food"})
    updated = store.get(JAKE, "diet")
    assert updated is not None
    assert updated.value["content"] == "Jake is vegan now"
    assert updated.created_at == item.created_at
    assert updated.updated_at > item.updated_at
    # Memora kept the old version in the memory's history chain (newest first).
    head = store.search(JAKE, query="vegan")[0]
    assert head.key == "diet"
    memory_id = memora.search_memories_as_one("acme", "jake", ["vegan"])[0].memory_id
    chain = public(memora).get_memory_history("acme", "jake", memory_id)
    assert [m.memory for m in chain] == ["Jake is vegan now", "Jake is vegetarian"]


def test_get_missing_and_delete(store: MemoraStore) -> None:
    assert store.get(JAKE, "nothing") is None
    assert store.get(("nowhere", "nobody"), "nothing") is None
    store.put(JAKE, "pet", {"content": "Jake has a cat"})
    store.put(JAKE, "pet", {"content": "Jake has a cat and a dog"})
    store.delete(JAKE, "pet")
    assert store.get(JAKE, "pet") is None
    assert store.search(JAKE, query="cat dog pets") == []
    store.delete(JAKE, "pet")  # deleting a missing key is a no-op


def test_batch_order(store: MemoraStore) -> None:
    store.put(JAKE, "a", {"content": "Jake likes tennis"})
    results = store.batch(
        [
            PutOp(JAKE, "b", {"content": "Jake likes chess"}),
            GetOp(JAKE, "a"),
            SearchOp(JAKE, query="chess"),
            ListNamespacesOp(),
            GetOp(JAKE, "missing"),
        ]
    )
    assert results[0] is None
    assert isinstance(results[1], Item)
    assert results[1].value == {"content": "Jake likes tennis"}
    assert isinstance(results[2], list)
    assert results[2][0].key == "b"
    assert results[3] == [JAKE]
    assert results[4] is None


def test_search_query_limit_offset_filter(store: MemoraStore) -> None:
    facts = {
        "f1": ("Jake loves Thai food", "food", 3),
        "f2": ("Jake loves Italian food", "food", 5),
        "f3": ("Jake hates fast food", "food", 1),
        "h1": ("Jake plays tennis", "sport", 4),
    }
    for key, (text, kind, rating) in facts.items():
        store.put(JAKE, key, {"content": text, "kind": kind, "rating": rating})
    hits = store.search(JAKE, query="Jake food", limit=10)
    assert {h.key for h in hits} >= {"f1", "f2", "f3"}
    scores = [h.score for h in hits]
    assert all(s is not None for s in scores)
    assert scores == sorted(scores, reverse=True)

    page1 = store.search(JAKE, query="Jake food", limit=2)
    page2 = store.search(JAKE, query="Jake food", limit=2, offset=2)
    assert [h.key for h in page1 + page2] == [h.key for h in hits[:4]]

    food = store.search(JAKE, query="Jake", filter={"kind": "food"}, limit=10)
    assert {h.key for h in food} == {"f1", "f2", "f3"}
    good = store.search(JAKE, filter={"rating": {"$gte": 3}, "kind": {"$ne": "sport"}})
    assert {h.key for h in good} == {"f1", "f2"}

    listing = store.search(JAKE, limit=10)  # no query: newest first, no score
    assert [h.key for h in listing] == ["h1", "f3", "f2", "f1"]
    assert all(h.score is None for h in listing)


def test_tenancy_of_namespaces(store: MemoraStore) -> None:
    store.put(JAKE, "k", {"content": "Jake's passport number is in the drawer"})
    store.put(ANN, "k", {"content": "Ann's passport is at the bank"})
    store.put(("other", "jake"), "k", {"content": "Other org's Jake has no passport"})
    assert store.get(JAKE, "k").value["content"].startswith("Jake's")
    assert store.get(ANN, "k").value["content"].startswith("Ann's")
    jake_hits = store.search(JAKE, query="passport")
    assert [h.value["content"] for h in jake_hits] == ["Jake's passport number is in the drawer"]
    org_hits = store.search(("acme",), query="passport", limit=10)
    assert {h.namespace for h in org_hits} == {JAKE, ANN}
    assert store.search(("acme", "jake", "someagent"), query="passport") == []


def test_list_namespaces(store: MemoraStore) -> None:
    store.put(("acme", "jake"), "a", {"content": "one"})
    store.put(("acme", "jake", "planner"), "b", {"content": "two"})
    store.put(("acme", "ann"), "c", {"content": "three"})
    store.put(("beta", "zoe"), "d", {"content": "four"})
    assert store.list_namespaces() == [
        ("acme", "ann"),
        ("acme", "jake"),
        ("acme", "jake", "planner"),
        ("beta", "zoe"),
    ]
    assert store.list_namespaces(prefix=("acme",)) == [
        ("acme", "ann"),
        ("acme", "jake"),
        ("acme", "jake", "planner"),
    ]
    assert store.list_namespaces(suffix=("planner",)) == [("acme", "jake", "planner")]
    assert store.list_namespaces(prefix=("*", "jake")) == [
        ("acme", "jake"),
        ("acme", "jake", "planner"),
    ]
    assert store.list_namespaces(max_depth=1) == [("acme",), ("beta",)]
    assert store.list_namespaces(limit=2, offset=1) == [
        ("acme", "jake"),
        ("acme", "jake", "planner"),
    ]


def test_memories_from_conversations_are_items(store: MemoraStore, memora: SyncMemora) -> None:
    seed_tenant(memora, "acme", "jake", "bot")
    memora.save_or_update_interaction_and_memories(
        "acme", "jake", "bot", [{"role": "user", "content": "I am allergic to peanuts."}]
    )
    hit = store.search(JAKE, query="peanut allergy")[0]
    assert hit.namespace == ("acme", "jake", "bot")
    assert hit.value == {"content": "User jake said: I am allergic to peanuts."}
    got = store.get(("acme", "jake", "bot"), hit.key)  # the key is the memory id
    assert got is not None
    assert got.value == hit.value


def test_unsupported_options_raise_and_write_nothing(store: MemoraStore) -> None:
    with pytest.raises(NotImplementedError):
        store.put(JAKE, "k", {"content": "x"}, ttl=5)
    with pytest.raises(InvalidInputError, match="TTL"):
        store.batch([PutOp(JAKE, "k", {"content": "x"}, ttl=5.0)])
    with pytest.raises(InvalidInputError, match="index=False"):
        store.put(JAKE, "k", {"content": "x"}, index=False)
    with pytest.raises(InvalidInputError):
        store.put(("acme",), "k", {"content": "x"})
    with pytest.raises(InvalidInputError):
        store.put(("a", "b", "c", "d"), "k", {"content": "x"})
    with pytest.raises(InvalidInputError):
        store.put(("acme", "bad id!"), "k", {"content": "x"})
    with pytest.raises(InvalidNamespaceError):
        store.put(("acme", "ja.ke"), "k", {"content": "x"})
    with pytest.raises(InvalidInputError):
        store.search(())
    # A batch is validated before anything runs: the valid put is not written either.
    with pytest.raises(InvalidInputError):
        store.batch([PutOp(JAKE, "ok", {"content": "fine"}), PutOp(("x",), "k", {"content": "y"})])
    assert store.get(JAKE, "ok") is None
    assert store.list_namespaces() == []


def test_index_fields_choose_the_text(store: MemoraStore, memora: SyncMemora) -> None:
    store.put(
        JAKE, "trip", {"title": "Trip", "notes": ["Visit Kyoto", "Eat ramen"]}, index=["notes[*]"]
    )
    memory = memora.search_memories_as_one("acme", "jake", ["Kyoto"])[0]
    assert memory.memory == "Visit Kyoto\nEat ramen"
    assert store.get(JAKE, "trip").value == {"title": "Trip", "notes": ["Visit Kyoto", "Eat ramen"]}
    store.put(JAKE, "plain", {"city": "Oslo", "zip": 150})  # no text field: rendered pairs
    assert (
        memora.search_memories_as_one("acme", "jake", ["Oslo"])[0].memory == "city: Oslo\nzip: 150"
    )


def test_infer_mode_extracts_memories(memora: SyncMemora) -> None:
    store = MemoraStore(memora, infer=True)
    store.put(
        JAKE, "chat-1", {"messages": [{"role": "user", "content": "I bought a tandem bike."}]}
    )
    hits = store.search(JAKE, query="bike")
    assert [h.value["content"] for h in hits] == ["jake said: I bought a tandem bike."]


def test_store_in_a_compiled_graph(store: MemoraStore) -> None:
    def remember(state: MessagesState, runtime: Runtime) -> dict:
        assert runtime.store is not None
        text = str(state["messages"][-1].content)
        runtime.store.put(JAKE, "last", {"content": text})
        found = runtime.store.search(JAKE, query=text, limit=1)
        return {"messages": [("ai", f"stored {found[0].key}")]}

    builder = StateGraph(MessagesState)
    builder.add_node("remember", remember)
    builder.add_edge(START, "remember")
    builder.add_edge("remember", END)
    graph = builder.compile(store=store)
    out = graph.invoke({"messages": [("user", "Jake's birthday is in March")]})
    assert out["messages"][-1].content == "stored last"
    assert store.get(JAKE, "last").value == {"content": "Jake's birthday is in March"}


async def test_async_store_on_async_core(tmp_path: Path) -> None:
    memora = await open_async(tmp_path / "a")
    try:
        store = MemoraStore(memora)
        await store.aput(JAKE, "drink", {"content": "Jake drinks green tea"})
        item = await store.aget(JAKE, "drink")
        assert item is not None
        assert item.value == {"content": "Jake drinks green tea"}
        hits = await store.asearch(JAKE, query="tea")
        assert [h.key for h in hits] == ["drink"]
        assert await store.alist_namespaces() == [JAKE]
        await store.adelete(JAKE, "drink")
        assert await store.aget(JAKE, "drink") is None
    finally:
        await memora.close()


def test_pure_helpers() -> None:
    from memora_integrations.langgraph import thread_interaction_id
    from memora_integrations.langgraph.store import key_memory_id, matches_filter, value_text

    assert value_text({"content": "a", "text": "b"}, ["content", "text"]) == "a\nb"
    assert value_text({"a": {"b": [{"c": "x"}, {"c": "y"}]}}, ["a.b[*].c"]) == "x\ny"
    assert value_text({"a": {"b": ["p", "q"]}}, ["a.b[1]"]) == "q"
    assert value_text({"n": 1, "tags": ["t"]}, ["missing"]) == 'n: 1\ntags: ["t"]'
    assert matches_filter({"n": 3, "k": "a"}, {"n": {"$gt": 2, "$lte": 3}, "k": "a"})
    assert not matches_filter({"n": 3}, {"n": {"$lt": 3}})
    assert not matches_filter({"k": "a"}, {"n": {"$gt": 1}})  # missing field never matches
    assert key_memory_id("o", "u", "a", "k") == key_memory_id("o", "u", "a", "k")
    assert key_memory_id("o", "u", "a", "k") != key_memory_id("o", "u2", "a", "k")
    assert thread_interaction_id("thread-1") == "thread-1"
    hashed = thread_interaction_id("a thread/with spaces")
    assert hashed.startswith("thread-")
    assert len(hashed) == 47
