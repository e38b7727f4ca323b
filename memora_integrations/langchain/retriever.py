"""``MemoraRetriever``: a LangChain retriever over Memora's hybrid memory search."""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import (
    AsyncCallbackManagerForRetrieverRun,
    CallbackManagerForRetrieverRun,
)
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import RunnableConfig
from pydantic import ConfigDict, Field, PrivateAttr, model_validator
from typing_extensions import Self

from memora_engine import Memora, MemorySearchScope
from memora_engine.errors import InvalidInputError
from memora_engine.schema import Memory
from memora_integrations.langchain._runtime import (
    MemoraBridge,
    invalid_settings,
    memory_to_dict,
)

__all__ = ["MemoraRetriever", "memory_to_document"]


def memory_to_document(memory: Memory, score: float | None = None) -> Document:
    """A memory as a ``Document``: the text (names resolved) and everything else as metadata."""
    metadata = memory_to_dict(memory, score)
    text = metadata.pop("memory")
    return Document(page_content=text, metadata=metadata, id=memory.memory_id)


class MemoraRetriever(BaseRetriever):
    """Retrieve memories as ``Document``s with Memora's hybrid (dense + sparse) search.

    ``page_content`` is the memory with names resolved; ``metadata`` holds ``memory_id``,
    ``obtained_at`` (ISO string), ``org_id``, ``user_id``, ``agent_id``, ``interaction_id``,
    ``message_sources`` (role, content, position) and, in USER scope, the fused ``score``.
    No LLM is called unless ``recall=True``. Sync calls go through Memora's portal; async calls
    are native.

    Attributes:
        memora: A ``Memora`` or ``SyncMemora``.
        org_id: Organization to search.
        user_id: User whose memories to search (required in USER scope).
        agent_id: With ``search_across_agents=False``, keep this agent's memories only.
        scope: ``MemorySearchScope.USER`` (default) or ``ORGANIZATION`` (every user of the org).
        search_across_agents: ``True`` (default) searches the memories of every agent.
        k: How many documents to return (also accepted per call: ``invoke(q, k=3)``).
        recall: ``False`` (default): the query is searched as is (no LLM). ``True``: Memora's
            recall, whose memory-search model first writes search queries from the query (one
            LLM call, USER scope only); that call nests under the retriever's run in your
            trace (callbacks, tags and metadata of the run are forwarded).

    Examples:
        >>> retriever = MemoraRetriever(memora=memora, org_id="acme", user_id="jake", k=3)
        >>> docs = retriever.invoke("what is Jake allergic to?")
        >>> docs[0].page_content, docs[0].metadata["memory_id"]
        ('Jake is allergic to peanuts', '6f1c...')
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    memora: Any = Field(description="A Memora or SyncMemora instance.")
    org_id: str
    user_id: str | None = None
    agent_id: str | None = None
    scope: MemorySearchScope = MemorySearchScope.USER
    search_across_agents: bool = True
    k: int = Field(default=4, ge=1)
    recall: bool = False

    _bridge: MemoraBridge = PrivateAttr()

    def __init__(self, **data: Any) -> None:
        with invalid_settings("MemoraRetriever"):
            super().__init__(**data)

    @model_validator(mode="after")
    def _check(self) -> Self:
        self._bridge = MemoraBridge(self.memora)
        if self.scope is MemorySearchScope.USER and self.user_id is None:
            raise InvalidInputError("MemoraRetriever in USER scope needs a user_id.")
        if self.recall and self.scope is not MemorySearchScope.USER:
            raise InvalidInputError("MemoraRetriever(recall=True) works in USER scope only.")
        return self

    def _get_relevant_documents(
        self,
        query: str,
        *,
        run_manager: CallbackManagerForRetrieverRun,
        k: int | None = None,
    ) -> list[Document]:
        config = RunnableConfig(callbacks=run_manager.get_child())
        return self._bridge.run(lambda core: self._search(core, query, k, config))

    async def _aget_relevant_documents(
        self,
        query: str,
        *,
        run_manager: AsyncCallbackManagerForRetrieverRun,
        k: int | None = None,
    ) -> list[Document]:
        config = RunnableConfig(callbacks=run_manager.get_child())
        return await self._bridge.arun(lambda core: self._search(core, query, k, config))

    async def _search(
        self, core: Memora, query: str, k: int | None, config: RunnableConfig
    ) -> list[Document]:
        limit = self.k if k is None else k
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise InvalidInputError(f"k must be a positive int, got {limit!r}.")
        if self.recall:
            assert self.user_id is not None
            recalled, _ = await core.recall_memories_for_message(
                self.org_id,
                self.user_id,
                query,
                agent_id=self.agent_id,
                search_across_agents=self.search_across_agents,
                config=config,
            )
            return [memory_to_document(m) for m in recalled[:limit]]
        if self.scope is MemorySearchScope.USER:
            assert self.user_id is not None
            scored = await core.search_memories_with_scores(
                self.org_id,
                self.user_id,
                [query],
                agent_id=self.agent_id,
                search_across_agents=self.search_across_agents,
                limit=limit,
            )
            return [memory_to_document(m, s) for m, s in scored[:limit]]
        batches = await core.search_memories_as_batch(
            self.org_id,
            [query],
            user_id=self.user_id,
            agent_id=self.agent_id,
            memory_search_scope=self.scope,
            search_across_agents=self.search_across_agents,
            limit=limit,
        )
        return [memory_to_document(m) for m in batches[0][:limit]]
