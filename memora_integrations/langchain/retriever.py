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
    checked_filter,
    combined_filter,
    invalid_settings,
    memory_to_dict,
    optional_kwargs,
)

__all__ = ["MEMORY_METADATA_KEY", "MemoraRetriever", "memory_to_document"]


#: The key of a document's metadata that holds the memory's own metadata, unchanged.
MEMORY_METADATA_KEY = "memory_metadata"


def memory_to_document(memory: Memory, score: float | None = None) -> Document:
    """A memory as a ``Document``: the text (names resolved) and everything else as metadata.

    The document's ``metadata`` holds the retriever's fields (``memory_id``, ``obtained_at``,
    ids, ``message_sources``, ``score``), the memory's metadata unchanged under
    ``memory_metadata``, and each memory metadata key at the top level too, unless the key is
    one of the retriever's fields (those are never overwritten).
    """
    fields = memory_to_dict(memory, score)
    text = fields.pop("memory")
    own = fields.pop("metadata")
    fields[MEMORY_METADATA_KEY] = own
    flat = {key: value for key, value in own.items() if key not in fields}
    return Document(page_content=text, metadata={**fields, **flat}, id=memory.memory_id)


class MemoraRetriever(BaseRetriever):
    """Retrieve memories as ``Document``s with Memora's hybrid (dense + sparse) search.

    ``page_content`` is the memory with names resolved; ``metadata`` holds ``memory_id``,
    ``obtained_at`` (ISO string), ``org_id``, ``user_id``, ``agent_id``, ``interaction_id``,
    ``message_sources`` (role, content, position), in USER scope the fused ``score``, and the
    memory's own metadata: unchanged under ``memory_metadata`` and each key also at the top level
    unless it clashes with one of the fields above (see :func:`memory_to_document`).
    No LLM is called unless ``recall=True``. Sync calls go through Memora's portal; async calls
    are native.

    ``filter`` (the filter language of README "Metadata and filters") is applied to every
    search, pushed down into the vector query so ``k`` holds. A per-call ``filter``
    (``invoke(q, filter={...})``, like ``search_kwargs``) is AND-combined with it: it narrows
    the results and can never widen the retriever's own filter. A bad filter raises
    ``InvalidInputError`` (at construction for the retriever's own, at the call for a per-call
    one).

    Attributes:
        memora: A ``Memora`` or ``SyncMemora``.
        org_id: Organization to search.
        user_id: User whose memories to search (required in USER scope).
        agent_id: With ``search_across_agents=False``, keep this agent's memories only.
        scope: ``MemorySearchScope.USER`` (default) or ``ORGANIZATION`` (every user of the org).
        search_across_agents: ``True`` (default) searches the memories of every agent.
        k: How many documents to return (also accepted per call: ``invoke(q, k=3)``).
        filter: A metadata / built-in field filter for every search (per call: ``invoke(q,
            filter={...})``, AND-combined with this one).
        recall: ``False`` (default): the query is searched as is (no LLM). ``True``: Memora's
            recall, whose memory-search model first writes search queries from the query (one
            LLM call, USER scope only); that call nests under the retriever's run in your
            trace (callbacks, tags and metadata of the run are forwarded).

    Examples:
        >>> retriever = MemoraRetriever(memora=memora, org_id="acme", user_id="jake", k=3)
        >>> docs = retriever.invoke("what is Jake allergic to?")
        >>> docs[0].page_content, docs[0].metadata["memory_id"]
        ('Jake is allergic to peanuts', '6f1c...')
        >>> food = MemoraRetriever(memora=memora, org_id="acme", user_id="jake",
        ...                        filter={"topic": "food"})
        >>> food.invoke("allergies", filter={"verified": True})  # topic=food AND verified
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
    filter: dict[str, Any] | None = None

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
        self.filter = checked_filter(self.filter, "MemoraRetriever filter")
        return self

    def _get_relevant_documents(
        self,
        query: str,
        *,
        run_manager: CallbackManagerForRetrieverRun,
        k: int | None = None,
        filter: dict[str, Any] | None = None,
    ) -> list[Document]:
        config = RunnableConfig(callbacks=run_manager.get_child())
        wanted = combined_filter(self.filter, filter)
        return self._bridge.run(lambda core: self._search(core, query, k, wanted, config))

    async def _aget_relevant_documents(
        self,
        query: str,
        *,
        run_manager: AsyncCallbackManagerForRetrieverRun,
        k: int | None = None,
        filter: dict[str, Any] | None = None,
    ) -> list[Document]:
        config = RunnableConfig(callbacks=run_manager.get_child())
        wanted = combined_filter(self.filter, filter)
        return await self._bridge.arun(lambda core: self._search(core, query, k, wanted, config))

    async def _search(
        self, core: Memora, query: str, k: int | None, wanted: Any, config: RunnableConfig
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
                **optional_kwargs(filter=wanted),
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
                **optional_kwargs(filter=wanted),
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
            **optional_kwargs(filter=wanted),
        )
        return [memory_to_document(m) for m in batches[0][:limit]]
