"""Search and recall: the read flows of :class:`~memora_engine.Memora` (no LLM for search).

* search: hybrid vector search scoped to the tenant, resolved through the graph (newest version
  of each history chain, names, message sources), relevance order kept. 0 LLM calls.
* recall: queries written by the fast model from the latest message (fallback: the message),
  then search minus already-recalled memories; an optional model filter.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence, Set
from datetime import datetime

from memora_engine import pipeline
from memora_engine.errors import ConfigurationError, InvalidInputError
from memora_engine.filters import (
    AllOf,
    Condition,
    FilterNode,
    MetadataFilter,
    matches,
    memory_record,
    parse_optional_filter,
)
from memora_engine.graph_db.base import BaseGraphDB
from memora_engine.ids import (
    checked_arguments,
    ensure_aware,
    require_id,
    require_memory_id,
    require_queries,
    require_text,
    utc_now,
)
from memora_engine.limits import MAX_MESSAGE_CHARS, MAX_QUERIES_PER_SEARCH, MAX_QUERY_CHARS
from memora_engine.llm.base import BaseBackendLLM
from memora_engine.prompts import (
    Prompts,
    build_filter_messages,
    build_query_generation_messages,
    parse_angle_items,
    parse_query_list,
)
from memora_engine.rerank import Reranker
from memora_engine.schema.models import Memory
from memora_engine.schema.storage import MemoriesAndInteraction, validate_input
from memora_engine.search_stages import SearchStages
from memora_engine.temporal import TimeRange
from memora_engine.tracing import RunnableConfig, run_config_scope
from memora_engine.vector_db.base import BaseVectorDB, MemorySearchScope, check_scope

__all__ = ["MemoryRetrieval"]

_logger = logging.getLogger("memora_engine")


class MemoryRetrieval:
    """Search and recall over a vector index resolved through a graph store.

    The base of :class:`~memora_engine.Memora`; see there for construction.
    """

    vector_db: BaseVectorDB
    graph_db: BaseGraphDB
    memory_search_model: BaseBackendLLM | None
    prompts: Prompts

    @checked_arguments
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
        time_range: TimeRange | None = None,
        reference_time: datetime | None = None,
        reranker: Reranker | None = None,
        rerank_top_n: int = 30,
        mmr_lambda: float | None = None,
        dedupe: bool = False,
        filter: MetadataFilter | None = None,
    ) -> list[tuple[Memory, float]]:
        """Like :meth:`search_memories_as_one`, with each memory's best fused score.

        Scores are the store's fused scores (times the time boost, see ``reference_time``);
        after a reranker or MMR the order is theirs and the scores are left as they were.
        """
        queries = require_queries(
            search_queries, max_queries=MAX_QUERIES_PER_SEARCH, max_chars=MAX_QUERY_CHARS
        )
        check_scope(MemorySearchScope.USER, org_id, user_id, agent_id)
        _check_limit(limit)
        wanted = _within(parse_optional_filter(filter), time_range)
        stages = SearchStages(reference_time, reranker, rerank_top_n, mmr_lambda, dedupe)
        filter_out = frozenset(filter_out_memory_ids_set or ())
        per_query = await self.vector_db.search_memories(
            queries,
            MemorySearchScope.USER,
            org_id,
            user_id,
            None if search_across_agents else agent_id,
            limit=stages.depth(limit, _default_limit(self.vector_db)),
            filter=wanted,
        )
        if stages.active:
            per_query = stages.apply_time(queries, per_query)
        ranked = pipeline.rank_hits(per_query, filter_out)
        if not ranked:
            return []
        heads = await self.graph_db.fetch_user_memories_resolved_batch([[h.ref()] for h in ranked])
        out: list[tuple[Memory, float]] = []
        seen: set[str] = set()
        for hit, resolved in zip(ranked, heads, strict=True):
            for memory in resolved:
                if memory.memory_id in seen or memory.memory_id in filter_out:
                    continue
                if not _kept_by(wanted, memory):
                    continue
                seen.add(memory.memory_id)
                out.append((memory, hit.score))
        if stages.active:
            out = await stages.apply_after_resolution(queries, out)
            limit = limit or _default_limit(self.vector_db)
        return out[:limit] if limit is not None else out

    @checked_arguments
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
        time_range: TimeRange | None = None,
        reference_time: datetime | None = None,
        reranker: Reranker | None = None,
        rerank_top_n: int = 30,
        mmr_lambda: float | None = None,
        dedupe: bool = False,
        filter: MetadataFilter | None = None,
    ) -> list[Memory]:
        """Search one user's memories with several queries; one merged list, most relevant first.

        ``filter_out_memory_ids_set`` drops memories by id (raw hits and resolved versions).
        ``search_across_agents=False`` with ``agent_id`` keeps that agent's memories only.
        Returns ``[]`` when nothing matches. ``filter`` keeps only memories whose metadata and
        built-in fields match it (the language of :mod:`memora_engine.filters`, README
        "Metadata and filters"); it is pushed down into the vector query, so ``limit`` holds.

        Optional stages (keyword-only; none runs by default, see README "Search"):

        * ``time_range``: keep only memories obtained inside this
          :class:`~memora_engine.temporal.TimeRange` (pushed down into the vector query, the
          same as ``filter={"obtained_at": {"$gte": start, "$lt": end}}``).
        * ``reference_time``: time-aware search. A time named in a query ("last week",
          "in May 2023", "yesterday") is resolved relative to it, and memories obtained in that
          time (up to 7 days after) get their score multiplied by 4.
        * ``reranker``: a callable ``(query, memories) -> memories`` (sync or async) or a
          LangChain ``BaseDocumentCompressor``, applied to the top ``rerank_top_n`` candidates
          (the queries joined by newlines are its query). It may drop memories, never add any.
        * ``dedupe``: drop memories whose words overlap an earlier hit's by 90 % or more.
        * ``mmr_lambda``: maximal-marginal-relevance order over word overlap (1.0 = relevance).
        """
        scored = await self.search_memories_with_scores(
            org_id,
            user_id,
            search_queries,
            filter_out_memory_ids_set,
            agent_id,
            search_across_agents,
            limit=limit,
            time_range=time_range,
            reference_time=reference_time,
            reranker=reranker,
            rerank_top_n=rerank_top_n,
            mmr_lambda=mmr_lambda,
            dedupe=dedupe,
            filter=filter,
        )
        return [memory for memory, _ in scored]

    @checked_arguments
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
        time_range: TimeRange | None = None,
        reference_time: datetime | None = None,
        reranker: Reranker | None = None,
        rerank_top_n: int = 30,
        mmr_lambda: float | None = None,
        dedupe: bool = False,
        filter: MetadataFilter | None = None,
    ) -> list[list[Memory]]:
        """One result list per query (always; empty lists included), USER or ORGANIZATION scope.

        The optional stages are those of :meth:`search_memories_as_one`, run per query.
        """
        queries = require_queries(
            search_queries, max_queries=MAX_QUERIES_PER_SEARCH, max_chars=MAX_QUERY_CHARS
        )
        scope = check_scope(memory_search_scope, org_id, user_id, agent_id)
        _check_limit(limit)
        wanted = _within(parse_optional_filter(filter), time_range)
        stages = SearchStages(reference_time, reranker, rerank_top_n, mmr_lambda, dedupe)
        filter_out = frozenset(filter_out_memory_ids_set or ())
        per_query = await self.vector_db.search_memories(
            queries,
            scope,
            org_id,
            user_id,
            None if search_across_agents else agent_id,
            limit=stages.depth(limit, _default_limit(self.vector_db)),
            filter=wanted,
        )
        if stages.active:
            per_query = stages.apply_time(queries, per_query)
        ranked = [pipeline.rank_hits([hits], filter_out) for hits in per_query]
        resolved = await self.graph_db.fetch_user_memories_resolved_batch(
            [[h.ref() for h in hits] for hits in ranked]
        )
        out: list[list[Memory]] = []
        for query, memories in zip(queries, resolved, strict=True):
            kept = [m for m in memories if m.memory_id not in filter_out and _kept_by(wanted, m)]
            if stages.active:
                # Resolution keeps relevance order; the stages after it use order, not scores.
                after = await stages.apply_after_resolution([query], [(m, 0.0) for m in kept])
                kept = [m for m, _ in after][: limit or _default_limit(self.vector_db)]
            out.append(kept[:limit] if limit is not None else kept)
        return out

    @checked_arguments
    async def get_current_memories(
        self, org_id: str, user_id: str, memory_ids: Sequence[str]
    ) -> list[Memory]:
        """The newest version(s) of each given memory's history chain, with message sources.

        Order follows ``memory_ids`` (duplicates keep their first place); ids the user does not
        have are dropped. 0 LLM calls.

        Examples:
            >>> [m.memory] = await memora.get_current_memories(org_id, user_id, [old_id])
        """
        require_id(org_id, "org_id")
        require_id(user_id, "user_id")
        refs = [
            {"memory_id": require_memory_id(m), "org_id": org_id, "user_id": user_id}
            for m in memory_ids
        ]
        if not refs:
            return []
        return (await self.graph_db.fetch_user_memories_resolved_batch([refs]))[0]

    # ------------------------------------------------------------------ recall
    @checked_arguments
    async def generate_memory_search_queries(
        self,
        message: str,
        preceding_msg_for_context: Sequence[Mapping[str, str]] | None = None,
        current_datetime: datetime | None = None,
        *,
        config: RunnableConfig | None = None,
    ) -> list[str]:
        """Ask the memory-search model for queries (exactly one LLM call, never retried).

        The ``<< query >>`` lines the prompt asks for are read first; a model that ignores the
        format is still understood when it writes a JSON array or one query per line (the
        fallback is logged). ``[]`` if it wrote none.
        ``config`` (a LangChain ``RunnableConfig``) is passed to the model call (tracing).
        """
        if self.memory_search_model is None:
            raise ConfigurationError("No memory_search_model is configured.")
        require_text(message, "message", max_chars=MAX_MESSAGE_CHARS)
        context = _context_messages(preceding_msg_for_context)
        now = (
            ensure_aware(current_datetime, name="current_datetime")
            if current_datetime
            else utc_now()
        )
        with run_config_scope(config):
            text = await self.memory_search_model(
                build_query_generation_messages(
                    self.prompts, message=message, preceding_messages=context, now=now
                )
            )
        found, how = parse_query_list(text)
        if how != "angle":
            _logger.info(
                "memora.recall: query answer not in << >> format; parsed as %s (%d)",
                how,
                len(found),
            )
        queries = [q[:MAX_QUERY_CHARS] for q in found]
        return queries[:MAX_QUERIES_PER_SEARCH]

    @checked_arguments
    async def filter_retrieved_memories_with_model(
        self,
        message: str,
        search_queries_used: Sequence[str],
        retrieved_memories: Sequence[Memory],
        current_datetime: datetime | None = None,
        *,
        config: RunnableConfig | None = None,
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
        with run_config_scope(config):
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

    @checked_arguments
    async def recall_memories_for_message(
        self,
        org_id: str,
        user_id: str,
        latest_msg: str,
        agent_id: str | None = None,
        preceding_msg_for_context: Sequence[Mapping[str, str]] | None = None,
        current_datetime: datetime | None = None,
        filter_out_memory_ids_set: Set[str] | None = None,
        search_across_agents: bool = True,
        enable_final_model_based_memory_filter: bool = False,
        *,
        config: RunnableConfig | None = None,
        time_aware: bool = False,
        time_range: TimeRange | None = None,
        reranker: Reranker | None = None,
        rerank_top_n: int = 30,
        mmr_lambda: float | None = None,
        dedupe: bool = False,
        filter: MetadataFilter | None = None,
    ) -> tuple[list[Memory], list[str]]:
        """Recall the memories relevant to the latest message.

        Returns ``(memories, memory_ids)``, both empty when nothing is recalled. Pass the ids of
        everything recalled earlier in the conversation as ``filter_out_memory_ids_set``.
        With no memory-search model the message itself is the query (0 LLM calls).
        ``config`` (a LangChain ``RunnableConfig``) is passed to every model call (tracing).

        ``time_aware=True`` resolves times named in the queries relative to
        ``current_datetime`` (default: now) and boosts memories obtained then (the
        ``reference_time`` of :meth:`search_memories_as_one`); ``time_range``, ``reranker``,
        ``rerank_top_n``, ``mmr_lambda`` and ``dedupe`` are passed to the search.
        """
        require_text(latest_msg, "latest_msg", max_chars=MAX_MESSAGE_CHARS)
        queries: list[str] = []
        if self.memory_search_model is not None:
            queries = await self.generate_memory_search_queries(
                latest_msg, preceding_msg_for_context, current_datetime, config=config
            )
        if not queries:
            queries = [latest_msg[:MAX_QUERY_CHARS]]
        memories = await self.search_memories_as_one(
            org_id,
            user_id,
            queries,
            filter_out_memory_ids_set,
            agent_id,
            search_across_agents=search_across_agents,
            time_range=time_range,
            reference_time=(current_datetime or utc_now()) if time_aware else None,
            reranker=reranker,
            rerank_top_n=rerank_top_n,
            mmr_lambda=mmr_lambda,
            dedupe=dedupe,
            filter=filter,
        )
        if memories and enable_final_model_based_memory_filter and self.memory_search_model:
            chosen = await self.filter_retrieved_memories_with_model(
                latest_msg, queries, memories, current_datetime, config=config
            )
            if chosen is not None:
                memories = pipeline.keep_chosen(memories, chosen)
        return memories, [m.memory_id for m in memories]


def _within(wanted: FilterNode | None, time_range: TimeRange | None) -> FilterNode | None:
    """``wanted`` narrowed to memories obtained inside ``time_range`` (pushed down like any
    filter on ``obtained_at``)."""
    if time_range is None:
        return wanted
    if not isinstance(time_range, TimeRange):
        raise InvalidInputError("time_range must be a memora_engine.TimeRange.")
    parts: list[FilterNode] = [] if wanted is None else [wanted]
    if time_range.start is not None:
        parts.append(Condition("obtained_at", "$gte", time_range.start))
    if time_range.end is not None:
        parts.append(Condition("obtained_at", "$lt", time_range.end))
    return parts[0] if len(parts) == 1 else AllOf(tuple(parts))


def _kept_by(wanted: FilterNode | None, memory: Memory) -> bool:
    """Whether a resolved memory passes the filter: the graph is the truth, so a hit whose
    newest version (or whose index payload, after a crash) no longer matches is dropped."""
    return wanted is None or matches(wanted, memory_record(memory))


def _default_limit(vector_db: BaseVectorDB) -> int:
    """The store's configured results per query (10 when it has no search config)."""
    config = getattr(vector_db, "search_config", None)
    return int(getattr(config, "limit", 10))


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
