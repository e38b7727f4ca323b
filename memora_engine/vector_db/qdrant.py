"""``QdrantDB``: the vector store over ``AsyncQdrantClient`` (server, Qdrant Cloud, local mode)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from qdrant_client import AsyncQdrantClient, models
from qdrant_client.http.exceptions import ResponseHandlingException, UnexpectedResponse

from memora_engine.embeddings.base import DenseEncoder, SparseEncoder
from memora_engine.errors import (
    BackendAuthError,
    BackendError,
    BackendUnavailableError,
    ConfigurationError,
    InvalidInputError,
    MemoraError,
)
from memora_engine.filters import FilterNode
from memora_engine.schema.models import Memory
from memora_engine.vector_db._common import (
    AGENT_ID,
    DENSE_VECTOR,
    INTERACTION_ID,
    OBTAINED_AT,
    SPARSE_VECTOR,
    TENANT_KEYS,
    Condition,
    MetadataIndexType,
    SearchPlan,
    build_payload,
    check_dense_dim,
    count_conditions,
    filter_key,
    memory_from_payload,
    metadata_index_plan,
    plan_search,
    scope_conditions,
    validate_memories,
    validate_memory_ids,
    validate_queries,
)
from memora_engine.vector_db._encoding import (
    EncodedQuery,
    EncoderOwner,
    encode_documents,
    encode_queries,
)
from memora_engine.vector_db.base import BaseVectorDB, MemorySearchScope, ScoredMemory
from memora_engine.vector_db.config import HYBRID_DEFAULT, HybridSearchConfig
from memora_engine.vector_db.filter_translation import client_conditions

__all__ = ["QdrantDB"]

#: Points per upsert request (and per embedding batch).
_UPSERT_CHUNK = 256


def _to_filter(
    conditions: Sequence[Condition], node: FilterNode | None = None
) -> models.Filter | None:
    """The scope ``conditions`` and the caller's filter ``node``, all required (pure)."""
    must: list[Any] = [
        models.FieldCondition(key=key, match=models.MatchValue(value=value))
        for key, value in conditions
    ]
    if node is not None:
        must.extend(client_conditions(node, filter_key))
    return models.Filter(must=must) if must else None


def _sparse(vector: Any) -> models.SparseVector:
    return models.SparseVector(indices=vector.indices, values=vector.values)


def _query_request(plan: SearchPlan, query: EncodedQuery) -> models.QueryRequest:
    """One Qdrant request for one query of the plan (pure)."""
    flt = _to_filter(plan.conditions, plan.filter)
    if plan.mode == "dense":
        thresholds = [
            t for t in (plan.score_threshold, plan.dense_score_threshold) if t is not None
        ]
        return models.QueryRequest(
            query=query.dense,
            using=DENSE_VECTOR,
            filter=flt,
            limit=plan.limit,
            score_threshold=max(thresholds) if thresholds else None,
            with_payload=True,
        )
    if plan.mode == "sparse":
        assert query.sparse is not None
        return models.QueryRequest(
            query=_sparse(query.sparse),
            using=SPARSE_VECTOR,
            filter=flt,
            limit=plan.limit,
            score_threshold=plan.score_threshold,
            with_payload=True,
        )
    prefetch = [
        models.Prefetch(
            query=query.dense,
            using=DENSE_VECTOR,
            filter=flt,
            limit=plan.dense_depth,
            score_threshold=plan.dense_score_threshold,
        )
    ]
    weights = list(plan.weights) if plan.weights else None
    if query.sparse is not None and not query.sparse.is_empty():
        prefetch.append(
            models.Prefetch(
                query=_sparse(query.sparse),
                using=SPARSE_VECTOR,
                filter=flt,
                limit=plan.sparse_depth,
            )
        )
    elif weights:
        weights = weights[:1]
    fusion: models.RrfQuery | models.FusionQuery = (
        models.RrfQuery(rrf=models.Rrf(k=plan.rrf_k, weights=weights))
        if plan.fusion == "rrf"
        else models.FusionQuery(fusion=models.Fusion.DBSF)
    )
    return models.QueryRequest(
        prefetch=prefetch,
        query=fusion,
        filter=flt,
        limit=plan.limit,
        score_threshold=plan.score_threshold,
        with_payload=True,
    )


class QdrantDB(EncoderOwner, BaseVectorDB):
    """Hybrid memory search on Qdrant: a server URL (+ API key), Qdrant Cloud, or local mode.

    Give exactly one of ``client`` (never closed by this object), ``url``, ``path`` (local mode,
    persisted) or ``location`` (``":memory:"`` for local mode in memory, or a URL). The
    collection holds a named dense vector (cosine) and a named sparse vector with Qdrant's IDF
    modifier (BM25), keyword payload indexes on ``org_id`` and ``org_user_id`` (tenant indexes)
    and ``agent_id``, and per-tenant HNSW graphs. A search sends every query in one
    ``query_batch_points`` request; each query prefetches both modalities and fuses them (RRF).

    Args:
        client: An existing ``AsyncQdrantClient``.
        url: A Qdrant server or Cloud URL.
        api_key: The API key for ``url``.
        path: A folder for qdrant-client's local mode (one process at a time).
        location: ``":memory:"`` or a URL.
        collection_name: The collection to use (created by :meth:`setup`).
        dense_encoder: Dense encoder (default: :func:`default_dense_encoder`).
        sparse_encoder: Sparse encoder (default: BM25).
        search_config: Search settings (default: ``HYBRID_DEFAULT``).
        metadata_indexes: Payload indexes on metadata keys, ``{"project": "keyword"}``
            (strings, booleans) or ``"float"`` (numbers); created with the collection and
            added to an existing one by :meth:`setup` (a server; local mode has no indexes).
        context_indexing: Compute the BM25 vector of a memory that has an index text (a raw
            turn: the date, the previous message and the turn, see
            :mod:`memora_engine.indexing`) from that text; the dense vector and the payload
            stay the memory. ``False``: from the memory text alone.

    Examples:
        >>> async with QdrantDB(location=":memory:") as store:  # doctest: +SKIP
        ...     await store.add_memories("org1", "user1", "agent1", [memory_id],
        ...                              ["user_user1 is allergic to peanuts"], now)
        ...     hits = await store.search_memory("allergies", MemorySearchScope.USER,
        ...                                      "org1", "user1")
    """

    def __init__(
        self,
        client: AsyncQdrantClient | None = None,
        *,
        url: str | None = None,
        api_key: str | None = None,
        path: str | Path | None = None,
        location: str | None = None,
        collection_name: str = "memora_memories",
        dense_encoder: DenseEncoder | None = None,
        sparse_encoder: SparseEncoder | None = None,
        search_config: HybridSearchConfig | None = None,
        metadata_indexes: Mapping[str, MetadataIndexType] | None = None,
        context_indexing: bool = True,
    ) -> None:
        if not isinstance(context_indexing, bool):
            raise ConfigurationError("context_indexing must be a bool.")
        self.context_indexing = context_indexing
        self._metadata_indexes = metadata_index_plan(metadata_indexes)
        given = [
            name
            for name, v in (
                ("client", client),
                ("url", url),
                ("path", path),
                ("location", location),
            )
            if v is not None
        ]
        if len(given) != 1:
            raise ConfigurationError(
                "QdrantDB needs exactly one of client=, url=, path= or location= "
                f"(got {given or 'none'}); e.g. location=':memory:' for local mode."
            )
        if api_key is not None and url is None and location is None:
            raise ConfigurationError("api_key goes with url= (a Qdrant server or Cloud).")
        self._client = client
        self._owns_client = client is None
        self._client_kwargs: dict[str, Any] = {
            k: v
            for k, v in (
                ("url", url),
                ("api_key", api_key),
                ("location", location),
                ("path", None if path is None else str(path)),
            )
            if v is not None
        }
        self.collection_name = collection_name
        self._dense = dense_encoder
        self._sparse = sparse_encoder
        self.search_config = search_config or HYBRID_DEFAULT
        self._ready = False
        self._setup_lock = asyncio.Lock()

    @property
    def is_local(self) -> bool:
        """Whether the client runs in qdrant-client's local mode (in memory or a folder)."""
        options = self._client.init_options if self._client is not None else self._client_kwargs
        return options.get("location") == ":memory:" or options.get("path") is not None

    # -- lifecycle ---------------------------------------------------------------------------

    async def setup(self) -> None:
        async with self._setup_lock:
            if self._ready:
                return
            dim = await self.dense_encoder.aget_dim()
            async with self._translate("setup"):
                client = self._get_client()
                if await client.collection_exists(self.collection_name):
                    await self._check_collection(client, dim)
                else:
                    await self._create_collection(client, dim)
            self._ready = True

    async def close(self) -> None:
        if self._client is not None and self._owns_client:
            await self._client.close()
            self._client = None
        self._ready = False

    def _get_client(self) -> AsyncQdrantClient:
        if self._client is None:
            try:
                self._client = AsyncQdrantClient(**self._client_kwargs)
            except RuntimeError as exc:  # local mode: folder locked by another client
                raise BackendUnavailableError(
                    f"Cannot open Qdrant local storage {self._client_kwargs.get('path')}: {exc}"
                ) from exc
        return self._client

    async def _client_ready(self) -> AsyncQdrantClient:
        if not self._ready:
            await self.setup()
        return self._get_client()

    async def _create_collection(self, client: AsyncQdrantClient, dim: int) -> None:
        sparse_params = models.SparseVectorParams(
            modifier=models.Modifier.IDF if self.sparse_encoder.needs_idf else None
        )
        await client.create_collection(
            self.collection_name,
            vectors_config={
                DENSE_VECTOR: models.VectorParams(size=dim, distance=models.Distance.COSINE)
            },
            sparse_vectors_config={SPARSE_VECTOR: sparse_params},
            # Per-tenant graphs only: every search is filtered by a tenant key.
            hnsw_config=models.HnswConfigDiff(m=0, payload_m=16),
        )
        if self.is_local:
            return  # local mode ignores payload indexes (and warns about them)
        for key in (*TENANT_KEYS, AGENT_ID, INTERACTION_ID):
            await self._create_keyword_index(client, key, is_tenant=key in TENANT_KEYS)
        await self._create_missing_indexes(client, set())

    async def _create_missing_indexes(self, client: AsyncQdrantClient, existing: set[str]) -> None:
        """The time index and the metadata indexes asked for, where not yet present."""
        wanted: dict[str, models.PayloadSchemaType] = {
            OBTAINED_AT: models.PayloadSchemaType.DATETIME
        }
        for key, kind in self._metadata_indexes.items():
            wanted[key] = (
                models.PayloadSchemaType.KEYWORD
                if kind == "keyword"
                else models.PayloadSchemaType.FLOAT
            )
        for key, schema in wanted.items():
            if key not in existing:
                await client.create_payload_index(self.collection_name, key, schema, wait=True)

    async def _create_keyword_index(
        self, client: AsyncQdrantClient, key: str, *, is_tenant: bool
    ) -> None:
        schema = models.KeywordIndexParams(
            type=models.KeywordIndexType.KEYWORD, is_tenant=is_tenant or None
        )
        try:
            await client.create_payload_index(self.collection_name, key, schema, wait=True)
        except UnexpectedResponse as exc:
            if not is_tenant or exc.status_code != 400:
                raise
            # Servers before 1.11 know no tenant indexes: a plain keyword index still helps.
            await client.create_payload_index(
                self.collection_name, key, models.PayloadSchemaType.KEYWORD, wait=True
            )

    async def _check_collection(self, client: AsyncQdrantClient, dim: int) -> None:
        info = await client.get_collection(self.collection_name)
        vectors = info.config.params.vectors
        sparse = info.config.params.sparse_vectors or {}
        params = vectors.get(DENSE_VECTOR) if isinstance(vectors, dict) else None
        if params is None or SPARSE_VECTOR not in sparse:
            raise ConfigurationError(
                f"Collection {self.collection_name!r} exists but was not made by Memora "
                f"(needs vectors {DENSE_VECTOR!r} and {SPARSE_VECTOR!r}); pick another "
                "collection_name."
            )
        check_dense_dim(params.size, dim, f"Collection {self.collection_name!r}")
        if not self.is_local:
            schema = info.payload_schema or {}
            if INTERACTION_ID not in schema:
                await self._create_keyword_index(client, INTERACTION_ID, is_tenant=False)
            await self._create_missing_indexes(client, set(schema))

    @asynccontextmanager
    async def _translate(self, action: str) -> AsyncIterator[None]:
        """Translate qdrant-client errors into the Memora error tree."""
        try:
            yield
        except MemoraError:
            raise
        except UnexpectedResponse as exc:
            if exc.status_code in (401, 403):
                raise BackendAuthError(f"Qdrant rejected the credentials ({action}).") from exc
            raise BackendError(f"Qdrant {action} failed: HTTP {exc.status_code}.") from exc
        except (ResponseHandlingException, ConnectionError, OSError, TimeoutError) as exc:
            raise BackendUnavailableError(f"Qdrant is unreachable ({action}): {exc}") from exc
        except (RuntimeError, ValueError) as exc:
            raise BackendError(f"Qdrant {action} failed: {exc}") from exc
        except Exception as exc:  # grpc and other driver errors
            if type(exc).__module__.startswith(("grpc", "httpx", "httpcore")):
                raise BackendUnavailableError(f"Qdrant {action} failed: {exc}") from exc
            raise

    # -- writes ------------------------------------------------------------------------------

    async def upsert_memories(self, memories: Sequence[Memory]) -> None:
        checked = validate_memories(memories)
        if not checked:
            return
        client = await self._client_ready()
        for start in range(0, len(checked), _UPSERT_CHUNK):
            chunk = checked[start : start + _UPSERT_CHUNK]
            dense, sparse = await encode_documents(
                [m.memory for m in chunk],
                self.dense_encoder,
                self.sparse_encoder,
                self.recent_vectors,
                sparse_texts=self.sparse_texts(chunk),
            )
            points = [
                models.PointStruct(
                    id=memory.memory_id,
                    vector={DENSE_VECTOR: d, SPARSE_VECTOR: _sparse(s)},
                    payload=build_payload(memory),
                )
                for memory, d, s in zip(chunk, dense, sparse, strict=True)
            ]
            async with self._translate("upsert"):
                await client.upsert(self.collection_name, points=points, wait=True)

    async def flush(self) -> None:
        """A no-op: every write is acknowledged with ``wait=True`` (in the server's WAL)."""

    async def delete_memories(self, memory_ids: Sequence[str]) -> None:
        ids = validate_memory_ids(memory_ids)
        if not ids:
            return
        client = await self._client_ready()
        async with self._translate("delete"):
            await client.delete(
                self.collection_name,
                points_selector=models.PointIdsList(points=list(ids)),
                wait=True,
            )

    async def _delete_where(self, conditions: list[Condition]) -> None:
        flt = _to_filter(conditions)
        if flt is None:
            raise InvalidInputError("a tenant delete needs an org_id.")
        client = await self._client_ready()
        async with self._translate("delete"):
            await client.delete(
                self.collection_name, points_selector=models.FilterSelector(filter=flt), wait=True
            )

    async def delete_all_user_memories(self, org_id: str, user_id: str) -> None:
        await self._delete_where(count_conditions(org_id, user_id))

    async def delete_all_organization_memories(self, org_id: str) -> None:
        await self._delete_where(count_conditions(org_id, None))

    # -- reads -------------------------------------------------------------------------------

    async def search_memories(
        self,
        queries: Sequence[str],
        memory_search_scope: MemorySearchScope,
        org_id: str,
        user_id: str | None = None,
        agent_id: str | None = None,
        *,
        limit: int | None = None,
        filter: FilterNode | None = None,
    ) -> list[list[ScoredMemory]]:
        texts = validate_queries(queries)
        conditions = scope_conditions(memory_search_scope, org_id, user_id, agent_id)
        plan = plan_search(self.search_config, limit, conditions, filter)
        client = await self._client_ready()
        encoded = await encode_queries(
            texts, plan, self.dense_encoder, self.sparse_encoder, self.recent_vectors
        )
        active = [i for i, q in enumerate(encoded) if q.searchable(plan)]
        results: list[list[ScoredMemory]] = [[] for _ in texts]
        if not active:
            return results
        requests = [_query_request(plan, encoded[i]) for i in active]
        async with self._translate("search"):
            responses = await client.query_batch_points(self.collection_name, requests=requests)
        for i, response in zip(active, responses, strict=True):
            results[i] = [
                (memory_from_payload(point.id, point.payload), float(point.score))
                for point in response.points
            ]
        return results

    async def count(self, org_id: str | None = None, user_id: str | None = None) -> int:
        flt = _to_filter(count_conditions(org_id, user_id))
        client = await self._client_ready()
        async with self._translate("count"):
            result = await client.count(self.collection_name, count_filter=flt, exact=True)
        return int(result.count)

    async def existing_ids(self, memory_ids: Sequence[str]) -> set[str]:
        ids = validate_memory_ids(memory_ids)
        if not ids:
            return set()
        client = await self._client_ready()
        async with self._translate("retrieve"):
            records = await client.retrieve(
                self.collection_name, ids=list(ids), with_payload=False, with_vectors=False
            )
        return {str(record.id) for record in records}
