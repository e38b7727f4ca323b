"""Metadata and filters through the LangChain adapters: retriever, search / save tools, and the
opt-in add_memories / edit_memory tools (real embedded Memora, real MiniLM)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from langchain.agents import create_agent
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage

from memora_engine import ConfigurationError, InvalidInputError, MemorySearchScope, SyncMemora
from memora_integrations.langchain import (
    MEMORY_METADATA_KEY,
    MemoraAddMemoriesTool,
    MemoraEditMemoryTool,
    MemoraRetriever,
    MemoraSaveMemoryTool,
    MemoraSearchMemoriesTool,
    create_memora_tools,
)
from tests.integrations.langchain_support import (
    AgentFakeModel,
    open_async,
    open_sync,
    public,
    seed_tenant,
)

TENANT = {"org_id": "acme", "user_id": "jake", "agent_id": "bot"}
#: Very relevant to "tea" but labelled "noise": they outrank every "kept" memory.
NOISE = [f"Jake drinks green tea number {i} every morning with tea friends." for i in range(12)]
#: Less relevant to "tea", labelled "kept".
KEPT = [
    "Jake once visited a tea museum in Shizuoka.",
    "Jake keeps a tea journal next to his bike.",
    "Jake's grandmother grew tea in the hills.",
    "Jake bought a kettle shaped like a tea pot.",
    "Jake wrote a poem about tea and rain.",
    "Jake learned about tea ceremonies at school.",
]


@pytest.fixture(scope="module")
def memora(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SyncMemora]:
    memora = open_sync(tmp_path_factory.mktemp("lc-metadata"))
    seed_tenant(memora, "acme", "jake", "bot")
    seed_tenant(memora, "other", "jake", "bot")
    core = public(memora)
    core.add_memories("acme", "jake", "bot", NOISE, metadata={"label": "noise", "rank": 1})
    core.add_memories(
        "acme",
        "jake",
        "bot",
        [
            {"memory": text, "metadata": {"label": "kept", "rank": i, "verified": i % 2 == 0}}
            for i, text in enumerate(KEPT)
        ],
    )
    core.add_memories(
        "other", "jake", "bot", ["Jake drinks tea in the other org."], metadata={"label": "kept"}
    )
    yield memora
    memora.close()


def _texts(docs: list[Any]) -> list[str]:
    return [d.page_content for d in docs]


# ---------------------------------------------------------------------- retriever
def test_retriever_filter_fills_k_with_matches(memora: SyncMemora) -> None:
    """Push-down: 12 better-ranked memories do not match, yet k matching documents come back."""
    plain = MemoraRetriever(memora=memora, org_id="acme", user_id="jake", k=4)
    assert {d.metadata["label"] for d in plain.invoke("tea")} == {"noise"}
    kept = MemoraRetriever(
        memora=memora, org_id="acme", user_id="jake", k=4, filter={"label": "kept"}
    )
    docs = kept.invoke("tea")
    assert len(docs) == 4
    assert all(d.page_content in KEPT for d in docs)
    assert {d.metadata["label"] for d in docs} == {"kept"}
    scores = [d.metadata["score"] for d in docs]
    assert scores == sorted(scores, reverse=True)
    assert len(kept.invoke("tea", k=6)) == 6


def test_retriever_per_call_filter_is_and_combined(memora: SyncMemora) -> None:
    kept = MemoraRetriever(
        memora=memora, org_id="acme", user_id="jake", k=10, filter={"label": "kept"}
    )
    verified = kept.invoke("tea", filter={"verified": True})
    assert sorted(_texts(verified)) == sorted(KEPT[0::2])
    # A per-call filter narrows, never widens: noise stays out of a "kept" retriever.
    assert kept.invoke("tea", filter={"label": "noise"}) == []
    # Without a construction filter the per-call one applies alone.
    plain = MemoraRetriever(memora=memora, org_id="acme", user_id="jake", k=3)
    ranked = plain.invoke("tea", filter={"rank": {"$gte": 4}})
    assert sorted(_texts(ranked)) == sorted(KEPT[4:])


async def test_retriever_async_and_organization_scope(memora: SyncMemora) -> None:
    org = MemoraRetriever(
        memora=memora,
        org_id="other",
        scope=MemorySearchScope.ORGANIZATION,
        k=5,
        filter={"label": "kept"},
    )
    docs = await org.ainvoke("tea")
    assert _texts(docs) == ["Jake drinks tea in the other org."]
    assert await org.ainvoke("tea", filter={"label": {"$ne": "kept"}}) == []


def test_document_metadata_layout(tmp_path: Path) -> None:
    memora = open_sync(tmp_path / "m")
    try:
        seed_tenant(memora, "acme", "jake", "bot")
        own = {"topic": "food", "memory_id": "mine", "score": 99, "tags": ["a", "b"]}
        [stored] = public(memora).add_memories(
            "acme", "jake", "bot", ["Jake likes miso soup."], metadata=own
        )
        retriever = MemoraRetriever(memora=memora, org_id="acme", user_id="jake")
        [doc] = retriever.invoke("miso soup")
        meta = doc.metadata
        assert meta[MEMORY_METADATA_KEY] == own  # unchanged
        assert meta["memory_id"] == stored.memory_id == doc.id  # retriever fields win
        assert meta["score"] != 99
        assert meta["topic"] == "food"
        assert meta["tags"] == ["a", "b"]
    finally:
        memora.close()


def test_retriever_bad_filters_raise(memora: SyncMemora) -> None:
    with pytest.raises(InvalidInputError, match="filter"):
        MemoraRetriever(memora=memora, org_id="acme", user_id="jake", filter="label=kept")
    with pytest.raises(InvalidInputError, match=r"\$like"):  # checked when built
        MemoraRetriever(
            memora=memora, org_id="acme", user_id="jake", filter={"label": {"$like": "k%"}}
        )
    with pytest.raises(InvalidInputError, match="obtained_at"):
        create_memora_tools(memora, **TENANT, filter={"obtained_at": {"$gt": "soon"}})
    plain = MemoraRetriever(memora=memora, org_id="acme", user_id="jake")
    with pytest.raises(InvalidInputError, match="rank"):
        plain.invoke("tea", filter={"rank": {"$gt": "high"}})


# ---------------------------------------------------------------------- tools
def test_search_tool_filter_schema_is_simple(memora: SyncMemora) -> None:
    tool = MemoraSearchMemoriesTool(memora=memora, **TENANT)
    schema = tool.tool_call_schema.model_json_schema()
    prop = schema["properties"]["filter"]
    assert {"type": "object", "additionalProperties": True} in prop["anyOf"]
    assert '{"topic": "food"' in prop["description"]
    assert "filter" not in schema.get("required", [])


def test_search_tool_filter_and_tool_filter(memora: SyncMemora) -> None:
    tool = MemoraSearchMemoriesTool(memora=memora, **TENANT)
    found = json.loads(tool.invoke({"query": "tea", "limit": 3, "filter": {"label": "kept"}}))
    assert len(found) == 3
    assert all(m["memory"] in KEPT and m["metadata"]["label"] == "kept" for m in found)
    fixed = MemoraSearchMemoriesTool(memora=memora, **TENANT, filter={"verified": True})
    found = json.loads(fixed.invoke({"query": "tea", "limit": 10, "filter": {"rank": {"$lt": 3}}}))
    assert sorted(m["memory"] for m in found) == sorted([KEPT[0], KEPT[2]])


def test_bad_filter_reaches_the_model(memora: SyncMemora) -> None:
    tool = MemoraSearchMemoriesTool(memora=memora, **TENANT)
    for bad in ({"label": {"$regex": "k"}}, {"obtained_at": {"$gt": "yesterday"}}):
        call = {
            "type": "tool_call",
            "id": "c1",
            "name": tool.name,
            "args": {"query": "tea", "filter": bad},
        }
        message = tool.invoke(call)
        assert isinstance(message, ToolMessage)
        assert message.status == "error"
        assert str(message.content).startswith("Error: ")
    not_a_dict = tool.invoke(
        {
            "type": "tool_call",
            "id": "c2",
            "name": tool.name,
            "args": {"query": "tea", "filter": "label=kept"},
        }
    )
    assert not_a_dict.status == "error"
    assert "filter" in str(not_a_dict.content)
    strict = MemoraSearchMemoriesTool(memora=memora, **TENANT, report_errors=False)
    with pytest.raises(InvalidInputError, match=r"\$regex"):
        strict.invoke({"query": "tea", "filter": {"label": {"$regex": "k"}}})


def test_save_tool_metadata(tmp_path: Path) -> None:
    memora = open_sync(tmp_path / "m")
    try:
        seed_tenant(memora, "acme", "jake", "bot")
        save = MemoraSaveMemoryTool(memora=memora, **TENANT, infer=False)
        out = json.loads(
            save.invoke(
                {"text": "Jake runs on Tuesdays.", "metadata": {"topic": "sport", "weekly": True}}
            )
        )
        assert out["memories"][0]["metadata"] == {"topic": "sport", "weekly": True}
        listed = public(memora).list_memories("acme", "jake", filter={"topic": "sport"})
        assert [m.memory for m in listed] == ["Jake runs on Tuesdays."]
        bad = save.invoke(
            {
                "type": "tool_call",
                "id": "c1",
                "name": save.name,
                "args": {"text": "Jake swims.", "metadata": {"agent_id": "x"}},
            }
        )
        assert bad.status == "error"
        assert "agent_id" in str(bad.content)
        assert len(public(memora).list_memories("acme", "jake")) == 1  # nothing written
    finally:
        memora.close()


def test_add_and_edit_tools_are_opt_in(tmp_path: Path) -> None:
    memora = open_sync(tmp_path / "m")
    try:
        seed_tenant(memora, "acme", "jake", "bot")
        default = [t.name for t in create_memora_tools(memora, **TENANT)]
        assert "add_memories" not in default
        assert "edit_memory" not in default
        add, edit = create_memora_tools(memora, **TENANT, include=("add", "edit"))
        assert isinstance(add, MemoraAddMemoriesTool)
        assert isinstance(edit, MemoraEditMemoryTool)

        added = json.loads(
            add.invoke(
                {"facts": ["Jake is 30.", "Jake lives in Oslo."], "metadata": {"topic": "profile"}}
            )
        )
        assert [m["memory"] for m in added] == ["Jake is 30.", "Jake lives in Oslo."]
        assert all(m["metadata"] == {"topic": "profile"} for m in added)
        age_id = added[0]["memory_id"]

        edited = json.loads(edit.invoke({"memory_id": age_id, "text": "Jake is 31."}))["edited"]
        assert edited["memory"] == "Jake is 31."
        assert edited["memory_id"] != age_id
        assert edited["metadata"] == {"topic": "profile"}  # inherited by the new version
        history = public(memora).get_memory_history("acme", "jake", edited["memory_id"])
        assert [m.memory for m in history] == ["Jake is 31.", "Jake is 30."]

        relabel = {"memory_id": added[1]["memory_id"], "metadata": {"topic": "home"}}
        moved = json.loads(edit.invoke(relabel))["edited"]
        assert moved["memory_id"] == added[1]["memory_id"]  # metadata alone: in place
        assert moved["metadata"] == {"topic": "home"}
        homes = public(memora).list_memories("acme", "jake", filter={"topic": "home"})
        assert [m.memory for m in homes] == ["Jake lives in Oslo."]

        for args in (
            {"memory_id": age_id, "text": "Jake is 32."},  # an old version
            {"memory_id": "0b7a6f0e-1d7c-4c4e-9f51-3f1f0c0a9e11", "text": "x"},
            {"memory_id": age_id},
        ):  # neither text nor metadata
            message = edit.invoke({"type": "tool_call", "id": "e", "name": edit.name, "args": args})
            assert message.status == "error"
        too_big = add.invoke(
            {
                "type": "tool_call",
                "id": "a",
                "name": add.name,
                "args": {"facts": ["x"], "metadata": {"k": "v" * 600}},
            }
        )
        assert too_big.status == "error"
        assert "512" in str(too_big.content)
        assert len(public(memora).list_memories("acme", "jake")) == 2
    finally:
        memora.close()


def test_agent_fills_the_filter_argument(memora: SyncMemora) -> None:
    """A model's tool call with a filter runs the filtered search inside create_agent."""
    calls = iter(
        [
            {
                "name": "search_memories",
                "id": "c1",
                "args": {"query": "tea", "limit": 2, "filter": {"label": "kept"}},
            }
        ]
    )

    def respond(messages: list[BaseMessage]) -> AIMessage:
        call = next(calls, None)
        return AIMessage("", tool_calls=[call]) if call else AIMessage("done")

    agent = create_agent(
        AgentFakeModel(responder=respond),
        tools=create_memora_tools(memora, **TENANT, include=("search",)),
    )
    out = agent.invoke({"messages": [HumanMessage("What do you know about my tea life?")]})
    [result] = [m for m in out["messages"] if isinstance(m, ToolMessage)]
    found = json.loads(str(result.content))
    assert len(found) == 2
    assert all(m["memory"] in KEPT for m in found)


async def test_async_tools_with_metadata(tmp_path: Path) -> None:
    memora = await open_async(tmp_path / "a")
    try:
        await memora.get_or_create_organization("acme")
        await memora.get_or_create_user("acme", "jake")
        await memora.get_or_create_agent("acme", "bot")
        search, add = create_memora_tools(memora, **TENANT, include=("search", "add"))
        await add.ainvoke({"facts": ["Jake likes jazz."], "metadata": {"topic": "music"}})
        await add.ainvoke({"facts": ["Jake likes jazz clubs."], "metadata": {"topic": "places"}})
        found = json.loads(await search.ainvoke({"query": "jazz", "filter": {"topic": "music"}}))
        assert [m["memory"] for m in found] == ["Jake likes jazz."]
    finally:
        await memora.close()


def test_add_tool_infer_option_reaches_the_engine(tmp_path: Path) -> None:
    """create_memora_tools(infer=True) makes add_memories compare facts: with no extraction
    model that is a configuration error, which raises (it is not the model's fault)."""
    memora = open_sync(tmp_path / "m")
    try:
        seed_tenant(memora, "acme", "jake", "bot")
        [add] = create_memora_tools(memora, **TENANT, include=("add",), infer=True)
        assert isinstance(add, MemoraAddMemoriesTool)
        assert add.infer is True
        with pytest.raises(ConfigurationError, match="extraction_model"):
            add.invoke({"facts": ["Jake is 30."]})
        assert public(memora).list_memories("acme", "jake") == []
        [verbatim] = create_memora_tools(memora, **TENANT, include=("add",))
        assert json.loads(verbatim.invoke({"facts": ["Jake is 30."]}))[0]["memory"] == "Jake is 30."
    finally:
        memora.close()
