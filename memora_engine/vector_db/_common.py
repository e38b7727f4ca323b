"""Pure logic shared by the Qdrant stores: validation, payloads, filters, search plans, mapping.

Nothing here does I/O. ``QdrantDB`` and ``QdrantEdgeDB`` translate the neutral values built here
(``(key, value)`` conditions, :class:`SearchPlan`) into their own request types.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from memora_engine.errors import ConfigurationError, InvalidInputError
from memora_engine.filters import AllOf, AnyOf, FilterNode, NoneOf, validate_metadata
from memora_engine.filters import Condition as FilterCondition
from memora_engine.ids import ensure_aware, require_id, require_memory_id, require_text
from memora_engine.limits import (
    MAX_MEMORY_CHARS,
    MAX_PAGE_LIMIT,
    MAX_QUERIES_PER_SEARCH,
    MAX_QUERY_CHARS,
)
from memora_engine.schema.models import Memory
from memora_engine.vector_db.base import MemorySearchScope, check_scope
from memora_engine.vector_db.config import HybridSearchConfig, SearchMode
from memora_engine.vector_db.filter_translation import metadata_from_payload, payload_metadata

__all__ = [
    "AGENT_ID",
    "DENSE_VECTOR",
    "INTERACTION_ID",
    "METADATA",
    "OBTAINED_AT",
    "ORG_ID",
    "ORG_USER_ID",
    "SPARSE_VECTOR",
    "TENANT_KEYS",
    "TEXT",
    "USER_ID",
    "Condition",
    "SearchPlan",
    "build_payload",
    "check_dense_dim",
    "check_filter",
    "count_conditions",
    "filter_key",
    "memory_from_payload",
    "metadata_index_plan",
    "org_user_key",
    "plan_search",
    "scope_conditions",
    "validate_memories",
    "validate_memory_ids",
    "validate_queries",
]

#: Payload keys of a memory point.
ORG_ID = "org_id"
USER_ID = "user_id"
ORG_USER_ID = "org_user_id"
AGENT_ID = "agent_id"
OBTAINED_AT = "obtained_at"
INTERACTION_ID = "interaction_id"
METADATA = "metadata"
TEXT = "memory"
#: Keyword-indexed payload keys; the first two are tenant keys (``is_tenant`` where supported).
TENANT_KEYS = (ORG_ID, ORG_USER_ID)
INDEXED_KEYS = (ORG_ID, ORG_USER_ID, AGENT_ID, INTERACTION_ID)
#: Built-in filter fields and their payload keys (metadata key ``k`` is ``metadata.k``).
_BUILTIN_KEYS = {AGENT_ID: AGENT_ID, INTERACTION_ID: INTERACTION_ID, OBTAINED_AT: OBTAINED_AT}

#: Names of the two vectors of a point.
DENSE_VECTOR = "dense"
SPARSE_VECTOR = "sparse"

#: One filter condition: payload ``key`` must equal ``value``.
Condition = tuple[str, str]


def org_user_key(org_id: str, user_id: str) -> str:
    """The ``org_user_id`` payload value (ids cannot hold ``:``, so it is unambiguous)."""
    return f"{org_id}:{user_id}"


def validate_memories(memories: Sequence[Memory]) -> list[Memory]:
    """Check memories before any write; returns them with canonical (lower-case) memory ids.

    Raises:
        InvalidInputError: not a Memory, bad ids or text, or the same id twice.
    """
    if isinstance(memories, (str, bytes)) or not isinstance(memories, Sequence):
        raise InvalidInputError("memories must be a sequence of Memory objects.")
    checked: list[Memory] = []
    seen: set[str] = set()
    for memory in memories:
        if not isinstance(memory, Memory):
            raise InvalidInputError(f"expected a Memory, got {type(memory).__name__}.")
        memory_id = require_memory_id(memory.memory_id)
        if memory_id in seen:
            raise InvalidInputError(f"memory_id {memory_id} appears twice in one upsert.")
        seen.add(memory_id)
        require_id(memory.org_id, "org_id")
        require_id(memory.user_id, "user_id")
        require_id(memory.agent_id, "agent_id")
        require_text(memory.memory, "memory", max_chars=MAX_MEMORY_CHARS)
        ensure_aware(memory.obtained_at, name="obtained_at")
        if memory_id != memory.memory_id:
            memory = memory.model_copy(update={"memory_id": memory_id})
        checked.append(memory)
    return checked


def build_payload(memory: Memory) -> dict[str, Any]:
    """The payload stored with a memory's point (tenant ids, agent, interaction, time, text,
    metadata).

    ``obtained_at`` is an RFC 3339 string, which both engines compare as a datetime in range
    filters; ``metadata`` is a nested object (booleans encoded, see
    :func:`~memora_engine.vector_db.filter_translation.payload_metadata`).
    """
    return {
        ORG_ID: memory.org_id,
        USER_ID: memory.user_id,
        ORG_USER_ID: org_user_key(memory.org_id, memory.user_id),
        AGENT_ID: memory.agent_id,
        INTERACTION_ID: memory.interaction_id,
        OBTAINED_AT: memory.obtained_at.isoformat(),
        TEXT: memory.memory,
        METADATA: payload_metadata(memory.metadata),
    }


def memory_from_payload(point_id: Any, payload: Mapping[str, Any] | None) -> Memory:
    """Rebuild a :class:`Memory` (no sources) from a point.

    Points written before metadata existed (no ``metadata`` / ``interaction_id`` keys) read
    with empty metadata and no interaction id.

    Raises:
        ConfigurationError: the point was not written by Memora (payload keys missing).
    """
    if not payload or any(k not in payload for k in (ORG_ID, USER_ID, AGENT_ID, TEXT)):
        raise ConfigurationError(
            f"Point {point_id} has no Memora payload; is the collection shared with another app?"
        )
    return Memory(
        org_id=payload[ORG_ID],
        user_id=payload[USER_ID],
        agent_id=payload[AGENT_ID],
        interaction_id=payload.get(INTERACTION_ID),
        memory_id=str(point_id),
        memory=payload[TEXT],
        obtained_at=ensure_aware(datetime.fromisoformat(payload[OBTAINED_AT])),
        metadata=metadata_from_payload(payload.get(METADATA)),
    )


def filter_key(field: str) -> str:
    """The payload key a filter field reads: a built-in field's own key, else ``metadata.<k>``."""
    return _BUILTIN_KEYS.get(field) or f"{METADATA}.{field}"


#: Payload index type of an indexed metadata key: ``"keyword"`` serves strings and booleans
#: (equality, ``$in``, ``$ne``, ``$nin``), ``"float"`` serves numbers (equality and ranges).
MetadataIndexType = Literal["keyword", "float"]
_INDEX_TYPES: dict[str, MetadataIndexType] = {"keyword": "keyword", "float": "float"}


def metadata_index_plan(
    metadata_indexes: Mapping[str, str] | None,
) -> dict[str, MetadataIndexType]:
    """Validate ``{metadata key: "keyword" | "float"}``; returns ``{payload key: type}``.

    Raises:
        InvalidInputError: a malformed or reserved key, or an unknown index type.
    """
    if not metadata_indexes:
        return {}
    if not isinstance(metadata_indexes, Mapping):
        raise InvalidInputError('metadata_indexes must be a dict like {"project": "keyword"}.')
    validate_metadata(dict.fromkeys(metadata_indexes, ""), what="metadata_indexes")
    out: dict[str, MetadataIndexType] = {}
    for key, kind in metadata_indexes.items():
        resolved = _INDEX_TYPES.get(kind) if isinstance(kind, str) else None
        if resolved is None:
            raise InvalidInputError(
                f"metadata_indexes[{key!r}] must be 'keyword' or 'float', got {kind!r}."
            )
        out[filter_key(key)] = resolved
    return out


def check_filter(node: object) -> FilterNode | None:
    """Accept only ``None`` or a tree made by :func:`memora_engine.filters.parse_filter`.

    Raises:
        InvalidInputError: ``node`` is anything else (e.g. a raw filter dict).
    """
    if node is None or isinstance(node, FilterCondition | AllOf | AnyOf | NoneOf):
        return node
    raise InvalidInputError(
        f"filter must be a parsed filter (memora_engine.filters.parse_filter), got "
        f"{type(node).__name__}; Memora's public methods take the filter dict and parse it."
    )


def validate_memory_ids(memory_ids: Sequence[str]) -> list[str]:
    """Canonical memory ids, duplicates removed, order kept.

    Raises:
        InvalidInputError: not a sequence of uuid strings.
    """
    if isinstance(memory_ids, (str, bytes)) or not isinstance(memory_ids, Sequence):
        raise InvalidInputError("memory_ids must be a list of memory ids (uuid strings).")
    return list(dict.fromkeys(require_memory_id(m) for m in memory_ids))


def validate_queries(queries: Sequence[str]) -> list[str]:
    """Check search queries: 1..MAX_QUERIES_PER_SEARCH non-blank strings of bounded length.

    Raises:
        InvalidInputError: no queries, too many, or a bad one.
    """
    if isinstance(queries, (str, bytes)) or not isinstance(queries, Sequence):
        raise InvalidInputError("queries must be a list of strings (use search_memory for one).")
    if not queries:
        raise InvalidInputError("search_memories needs at least one query.")
    if len(queries) > MAX_QUERIES_PER_SEARCH:
        raise InvalidInputError(
            f"{len(queries)} queries in one search; the limit is {MAX_QUERIES_PER_SEARCH}."
        )
    return [require_text(q, "query", max_chars=MAX_QUERY_CHARS) for q in queries]


def scope_conditions(
    memory_search_scope: MemorySearchScope | str,
    org_id: str,
    user_id: str | None,
    agent_id: str | None,
) -> list[Condition]:
    """The filter of a scoped search: the tenant key, plus ``agent_id`` when given.

    ORGANIZATION filters on ``org_id``; USER on ``org_user_id`` (one condition on the tenant
    index). A ``user_id`` given with ORGANIZATION scope is ignored, as in the original.

    Raises:
        InvalidInputError: see :func:`~memora_engine.vector_db.base.check_scope`.
    """
    scope = check_scope(memory_search_scope, org_id, user_id, agent_id)
    if scope is MemorySearchScope.USER:
        assert user_id is not None  # check_scope guarantees it
        conditions: list[Condition] = [(ORG_USER_ID, org_user_key(org_id, user_id))]
    else:
        conditions = [(ORG_ID, org_id)]
    if agent_id is not None:
        conditions.append((AGENT_ID, agent_id))
    return conditions


def count_conditions(org_id: str | None, user_id: str | None) -> list[Condition]:
    """The filter of :meth:`count`: none, one org, or one user of one org.

    Raises:
        InvalidInputError: ``user_id`` without ``org_id``, or bad ids.
    """
    if org_id is None:
        if user_id is not None:
            raise InvalidInputError("count(user_id=...) needs the org_id too.")
        return []
    require_id(org_id, "org_id")
    if user_id is None:
        return [(ORG_ID, org_id)]
    require_id(user_id, "user_id")
    return [(ORG_USER_ID, org_user_key(org_id, user_id))]


@dataclass(frozen=True)
class SearchPlan:
    """Everything a store needs to build its query requests (same for every query of a call)."""

    mode: SearchMode
    limit: int
    dense_depth: int
    sparse_depth: int
    fusion: str
    rrf_k: int
    weights: tuple[float, float] | None
    score_threshold: float | None
    dense_score_threshold: float | None
    conditions: tuple[Condition, ...]
    #: The caller's filter (a parsed tree), applied with ``conditions`` in every query.
    filter: FilterNode | None = None

    @property
    def needs_dense(self) -> bool:
        """Whether queries need a dense vector."""
        return self.mode in ("hybrid", "dense")

    @property
    def needs_sparse(self) -> bool:
        """Whether queries need a sparse vector."""
        return self.mode in ("hybrid", "sparse")


def plan_search(
    config: HybridSearchConfig,
    limit: int | None,
    conditions: Sequence[Condition],
    filter: object = None,
) -> SearchPlan:
    """Turn a config, a caller's ``limit``, the scope and a filter into a :class:`SearchPlan`.

    Raises:
        InvalidInputError: ``limit`` is not an int in 1..MAX_PAGE_LIMIT, or ``filter`` is not
            ``None`` or a parsed filter tree.
    """
    node = check_filter(filter)
    if limit is None:
        limit = config.limit
    elif isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_PAGE_LIMIT:
        raise InvalidInputError(f"limit must be an integer in 1..{MAX_PAGE_LIMIT}, got {limit!r}.")
    dense_depth, sparse_depth = config.depths(limit)
    return SearchPlan(
        mode=config.mode,
        limit=limit,
        dense_depth=dense_depth,
        sparse_depth=sparse_depth,
        fusion=config.fusion,
        rrf_k=config.rrf_k,
        weights=(config.dense_weight, config.sparse_weight) if config.weighted else None,
        score_threshold=config.score_threshold,
        dense_score_threshold=config.dense_score_threshold,
        conditions=tuple(conditions),
        filter=node,
    )


def check_dense_dim(stored: int, expected: int, where: str) -> None:
    """Refuse to use an index built with a dense model of another dimension.

    Raises:
        ConfigurationError: the dimensions differ.
    """
    if stored != expected:
        raise ConfigurationError(
            f"{where} holds {stored}-dimensional dense vectors but the dense encoder makes "
            f"{expected}; use the same embedding model, or a new collection/path and reindex."
        )
