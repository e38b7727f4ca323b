"""Metadata and filters through the LlamaIndex adapters (issue #14), on embedded Memora stores.

Real LlamaIndex classes (``MetadataFilters``, ``Memory``, ``FunctionTool``, ``FunctionAgent``
with LlamaIndex's mock function-calling model); Memora in raw mode (messages stored verbatim as
memories), so no model call is scripted on Memora's side.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from llama_index.core.agent.workflow import FunctionAgent
from llama_index.core.base.llms.types import ChatMessage, MessageRole
from llama_index.core.memory import Memory
from llama_index.core.vector_stores import (
    FilterCondition,
    FilterOperator,
    MetadataFilter,
    MetadataFilters,
)

from memora_engine import Memora
from memora_engine.embeddings import DenseEncoder, SparseEncoder
from memora_engine.errors import InvalidInputError
from memora_integrations.llama_index import MemoraMemory, MemoraMemoryBlock, MemoraToolSpec
from tests.integrations.llamaindex_support import (
    Tenant,
    answer,
    call_tool,
    create_tenant,
    open_memora,
    scripted_agent_llm,
    transcript,
)

README = Path(__file__).resolve().parents[2] / "README.md"
SUPPORT = MetadataFilters(filters=[MetadataFilter(key="channel", value="support")])


@pytest.fixture
async def memora(
    tmp_path: Path, dense_encoder: DenseEncoder, sparse_encoder: SparseEncoder
) -> AsyncIterator[Memora]:
    engine = await open_memora(tmp_path / "memora", None, dense_encoder, sparse_encoder)
    yield engine
    await engine.close()


@pytest.fixture
async def tenant(memora: Memora) -> Tenant:
    return await create_tenant(memora)


async def _seed_sales(memora: Memora, t: Tenant, count: int) -> None:
    """Many memories about cooking from the sales channel (the most relevant to the query)."""
    await memora.add_memories(
        t.org_id,
        t.user_id,
        t.agent_id,
        [f"Jake asked sales about cooking pans, model {i}" for i in range(count)],
        metadata={"channel": "sales", "priority": 1},
    )


async def test_memory_saves_metadata_and_recalls_only_what_the_filters_allow(
    memora: Memora, tenant: Tenant
) -> None:
    """If this fails, check MemoraMemory passes ``metadata`` to the save and
    ``to_memora_filter(filters)`` to the recall (pushed down, so the recall still fills up)."""
    await _seed_sales(memora, tenant, 12)
    support = MemoraMemory.from_defaults(
        memora,
        tenant.org_id,
        tenant.user_id,
        tenant.agent_id,
        session_id="support-1",
        metadata={"channel": "support", "priority": 2},
    )
    await support.aput(ChatMessage(role="user", content="My cooking pan arrived broken."))
    await support.aput(ChatMessage(role="assistant", content="Sorry! A new pan is on its way."))
    stored = await memora.list_memories(tenant.org_id, tenant.user_id, filter={"priority": 2})
    assert sorted(m.memory for m in stored) == [
        "My cooking pan arrived broken.",
        "Sorry! A new pan is on its way.",
    ]
    assert all(m.metadata == {"channel": "support", "priority": 2} for m in stored)

    reader = MemoraMemory.from_defaults(
        memora,
        tenant.org_id,
        tenant.user_id,
        tenant.agent_id,
        session_id="support-2",
        filters=SUPPORT,
        max_recalled_memories=2,
    )
    got = await reader.aget("Which cooking pans did I ask about?")
    system = got[0].content or ""
    assert got[0].role == MessageRole.SYSTEM
    assert "My cooking pan arrived broken." in system
    assert "A new pan is on its way." in system
    assert "model" not in system  # no sales memory, however relevant

    unfiltered = MemoraMemory.from_defaults(
        memora, tenant.org_id, tenant.user_id, tenant.agent_id, session_id="support-3"
    )
    assert "model" in (
        (await unfiltered.aget("Which cooking pans did I ask about?"))[0].content or ""
    )


async def test_memory_block_filters_with_not_and_saves_metadata(
    memora: Memora, tenant: Tenant, llama_memory: Callable[..., Memory]
) -> None:
    await _seed_sales(memora, tenant, 5)
    not_sales = MetadataFilters(
        filters=[MetadataFilter(key="channel", value="sales")], condition=FilterCondition.NOT
    )
    block = MemoraMemoryBlock(
        memora,
        org_id=tenant.org_id,
        user_id=tenant.user_id,
        agent_id=tenant.agent_id,
        eager=True,
        filters=not_sales,
        metadata={"channel": "web", "tags": ["chat", "eu"]},
    )
    memory = llama_memory(session_id="web-1", memory_blocks=[block])
    await memory.aput(ChatMessage(role="user", content="I prefer cast iron cooking pans."))
    await memory.aput(ChatMessage(role="assistant", content="Noted, cast iron it is."))
    await memory.aget()  # eager: saves the window
    web = await memora.list_memories(
        tenant.org_id, tenant.user_id, filter={"tags": {"$in": ["eu"]}}
    )
    assert sorted(m.memory for m in web) == [
        "I prefer cast iron cooking pans.",
        "Noted, cast iron it is.",
    ]
    assert web[0].metadata == {"channel": "web", "tags": ["chat", "eu"]}

    other = llama_memory(session_id="web-2", memory_blocks=[block])
    await other.aput(ChatMessage(role="user", content="Which cooking pans do I like?"))
    recalled = "\n".join(str(m.content) for m in await other.aget())
    assert "cast iron" in recalled
    assert "model" not in recalled


async def test_tool_spec_search_filter_and_save_metadata(memora: Memora, tenant: Tenant) -> None:
    """The model's ``filter`` is AND-combined with the spec's ``filters``; the model's
    ``metadata`` is stored under the spec's own keys."""
    await _seed_sales(memora, tenant, 6)
    priority = MetadataFilters(
        filters=[MetadataFilter(key="priority", value=2, operator=FilterOperator.GTE)]
    )
    spec = MemoraToolSpec(
        memora,
        tenant.org_id,
        tenant.user_id,
        tenant.agent_id,
        infer=False,
        filters=priority,
        metadata={"source": "agent"},
    )
    tools = {t.metadata.name: t for t in spec.to_tool_list()}
    schema = tools["search_memories"].metadata.get_parameters_dict()
    assert "filter" in schema["properties"]
    assert "$gte" in schema["properties"]["filter"]["description"]

    saved = await tools["save_memory"].acall(
        text="The user wants a new cooking pan for their birthday.",
        metadata={"priority": 3, "source": "model"},
    )
    assert 'metadata {"priority": 3, "source": "agent"}' in saved.content
    tools["save_memory"].call(text="The user cooks pasta on Fridays.", metadata={"priority": 2})

    found = await tools["search_memories"].acall(query="cooking pan", limit=5)
    assert found.content.startswith("2 memories, most relevant first:"), found.content
    narrowed = tools["search_memories"].call(
        query="cooking pan", limit=5, filter={"priority": {"$gt": 2}}
    )
    assert narrowed.content.startswith("1 memories"), narrowed.content
    assert "birthday" in narrowed.content
    as_text = tools["search_memories"].call(query="cooking", filter='{"priority": 2}')
    assert "pasta" in as_text.content
    assert "birthday" not in as_text.content

    unlabelled = MemoraToolSpec(
        memora,
        tenant.org_id,
        tenant.user_id,
        tenant.agent_id,
        filters=MetadataFilters(
            filters=[MetadataFilter(key="channel", value=None, operator=FilterOperator.IS_EMPTY)]
        ),
    )
    empty = await unlabelled.asearch_memories("cooking pan", limit=10)
    assert empty.startswith("2 memories"), empty  # the two saves above: no channel key
    assert "sales" not in empty
    await spec.asave_memory("The user collects copper pans.", {"tags": ["copper", "pans"]})
    tagged = MemoraToolSpec(
        memora,
        tenant.org_id,
        tenant.user_id,
        tenant.agent_id,
        filters=MetadataFilters(
            filters=[
                MetadataFilter(key="tags", value=["pans", "iron"], operator=FilterOperator.ANY)
            ]
        ),
    )
    assert "copper pans" in tagged.search_memories("cooking pan")
    every = MetadataFilters(
        filters=[MetadataFilter(key="tags", value=["copper", "iron"], operator=FilterOperator.ALL)]
    )
    none = MemoraToolSpec(memora, tenant.org_id, tenant.user_id, tenant.agent_id, filters=every)
    assert none.search_memories("cooking pan") == "No stored memory matches that query."

    with pytest.raises(InvalidInputError, match=r"\$regex"):
        await tools["search_memories"].acall(query="pan", filter={"topic": {"$regex": "p"}})
    with pytest.raises(InvalidInputError, match="JSON object"):
        tools["search_memories"].call(query="pan", filter="topic=pan")
    before = await memora.list_memories(tenant.org_id, tenant.user_id)
    with pytest.raises(InvalidInputError, match="reserved"):
        tools["save_memory"].call(text="x is y", metadata={"agent_id": "z"})
    assert len(await memora.list_memories(tenant.org_id, tenant.user_id)) == len(before)


async def test_function_agent_fills_the_filter_argument(memora: Memora, tenant: Tenant) -> None:
    await _seed_sales(memora, tenant, 4)
    spec = MemoraToolSpec(memora, tenant.org_id, tenant.user_id, tenant.agent_id, infer=False)
    await spec.asave_memory("The user returned pan model 2 as faulty.", {"channel": "support"})
    llm = scripted_agent_llm(
        call_tool("search_memories", query="pan model", filter={"channel": "support"}),
        answer(lambda msgs: transcript(msgs).rsplit("tool:", 1)[-1].strip()),
    )
    agent = FunctionAgent(tools=spec.to_tool_list(), llm=llm)
    result = str(await agent.run("Which pans did I send back?"))
    assert result.startswith("1 memories, most relevant first:"), result
    assert re.search(r"returned pan model 2 as faulty", result)


def test_adapters_refuse_filters_memora_cannot_express(memora: Memora, tenant: Tenant) -> None:
    text_match = MetadataFilters(
        filters=[MetadataFilter(key="topic", value="pan", operator=FilterOperator.TEXT_MATCH)]
    )
    ids = (tenant.org_id, tenant.user_id, tenant.agent_id)
    with pytest.raises(InvalidInputError, match="TEXT_MATCH"):
        MemoraToolSpec(memora, *ids, filters=text_match)
    with pytest.raises(InvalidInputError, match="TEXT_MATCH"):
        MemoraMemory.from_defaults(memora, *ids, filters=text_match)
    with pytest.raises(InvalidInputError, match="TEXT_MATCH"):
        MemoraMemoryBlock(
            memora, org_id=ids[0], user_id=ids[1], agent_id=ids[2], filters=text_match
        )
    with pytest.raises(InvalidInputError, match="metadata must be a dict"):
        MemoraMemoryBlock(memora, org_id=ids[0], user_id=ids[1], agent_id=ids[2], metadata=[1])
    # Memora's own language and limits are checked when the adapter is built, not at first use.
    with pytest.raises(InvalidInputError, match="unknown filter operator"):
        MemoraToolSpec(memora, *ids, filters={"topic": {"$regex": "pan"}})
    with pytest.raises(InvalidInputError, match="reserved"):
        MemoraMemory.from_defaults(memora, *ids, metadata={"agent_id": "x"})


async def test_readme_llamaindex_filters_example_runs_as_written(
    memora: Memora, tenant: Tenant
) -> None:
    """If this fails, the README's LlamaIndex "Metadata and filters" example is out of date."""
    import ast

    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.DOTALL)
    [code] = [b for b in blocks if "to_memora_filter(support)" in b]
    namespace: dict[str, object] = {"memora": memora}
    compiled = compile(code, str(README), "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    awaitable = eval(compiled, namespace)
    if awaitable is not None:
        await awaitable
    memory = namespace["memory"]
    assert isinstance(memory, MemoraMemory)
    assert memory.metadata == {"channel": "support", "priority": 2}
    assert [t.metadata.name for t in namespace["tools"]] == [  # type: ignore[attr-defined]
        "search_memories",
        "save_memory",
        "memory_history",
        "delete_memory",
    ]
    await memory.aput(ChatMessage(role="user", content="My pan is broken."))
    await memory.aput(ChatMessage(role="assistant", content="A new one is on its way."))
    found = await memora.list_memories(tenant.org_id, tenant.user_id, filter={"priority": 2})
    assert len(found) == 2


async def test_opt_in_add_and_edit_tools(memora: Memora, tenant: Tenant) -> None:
    """``include=(..., "add", "edit")`` adds the fact tools; their metadata is stored exactly."""
    spec = MemoraToolSpec(
        memora,
        tenant.org_id,
        tenant.user_id,
        tenant.agent_id,
        include=("search", "add", "edit"),
        metadata={"source": "agent"},
    )
    tools = {t.metadata.name: t for t in spec.to_tool_list()}
    assert sorted(tools) == ["add_memories", "edit_memory", "search_memories"]
    assert tools["add_memories"].async_fn.__name__ == "aadd_memories"
    schema = tools["edit_memory"].metadata.get_parameters_dict()
    assert schema["required"] == ["memory_id"]
    assert "replacing the memory's labels" in schema["properties"]["metadata"]["description"]

    added = await tools["add_memories"].acall(
        facts=["The user is vegetarian", "The user lives in Porto"], metadata={"topic": "me"}
    )
    assert added.content.startswith("Added 2 memories:"), added.content
    porto = next(
        m for m in await memora.list_memories(tenant.org_id, tenant.user_id) if "Porto" in m.memory
    )
    assert porto.metadata == {"topic": "me", "source": "agent"}

    moved = tools["edit_memory"].call(memory_id=porto.memory_id, text="The user lives in Lisbon")
    assert "The user lives in Lisbon" in moved.content
    history = await memora.get_memory_history(tenant.org_id, tenant.user_id, porto.memory_id)
    assert [m.memory for m in history] == ["The user lives in Lisbon", "The user lives in Porto"]
    assert history[0].metadata == {"topic": "me", "source": "agent"}  # inherited
    relabelled = await tools["edit_memory"].acall(
        memory_id=history[0].memory_id, metadata={"topic": "home"}
    )
    assert '"topic": "home"' in relabelled.content
    with pytest.raises(InvalidInputError, match="needs a new memory text"):
        tools["edit_memory"].call(memory_id=history[0].memory_id)
    with pytest.raises(InvalidInputError, match="Unknown tool kinds"):
        MemoraToolSpec(memora, *(tenant.org_id, tenant.user_id, tenant.agent_id), include=("x",))
