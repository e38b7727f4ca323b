"""``Memora``: the async orchestrator of saves, searches and recall.

Flows (see the README for the full story):

* save / update: store the messages (diff on update), extract candidate memories (LLM call 1),
  compare them with related existing memories (LLM call 2, only when related ones exist),
  persist graph + vectors. Raw mode (``infer=False`` or no extraction model) stores each new
  user/assistant message verbatim, with 0 LLM calls.
* search: hybrid vector search scoped to the tenant, resolved through the graph (newest version
  of each history chain, names, message sources), relevance order kept. 0 LLM calls.
* recall: queries written by the fast model from the latest message (fallback: the message),
  then search minus already-recalled memories; an optional model filter.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence, Set
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from langchain_core.language_models import BaseChatModel
from typing_extensions import Self

from memora_engine import pipeline
from memora_engine.errors import ConfigurationError, InvalidInputError, LLMResponseInvalidError
from memora_engine.graph_db.base import BaseGraphDB
from memora_engine.ids import ensure_aware, require_id, require_queries, require_text, utc_now
from memora_engine.keyed_locks import KeyedLocks
from memora_engine.limits import MAX_MESSAGE_CHARS, MAX_QUERIES_PER_SEARCH, MAX_QUERY_CHARS
from memora_engine.llm.base import BaseBackendLLM
from memora_engine.llm.providers import as_backend_llm
from memora_engine.message_diff import plan_message_update
from memora_engine.prompts import (
    Prompts,
    build_comparison_messages,
    build_extraction_messages,
    build_filter_messages,
    build_query_generation_messages,
    parse_angle_items,
)
from memora_engine.schema.extraction import MemoryComparisonResponse, MemoryExtractionResponse
from memora_engine.schema.models import Agent, Interaction, Memory, User
from memora_engine.schema.storage import (
    ContraryMemoryToStore,
    MemoriesAndInteraction,
    MemoryToStore,
    MessageIn,
    validate_input,
)
from memora_engine.vector_db.base import BaseVectorDB, MemorySearchScope, check_scope

__all__ = ["Memora"]

logger = logging.getLogger("memora_engine")
logger.addHandler(logging.NullHandler())

ModelLike = BaseBackendLLM | BaseChatModel | str | None


class Memora:
    """Long-term memory for agents over a graph store (truth) and a vector store (index).

    ``Memora`` takes ownership of the stores and models it is given: :meth:`close` closes them.

    Args:
        vector_db: The vector index (``QdrantEdgeDB``, ``QdrantDB``).
        graph_db: The graph store (``SqliteGraphDB``, ``Neo4jGraphInterface``).
        memory_search_model: Fast model for recall queries and the optional filter (defaults to
            ``extraction_model``). A ``BaseBackendLLM``, a LangChain chat model or a string
            such as ``"groq:llama-3.1-8b-instant"``.
        extraction_model: Strong model for extraction and comparison. ``None`` -> raw mode.
        enable_logging: Log flow events (ids and counts, never message text) at INFO to stderr.
        prompts: Prompt overrides.

    Examples:
        >>> memora = await Memora.embedded(".memora", extraction_model="openai:gpt-4o-mini")
        >>> org = await memora.graph.create_organization("Acme")
        >>> user = await memora.graph.create_user(org.org_id, "Jake")
        >>> agent = await memora.graph.create_agent(org.org_id, "Jarvis")
        >>> iid, _ = await memora.save_or_update_interaction_and_memories(
        ...     org.org_id, user.user_id, agent.agent_id,
        ...     [{"role": "user", "content": "I'm allergic to peanuts."}])
        >>> await memora.search_memories_as_one(org.org_id, user.user_id, ["allergies"])
    """

    def __init__(
        self,
        vector_db: BaseVectorDB,
        graph_db: BaseGraphDB,
        memory_search_model: ModelLike = None,
        extraction_model: ModelLike = None,
        *,
        enable_logging: bool = False,
        prompts: Prompts | None = None,
    ) -> None:
        if not isinstance(vector_db, BaseVectorDB) or not isinstance(graph_db, BaseGraphDB):
            raise InvalidInputError("Memora needs a BaseVectorDB and a BaseGraphDB.")
        self.vector_db = vector_db
        self.graph = graph_db
        graph_db.associated_vector_db = vector_db
        self.extraction_model = as_backend_llm(extraction_model)
        search_model = as_backend_llm(memory_search_model)
        self.memory_search_model = search_model or self.extraction_model
        self.prompts = prompts or Prompts()
        self._interaction_locks = KeyedLocks()
        if enable_logging:
            _enable_logging()

    @classmethod
    async def embedded(
        cls,
        path: str | Path = ".memora",
        *,
        extraction_model: ModelLike = None,
        memory_search_model: ModelLike = None,
        model_dir: str | Path | None = None,
        dense_encoder: Any = None,
        sparse_encoder: Any = None,
        search_config: Any = None,
        prompts: Prompts | None = None,
        enable_logging: bool = False,
    ) -> Memora:
        """Open (or create) an embedded Memora under ``path``: SQLite + Qdrant Edge + local models.

        ``model_dir`` (or ``MEMORA_EMBEDDING_MODEL_DIR``) points the dense encoder at a local
        ONNX model folder, with no network access.

        Examples:
            >>> memora = await Memora.embedded("./.memora")
        """
        from memora_engine.embeddings import default_dense_encoder, default_sparse_encoder
        from memora_engine.graph_db.sqlite import SqliteGraphDB
        from memora_engine.vector_db.qdrant_edge import QdrantEdgeDB

        root = Path(path)
        await asyncio.to_thread(root.mkdir, parents=True, exist_ok=True)
        vector_db = QdrantEdgeDB(
            root / "vectors",
            dense_encoder=dense_encoder or default_dense_encoder(model_dir),
            sparse_encoder=sparse_encoder or default_sparse_encoder(),
            search_config=search_config,
        )
        graph_db = SqliteGraphDB(root / "graph.sqlite3")
        memora = cls(
            vector_db,
            graph_db,
            memory_search_model,
            extraction_model,
            prompts=prompts,
            enable_logging=enable_logging,
        )
        try:
            await memora.setup()
        except BaseException:
            await memora.close()
            raise
        return memora

    async def setup(self) -> None:
        """Create the stores' schema and indexes (idempotent)."""
        await self.vector_db.setup()
        await self.graph.setup()

    async def close(self) -> None:
        """Close the graph store, the vector store and the models (safe to call twice)."""
        await self.graph.close()
        await self.vector_db.close()
        for model in {
            id(m): m for m in (self.memory_search_model, self.extraction_model) if m
        }.values():
            await model.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # ------------------------------------------------------------------ save / update
    async def save_or_update_interaction_and_memories(
        self,
        org_id: str,
        user_id: str,
        agent_id: str,
        interaction: Sequence[Mapping[str, str]],
        interaction_id: str | None = None,
        current_datetime: datetime | None = None,
        extract_agent_memories: bool = False,
        update_across_agents: bool = True,
        max_retries: int = 3,
        *,
        infer: bool | None = None,
    ) -> tuple[str, datetime]:
        """Save a new interaction (``interaction_id=None``) or update one, with its memories.

        Pass the FULL conversation each time; an update appends or truncates the stored
        messages (see the README). At most 2 LLM calls when the model answers validly; invalid
        output is retried (``max_retries`` re-runs of the LLM phase) and then raises
        :class:`~memora_engine.errors.LLMResponseInvalidError` with nothing written.

        Args:
            infer: ``False`` stores each new user/assistant message verbatim (raw mode, no LLM);
                ``None`` (default) infers when an extraction model is configured.

        Returns:
            ``(interaction_id, interaction_date)``.
        """
        require_id(org_id, "org_id")
        require_id(user_id, "user_id")
        require_id(agent_id, "agent_id")
        if interaction_id is not None:
            require_id(interaction_id, "interaction_id")
        if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
            raise InvalidInputError("max_retries must be an int >= 0.")
        if not isinstance(interaction, Sequence) or isinstance(interaction, str):
            raise InvalidInputError("interaction must be a list of {'role', 'content'} dicts.")
        messages = validate_input(
            MemoriesAndInteraction, {"interaction": list(interaction)}, what="interaction"
        ).interaction
        now = (
            ensure_aware(current_datetime, name="current_datetime")
            if current_datetime
            else utc_now()
        )
        use_llm = self.extraction_model is not None if infer is None else bool(infer)
        if use_llm and self.extraction_model is None:
            raise ConfigurationError("infer=True needs an extraction_model; none is configured.")

        save = self._save_locked(
            org_id,
            user_id,
            agent_id,
            messages,
            interaction_id,
            now,
            use_llm=use_llm,
            extract_agent_memories=extract_agent_memories,
            update_across_agents=update_across_agents,
            max_retries=max_retries,
        )
        if interaction_id is None:
            return await save
        # Updates of one interaction are serialized: each sees the previous one's messages.
        async with self._interaction_locks.hold((org_id, user_id, interaction_id)):
            return await save

    async def _save_locked(
        self,
        org_id: str,
        user_id: str,
        agent_id: str,
        messages: list[MessageIn],
        interaction_id: str | None,
        now: datetime,
        *,
        use_llm: bool,
        extract_agent_memories: bool,
        update_across_agents: bool,
        max_retries: int,
    ) -> tuple[str, datetime]:
        user = await self.graph.get_user(org_id, user_id)
        agent = await self.graph.get_agent(org_id, agent_id)
        existing: Interaction | None = None
        if interaction_id is not None:
            existing = await self.graph.get_interaction(org_id, user_id, interaction_id)
        new_positions = _appended_positions(messages, existing)
        memories: list[MemoryToStore] = []
        contrary: list[ContraryMemoryToStore] = []
        if not new_positions:
            pass  # nothing new to learn from (unchanged, shortened or emptied conversation)
        elif use_llm:
            for attempt in range(max_retries + 1):
                try:
                    memories, contrary = await self._infer_memories(
                        user,
                        agent,
                        messages,
                        existing,
                        now,
                        extract_agent_memories=extract_agent_memories,
                        update_across_agents=update_across_agents,
                    )
                    break
                except LLMResponseInvalidError:
                    if attempt == max_retries:
                        raise
                    logger.warning("memora.save: invalid LLM output, retry %d", attempt + 1)
        else:
            memories = pipeline.raw_memories(messages, new_positions)
        write = MemoriesAndInteraction(
            interaction=messages,
            interaction_date=now,
            memories=memories,
            contrary_memories=contrary,
        )
        if existing is None:
            saved = await self.graph.save_interaction_with_memories(
                org_id, agent_id, user_id, write
            )
        else:
            saved = await self.graph.update_interaction_and_memories(
                org_id, agent_id, user_id, existing.interaction_id, write
            )
        logger.info(
            "memora.save org=%s user=%s interaction=%s new=%d contrary=%d",
            org_id,
            user_id,
            saved[0],
            len(memories),
            len(contrary),
        )
        return saved

    async def _infer_memories(
        self,
        user: User,
        agent: Agent,
        messages: list[MessageIn],
        existing: Interaction | None,
        now: datetime,
        *,
        extract_agent_memories: bool,
        update_across_agents: bool,
    ) -> tuple[list[MemoryToStore], list[ContraryMemoryToStore]]:
        assert self.extraction_model is not None
        if not messages:
            return [], []
        previous = [m.memory_and_timestamp_dict() for m in existing.memories] if existing else None
        extraction = await self.extraction_model(
            build_extraction_messages(
                self.prompts,
                messages=[{"role": m.role, "content": m.content} for m in messages],
                user_name=user.user_name,
                agent_label=agent.agent_label,
                now=now,
                extract_agent_memories=extract_agent_memories,
                previous_memories=previous,
            ),
            MemoryExtractionResponse,
        )
        candidates = pipeline.candidates_from_extraction(
            extraction, user_id=user.user_id, agent_id=agent.agent_id, message_count=len(messages)
        )
        if not candidates:
            return [], []
        related = await self.search_memories_as_one(
            user.org_id,
            user.user_id,
            [c.text[:MAX_QUERY_CHARS] for c in candidates][:MAX_QUERIES_PER_SEARCH],
            agent_id=agent.agent_id,
            search_across_agents=update_across_agents,
        )
        if not related:
            return [
                MemoryToStore(memory=c.text, source_msg_block_pos=list(c.sources))
                for c in candidates
            ], []
        comparison = await self.extraction_model(
            build_comparison_messages(
                self.prompts,
                existing=related,
                candidates=[c.text for c in candidates],
                user_id=user.user_id,
                agent_id=agent.agent_id,
                now=now,
            ),
            MemoryComparisonResponse,
        )
        return pipeline.plan_from_comparison(
            comparison,
            candidates,
            shown_memory_ids={m.memory_id for m in related},
            user_id=user.user_id,
            agent_id=agent.agent_id,
        )

    # ------------------------------------------------------------------ search
    async def search_memories_with_scores(
        self,
        org_id: str,
        user_id: str,
        search_queries: Sequence[str],
        filter_out_memory_ids_set: Set[str] | None = None,
        agent_id: str | None = None,
        search_across_agents: bool = True,
        *,
        limit: int | None = None,
    ) -> list[tuple[Memory, float]]:
        """Like :meth:`search_memories_as_one`, with each memory's best fused score."""
        queries = require_queries(
            search_queries, max_queries=MAX_QUERIES_PER_SEARCH, max_chars=MAX_QUERY_CHARS
        )
        check_scope(MemorySearchScope.USER, org_id, user_id, agent_id)
        _check_limit(limit)
        filter_out = frozenset(filter_out_memory_ids_set or ())
        per_query = await self.vector_db.search_memories(
            queries,
            MemorySearchScope.USER,
            org_id,
            user_id,
            None if search_across_agents else agent_id,
            limit=limit,
        )
        ranked = pipeline.rank_hits(per_query, filter_out)
        if not ranked:
            return []
        heads = await self.graph.fetch_user_memories_resolved_batch([[h.ref()] for h in ranked])
        out: list[tuple[Memory, float]] = []
        seen: set[str] = set()
        for hit, resolved in zip(ranked, heads, strict=True):
            for memory in resolved:
                if memory.memory_id in seen or memory.memory_id in filter_out:
                    continue
                seen.add(memory.memory_id)
                out.append((memory, hit.score))
        return out[:limit] if limit is not None else out

    async def search_memories_as_one(
        self,
        org_id: str,
        user_id: str,
        search_queries: Sequence[str],
        filter_out_memory_ids_set: Set[str] | None = None,
        agent_id: str | None = None,
        search_across_agents: bool = True,
        *,
        limit: int | None = None,
    ) -> list[Memory]:
        """Search one user's memories with several queries; one merged list, most relevant first.

        ``filter_out_memory_ids_set`` drops memories by id (raw hits and resolved versions).
        ``search_across_agents=False`` with ``agent_id`` keeps that agent's memories only.
        Returns ``[]`` when nothing matches.
        """
        scored = await self.search_memories_with_scores(
            org_id,
            user_id,
            search_queries,
            filter_out_memory_ids_set,
            agent_id,
            search_across_agents,
            limit=limit,
        )
        return [memory for memory, _ in scored]

    async def search_memories_as_batch(
        self,
        org_id: str,
        search_queries: Sequence[str],
        filter_out_memory_ids_set: Set[str] | None = None,
        user_id: str | None = None,
        agent_id: str | None = None,
        memory_search_scope: MemorySearchScope = MemorySearchScope.USER,
        search_across_agents: bool = True,
        *,
        limit: int | None = None,
    ) -> list[list[Memory]]:
        """One result list per query (always; empty lists included), USER or ORGANIZATION scope."""
        queries = require_queries(
            search_queries, max_queries=MAX_QUERIES_PER_SEARCH, max_chars=MAX_QUERY_CHARS
        )
        scope = check_scope(memory_search_scope, org_id, user_id, agent_id)
        _check_limit(limit)
        filter_out = frozenset(filter_out_memory_ids_set or ())
        per_query = await self.vector_db.search_memories(
            queries, scope, org_id, user_id, None if search_across_agents else agent_id, limit=limit
        )
        refs = [[h.ref() for h in pipeline.rank_hits([hits], filter_out)] for hits in per_query]
        resolved = await self.graph.fetch_user_memories_resolved_batch(refs)
        out: list[list[Memory]] = []
        for memories in resolved:
            kept = [m for m in memories if m.memory_id not in filter_out]
            out.append(kept[:limit] if limit is not None else kept)
        return out

    # ------------------------------------------------------------------ recall
    async def generate_memory_search_queries(
        self,
        message: str,
        preceding_messages_for_context: Sequence[Mapping[str, str]] | None = None,
        current_datetime: datetime | None = None,
    ) -> list[str]:
        """Ask the memory-search model for queries (one LLM call); ``[]`` if it wrote none."""
        if self.memory_search_model is None:
            raise ConfigurationError("No memory_search_model is configured.")
        require_text(message, "message", max_chars=MAX_MESSAGE_CHARS)
        context = _context_messages(preceding_messages_for_context)
        now = (
            ensure_aware(current_datetime, name="current_datetime")
            if current_datetime
            else utc_now()
        )
        text = await self.memory_search_model(
            build_query_generation_messages(
                self.prompts, message=message, preceding_messages=context, now=now
            )
        )
        queries = [q[:MAX_QUERY_CHARS] for q in parse_angle_items(text)]
        return queries[:MAX_QUERIES_PER_SEARCH]

    async def filter_retrieved_memories_with_model(
        self,
        message: str,
        search_queries_used: Sequence[str],
        retrieved_memories: Sequence[Memory],
        current_datetime: datetime | None = None,
    ) -> set[str] | None:
        """Ask the model which memories matter. ``None``: it misbehaved; empty set: none matter.

        Only ids of ``retrieved_memories`` are ever returned.
        """
        if self.memory_search_model is None:
            raise ConfigurationError("No memory_search_model is configured.")
        now = (
            ensure_aware(current_datetime, name="current_datetime")
            if current_datetime
            else utc_now()
        )
        text = await self.memory_search_model(
            build_filter_messages(
                self.prompts,
                message=message,
                queries=search_queries_used,
                memories=retrieved_memories,
                now=now,
            )
        )
        items = parse_angle_items(text)
        if not items:
            return None
        if any(item.lower() == "none" for item in items):
            return set()
        shown = {m.memory_id for m in retrieved_memories}
        chosen = {item for item in items if item in shown}
        return chosen or None

    async def recall_memories_for_message(
        self,
        org_id: str,
        user_id: str,
        latest_msg: str,
        agent_id: str | None = None,
        preceding_msg_for_context: Sequence[Mapping[str, str]] | None = None,
        current_datetime: datetime | None = None,
        filter_out_memory_ids_set: Set[str] | None = None,
        search_memories_across_agents: bool = True,
        enable_final_model_based_memory_filter: bool = False,
    ) -> tuple[list[Memory], list[str]]:
        """Recall the memories relevant to the latest message.

        Returns ``(memories, memory_ids)``, both empty when nothing is recalled. Pass the ids of
        everything recalled earlier in the conversation as ``filter_out_memory_ids_set``.
        With no memory-search model the message itself is the query (0 LLM calls).
        """
        require_text(latest_msg, "latest_msg", max_chars=MAX_MESSAGE_CHARS)
        queries: list[str] = []
        if self.memory_search_model is not None:
            queries = await self.generate_memory_search_queries(
                latest_msg, preceding_msg_for_context, current_datetime
            )
        if not queries:
            queries = [latest_msg[:MAX_QUERY_CHARS]]
        memories = await self.search_memories_as_one(
            org_id,
            user_id,
            queries,
            filter_out_memory_ids_set,
            agent_id,
            search_across_agents=search_memories_across_agents,
        )
        if memories and enable_final_model_based_memory_filter and self.memory_search_model:
            chosen = await self.filter_retrieved_memories_with_model(
                latest_msg, queries, memories, current_datetime
            )
            if chosen is not None:
                memories = pipeline.keep_chosen(memories, chosen)
        return memories, [m.memory_id for m in memories]


def _appended_positions(messages: list[MessageIn], existing: Interaction | None) -> range:
    """Positions of the messages this save adds (all of them for a new interaction)."""
    stored = [(m.role, m.content) for m in existing.messages] if existing else []
    diff = plan_message_update(stored, [(m.role, m.content) for m in messages])
    return diff.appended_positions(len(messages))


def _check_limit(limit: int | None) -> None:
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise InvalidInputError("limit must be a positive int or None.")


def _context_messages(
    messages: Sequence[Mapping[str, str]] | None,
) -> list[dict[str, str]]:
    if not messages:
        return []
    valid = validate_input(MemoriesAndInteraction, {"interaction": list(messages)}, what="context")
    return [{"role": m.role, "content": m.content} for m in valid.interaction]


def _enable_logging() -> None:
    if not any(isinstance(h, logging.StreamHandler) for h in logger.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
        logger.addHandler(handler)
    logger.setLevel(logging.INFO)
