"""``Memora``: the async orchestrator of saves, searches and recall.

Flows (see the README for the full story):

* save / update: store the messages (diff on update), extract candidate memories (LLM call 1),
  compare them with related existing memories (LLM call 2, only when related ones exist),
  persist graph + vectors. Raw mode (``infer=False`` or no extraction model) stores each new
  user/assistant message verbatim, with 0 LLM calls. Its private helpers live in
  :mod:`memora_engine.saving`.
* search and recall: :mod:`memora_engine.retrieval` (the base class of ``Memora``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from langchain_core.language_models import BaseChatModel
from typing_extensions import Self

from memora_engine import pipeline
from memora_engine.bulk_api import BulkOperations
from memora_engine.coordinator import StoreCoordinator
from memora_engine.errors import (
    ConfigurationError,
    InvalidInputError,
)
from memora_engine.facts_api import FactManagement
from memora_engine.filters import validate_metadata
from memora_engine.graph_compat import GraphNamespace
from memora_engine.graph_db.base import BaseGraphDB
from memora_engine.ids import checked_arguments, ensure_aware, require_id, utc_now
from memora_engine.inspection_api import StoreInspection
from memora_engine.keyed_locks import KeyedLocks
from memora_engine.llm.base import BaseBackendLLM
from memora_engine.llm.providers import as_backend_llm
from memora_engine.prompts import Prompts
from memora_engine.records_api import RecordManagement
from memora_engine.recovery import recover_vector_index
from memora_engine.retrieval import MemoryRetrieval
from memora_engine.saving import InteractionSaving
from memora_engine.schema.storage import (
    MemoriesAndInteraction,
    validate_input,
)
from memora_engine.settings import MemoraSettings, resolve_startup_path
from memora_engine.tenants_api import TenantManagement
from memora_engine.tracing import RunnableConfig, run_config_scope
from memora_engine.vector_db.base import BaseVectorDB

__all__ = ["Memora"]

logger = logging.getLogger("memora_engine")
logger.addHandler(logging.NullHandler())

ModelLike = BaseBackendLLM | BaseChatModel | str | None


class Memora(
    MemoryRetrieval,
    TenantManagement,
    RecordManagement,
    FactManagement,
    StoreInspection,
    InteractionSaving,
    BulkOperations,
):
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

    #: The output guards applied to model-written memories (replace, don't mutate).
    output_guards: pipeline.OutputGuards = pipeline.OutputGuards()

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
        self.graph_db = graph_db
        self._stores = StoreCoordinator(graph_db, vector_db)
        self.graph = GraphNamespace(self)
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
        path: str | Path | None = None,
        *,
        extraction_model: ModelLike = None,
        memory_search_model: ModelLike = None,
        model_dir: str | Path | None = None,
        dense_encoder: Any = None,
        sparse_encoder: Any = None,
        search_config: Any = None,
        prompts: Prompts | None = None,
        enable_logging: bool = False,
        settings: MemoraSettings | None = None,
        create: bool = True,
        metadata_indexes: Mapping[str, str] | None = None,
    ) -> Memora:
        """Open (or create) an embedded Memora under ``path``: SQLite + Qdrant Edge + local models.

        ``path`` and ``model_dir`` default to ``settings`` (else
        :meth:`MemoraSettings.load() <memora_engine.settings.MemoraSettings.load>`:
        ``MEMORA_PATH`` / ``MEMORA_EMBEDDING_MODEL_DIR``, the config file, ``./.memora``).
        ``model_dir`` points the dense encoder at a local ONNX model folder, with no network.

        Args:
            create: ``False`` opens an existing store only (no folder is created).
            metadata_indexes: Payload indexes on the metadata keys you filter on,
                ``{"project": "keyword", "priority": "float"}`` (default: settings'
                ``metadata_indexes``); filtered searches on an unindexed key read each
                candidate's payload (README, "Metadata and filters").

        Raises:
            ConfigurationError: ``path`` is a file, cannot be created, or (``create=False``)
                holds no store; or a bad model folder.

        Examples:
            >>> memora = await Memora.embedded("./.memora")
        """
        from memora_engine.store_factory import build_stores

        settings = settings or MemoraSettings.load()
        root = Path(path) if path is not None and str(path) != "" else settings.path
        updates: dict[str, Any] = {"path": root, "neo4j_uri": None, "qdrant_url": None}
        if model_dir is not None and str(model_dir) != "":
            updates["embedding_model_dir"] = resolve_startup_path(model_dir)
        if metadata_indexes is not None:
            if not isinstance(metadata_indexes, Mapping):
                raise InvalidInputError('metadata_indexes must be a dict like {"k": "keyword"}.')
            updates["metadata_indexes"] = dict(metadata_indexes)
        settings = settings.model_copy(update=updates)
        await asyncio.to_thread(settings.layout.prepare, create=create)
        graph_db, vector_db = build_stores(
            settings,
            dense_encoder=dense_encoder,
            sparse_encoder=sparse_encoder,
            search_config=search_config,
        )
        return await cls._opened(
            vector_db,
            graph_db,
            memory_search_model,
            extraction_model,
            prompts=prompts,
            enable_logging=enable_logging,
        )

    @classmethod
    async def from_settings(
        cls,
        settings: MemoraSettings | None = None,
        *,
        extraction_model: ModelLike = None,
        memory_search_model: ModelLike = None,
        prompts: Prompts | None = None,
        enable_logging: bool = False,
        create: bool = True,
    ) -> Memora:
        """Open the stores and models a :class:`~memora_engine.settings.MemoraSettings` names.

        Embedded stores under ``settings.path`` unless Neo4j / Qdrant URLs are set. The models
        are the ones given, else ``settings.model`` / ``settings.search_model``, else a
        provider key in the settings (``OPENAI_API_KEY`` ...), else none (raw mode).

        Raises:
            ConfigurationError: a named model cannot be built (e.g. its API key is not set), a
                missing package, or (``create=False``) no embedded store at ``settings.path``.

        Examples:
            >>> memora = await Memora.from_settings(MemoraSettings.load())
        """
        from memora_engine.llm.providers import llm_from_settings
        from memora_engine.store_factory import build_stores

        settings = settings or MemoraSettings.load()
        if extraction_model is None:
            extraction_model = llm_from_settings(settings)
        if memory_search_model is None and settings.search_model:
            memory_search_model = settings.search_model
        if settings.embedded:
            return await cls.embedded(
                settings=settings,
                extraction_model=extraction_model,
                memory_search_model=memory_search_model,
                prompts=prompts,
                enable_logging=enable_logging,
                create=create,
            )
        graph_db, vector_db = build_stores(settings)
        return await cls._opened(
            vector_db,
            graph_db,
            memory_search_model,
            extraction_model,
            prompts=prompts,
            enable_logging=enable_logging,
        )

    @classmethod
    async def _opened(
        cls,
        vector_db: BaseVectorDB,
        graph_db: BaseGraphDB,
        memory_search_model: ModelLike,
        extraction_model: ModelLike,
        *,
        prompts: Prompts | None,
        enable_logging: bool,
    ) -> Memora:
        """A Memora over stores it now owns, set up; closed again if the setup fails."""
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
        """Create the stores' schema and indexes (idempotent).

        If the vector store reports that it may have lost writes (a power loss before its
        background flush), every graph memory missing from the index is indexed again first.
        """
        await self.vector_db.setup()
        await self.graph_db.setup()
        if self.vector_db.may_have_lost_writes:
            report = await recover_vector_index(self.graph_db, self.vector_db)
            self.vector_db.may_have_lost_writes = False
            logger.warning(
                "memora.setup: index recovered after an unclean shutdown, reindexed=%d",
                len(report.reindexed),
            )

    async def close(self) -> None:
        """Close the graph store, the vector store and the models (safe to call twice)."""
        await self.graph_db.close()
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
    @checked_arguments
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
        create_if_missing: bool = False,
        config: RunnableConfig | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> tuple[str, datetime]:
        """Save a new interaction (``interaction_id=None``) or update one, with its memories.

        Pass the FULL conversation each time; an update appends or truncates the stored
        messages (see the README). 2 LLM calls when the model answers validly (extraction,
        then comparison when related memories exist). ``max_retries`` is the number of
        corrective retries this save may make for invalid model output, shared by both calls
        and capped at 3: a save makes at most ``2 + min(max_retries, 3)`` model calls (5 by
        default). Without a usable extraction it raises
        :class:`~memora_engine.errors.LLMResponseInvalidError` with nothing written; when only
        the comparison stays invalid, the extracted memories are stored as new ones.

        Args:
            infer: ``False`` stores each new user/assistant message verbatim (raw mode, no LLM);
                ``None`` (default) infers when an extraction model is configured.
            create_if_missing: With ``interaction_id`` of an interaction that does not exist
                yet, create it under that id (e.g. your app's session id) instead of raising
                :class:`~memora_engine.errors.InteractionNotFoundError`.
            config: A LangChain ``RunnableConfig`` (callbacks, tags, metadata, run name) passed
                to every model call of this save, so they nest inside the caller's trace.
            metadata: A flat JSON object given to every memory this save creates (README,
                "Metadata and filters"); a new version of an existing memory inherits the old
                version's metadata when this is ``None``.

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
        clean_metadata = None if metadata is None else validate_metadata(metadata)
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
            create_if_missing=create_if_missing,
            metadata=clean_metadata,
        )
        with run_config_scope(config):
            if interaction_id is None:
                return await save
            # Updates of one interaction are serialized: each sees the previous one's messages.
            async with self._interaction_locks.hold((org_id, user_id, interaction_id)):
                return await save


def _enable_logging() -> None:
    if not any(isinstance(h, logging.StreamHandler) for h in logger.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
        logger.addHandler(handler)
    logger.setLevel(logging.INFO)
