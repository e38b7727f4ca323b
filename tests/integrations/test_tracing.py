"""Tracing: Memora's model calls nest inside the run each adapter serves (no network).

A recording ``BaseCallbackHandler`` is attached to the user's run (with a known root
``run_id``). Every chat-model run made by Memora's own (scripted) model must then have a
``parent_run_id`` chain that ends at that root — which is what LangSmith or any other callback
handler shows as "nested inside the user's trace".
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, cast

import pytest
from langchain.agents import create_agent
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.runnables import RunnableConfig, RunnableLambda
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, MessagesState, StateGraph
from langgraph.runtime import Runtime
from llama_index.core.base.llms.types import ChatMessage, MessageRole

from memora_engine import SyncMemora
from memora_integrations.langchain import (
    MemoraChatMessageHistory,
    MemoraRetriever,
    MemoraSaveMemoryTool,
)
from memora_integrations.langgraph import MemoraMemory, MemoraStore
from memora_integrations.llama_index import MemoraMemory as LlamaMemoraMemory
from tests.integrations.langchain_support import (
    AgentFakeModel,
    open_async,
    open_sync,
    seed_tenant,
)

TENANT = {"org_id": "acme", "user_id": "jake", "agent_id": "bot"}
MEMORA_MODEL_TYPE = "memora-scripted"  # ScriptedChatModel._llm_type: Memora's own model


class RunRecorder(BaseCallbackHandler):
    """Records every run's parent and, for chat models, whether Memora's model made it."""

    def __init__(self) -> None:
        self.parents: dict[uuid.UUID, uuid.UUID | None] = {}
        self.memora_calls: list[uuid.UUID] = []
        self.tags: dict[uuid.UUID, list[str]] = {}

    def _record(self, run_id: uuid.UUID, parent_run_id: uuid.UUID | None, **kwargs: Any) -> None:
        self.parents[run_id] = parent_run_id
        self.tags[run_id] = list(kwargs.get("tags") or [])

    def on_chat_model_start(
        self,
        serialized: dict[str, Any],
        messages: list[list[BaseMessage]],
        *,
        run_id: uuid.UUID,
        parent_run_id: uuid.UUID | None = None,
        **kwargs: Any,
    ) -> None:
        self._record(run_id, parent_run_id, **kwargs)
        if (kwargs.get("invocation_params") or {}).get("_type") == MEMORA_MODEL_TYPE:
            self.memora_calls.append(run_id)

    def on_chain_start(
        self,
        serialized: dict[str, Any] | None,
        inputs: Any,
        *,
        run_id: uuid.UUID,
        parent_run_id: uuid.UUID | None = None,
        **kwargs: Any,
    ) -> None:
        self._record(run_id, parent_run_id, **kwargs)

    def on_tool_start(
        self,
        serialized: dict[str, Any] | None,
        input_str: str,
        *,
        run_id: uuid.UUID,
        parent_run_id: uuid.UUID | None = None,
        **kwargs: Any,
    ) -> None:
        self._record(run_id, parent_run_id, **kwargs)

    def on_retriever_start(
        self,
        serialized: dict[str, Any] | None,
        query: str,
        *,
        run_id: uuid.UUID,
        parent_run_id: uuid.UUID | None = None,
        **kwargs: Any,
    ) -> None:
        self._record(run_id, parent_run_id, **kwargs)

    def root_of(self, run_id: uuid.UUID) -> uuid.UUID:
        while (parent := self.parents.get(run_id)) is not None:
            run_id = parent
        return run_id

    def assert_nested_under(self, root: uuid.UUID, *, at_least: int = 1) -> None:
        assert len(self.memora_calls) >= at_least, "Memora's model was not called (or not seen)"
        for call in self.memora_calls:
            assert call != root
            assert self.root_of(call) == root, "a Memora model call is not inside the user's run"


def traced(recorder: RunRecorder, **extra: Any) -> tuple[RunnableConfig, uuid.UUID]:
    """The config of a top-level user run with a known run id."""
    root = uuid.uuid4()
    config: dict[str, Any] = {"callbacks": [recorder], "run_id": root, **extra}
    return cast(RunnableConfig, config), root


def in_user_run(recorder: RunRecorder, body: Callable[[RunnableConfig], Any]) -> uuid.UUID:
    """Run ``body(config)`` as a step of the user's own app run; return that run's id."""
    config, root = traced(recorder)
    RunnableLambda(lambda _, config: body(config), name="user_app").invoke(None, config)
    return root


async def ain_user_run(
    recorder: RunRecorder, body: Callable[[RunnableConfig], Awaitable[Any]]
) -> uuid.UUID:
    """Async :func:`in_user_run`."""
    config, root = traced(recorder)

    async def step(_: Any, config: RunnableConfig) -> Any:
        return await body(config)

    await RunnableLambda(step, name="user_app").ainvoke(None, config)
    return root


@pytest.fixture
def memora(tmp_path: Path) -> Iterator[SyncMemora]:
    facade = open_sync(tmp_path / "m", extract=True)
    seed_tenant(facade, "acme", "jake", "bot")
    facade.save_or_update_interaction_and_memories(
        "acme", "jake", "bot", [{"role": "user", "content": "Jake is allergic to peanuts."}]
    )
    yield facade
    facade.close()


def test_retriever_recall_nests_under_the_retriever_run(memora: SyncMemora) -> None:
    recorder = RunRecorder()
    retriever = MemoraRetriever(memora=memora, org_id="acme", user_id="jake", recall=True)
    found: list[Any] = []
    root = in_user_run(
        recorder, lambda config: found.extend(retriever.invoke("Can Jake eat satay?", config))
    )
    assert found  # the recall found the peanut memory
    recorder.assert_nested_under(root)


async def test_save_tool_forwards_its_injected_config(memora: SyncMemora) -> None:
    recorder = RunRecorder()
    tool = MemoraSaveMemoryTool(memora=memora, **TENANT)
    root = await ain_user_run(
        recorder,
        lambda config: tool.ainvoke({"text": "Jake moved to Lisbon."}, {**config, "tags": ["app"]}),
    )
    recorder.assert_nested_under(root)
    assert all("app" in recorder.tags[call] for call in recorder.memora_calls)

    sync_recorder = RunRecorder()
    root = in_user_run(
        sync_recorder, lambda config: tool.invoke({"text": "Jake owns a kayak."}, config)
    )
    sync_recorder.assert_nested_under(root)


def test_chat_history_uses_the_surrounding_run_or_an_explicit_config(memora: SyncMemora) -> None:
    history = MemoraChatMessageHistory(memora, **TENANT, interaction_id="traced-chat")

    def turn(question: str) -> str:
        history.add_messages([HumanMessage(question), AIMessage("Noted.")])  # no config passed
        return "done"

    recorder = RunRecorder()
    config, root = traced(recorder)
    RunnableLambda(turn).invoke("I have a cat called Miso.", config)
    recorder.assert_nested_under(root)

    explicit = RunRecorder()  # outside any run: the config given is what the calls get
    history.add_messages(
        [HumanMessage("I play the cello.")], config={"callbacks": [explicit], "tags": ["mine"]}
    )
    assert explicit.memora_calls
    assert all("mine" in explicit.tags[call] for call in explicit.memora_calls)


def test_create_agent_middleware_nests_recall_and_extraction(memora: SyncMemora) -> None:
    agent = create_agent(
        AgentFakeModel(responder=lambda messages: AIMessage("Sure.")),
        tools=[],
        middleware=[MemoraMemory(memora, org_id="acme", agent_id="bot")],
        checkpointer=InMemorySaver(),
    )
    recorder = RunRecorder()
    config, root = traced(recorder, configurable={"thread_id": "t-trace", "user_id": "jake"})
    agent.invoke({"messages": [HumanMessage("Any dessert ideas for me?")]}, config)
    # One recall (query writing) before the model, one extraction after the run.
    recorder.assert_nested_under(root, at_least=2)


async def test_graph_nodes_and_store_use_the_runtime_config(tmp_path: Path) -> None:
    core = await open_async(tmp_path / "a", extract=True)
    try:
        await core.create_organization("Acme", org_id="acme")
        await core.create_user("acme", "Jake", user_id="jake")
        await core.create_agent("acme", "Bot", agent_id="bot")
        memory = MemoraMemory(core, org_id="acme", agent_id="bot", user_id="jake")
        store = MemoraStore(core, infer=True)

        async def answer(state: MessagesState, runtime: Runtime[None]) -> dict[str, Any]:
            # runtime.store, not get_store(): on Python 3.10 LangGraph's async nodes cannot read
            # the context variables get_store() relies on.
            assert runtime.store is not None
            await runtime.store.aput(("acme", "jake", "bot"), "note-1", {"content": "Jake runs."})
            return {"messages": [AIMessage("Got it.")]}

        builder = StateGraph(MessagesState)
        builder.add_node("recall", memory.arecall_node)
        builder.add_node("answer", answer)
        builder.add_node("save", memory.asave_node)
        builder.add_edge(START, "recall")
        builder.add_edge("recall", "answer")
        builder.add_edge("answer", "save")
        builder.add_edge("save", END)
        graph = builder.compile(store=store)

        recorder = RunRecorder()
        config, root = traced(recorder, configurable={"thread_id": "g-trace"})
        await graph.ainvoke({"messages": [HumanMessage("I like running.")]}, config)
        # recall node (query writing), store put (extraction), save node (extraction)
        recorder.assert_nested_under(root, at_least=3)
    finally:
        await core.close()


def test_llamaindex_memory_forwards_run_config_or_the_surrounding_run(memora: SyncMemora) -> None:
    fixed = RunRecorder()
    memory = LlamaMemoraMemory.from_defaults(
        memora,
        org_id="acme",
        user_id="jake",
        agent_id="bot",
        session_id="llama-trace",
        run_config={"callbacks": [fixed], "tags": ["llamaindex-app"]},
    )
    memory.put(ChatMessage(role=MessageRole.USER, content="I grow tomatoes."))
    memory.put(ChatMessage(role=MessageRole.ASSISTANT, content="Nice!"))
    assert fixed.memora_calls  # the extraction was reported to the configured handler
    assert all("llamaindex-app" in fixed.tags[call] for call in fixed.memora_calls)

    surrounding = RunRecorder()
    config, root = traced(surrounding)

    def read(question: str) -> int:
        return len(memory.get(question))

    RunnableLambda(read).invoke("What do I grow?", config)
    surrounding.assert_nested_under(root)  # the recall's query writing
