"""Blocking twins of Memora's async API. GENERATED: do not edit.

Regenerate with ``python -m memora_engine._codegen`` (see :mod:`memora_engine._codegen`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence, Set
from datetime import datetime
from typing import Any

from memora_engine.bulk_api import RestoreItem
from memora_engine.coordinator import ProgressCallback
from memora_engine.facts_api import FactInput
from memora_engine.filters import MetadataFilter
from memora_engine.graph_compat import GraphNamespace
from memora_engine.inspection_api import IndexStatus
from memora_engine.memora import Memora
from memora_engine.rerank import Reranker
from memora_engine.schema.models import Agent, Interaction, Memory, MessageBlock, Organization, User
from memora_engine.schema.storage import MemoriesAndInteraction
from memora_engine.sync import EventLoopPortal
from memora_engine.temporal import TimeRange
from memora_engine.tracing import RunnableConfig
from memora_engine.vector_db.base import MemorySearchScope

__all__ = ["SyncGraphNamespace", "SyncMemoraMethods"]


class SyncMemoraMethods:
    """Blocking twins of every public coroutine method of ``Memora`` (the base of SyncMemora)."""

    def __init__(self, aio: Memora, portal: EventLoopPortal) -> None:
        self.aio = aio
        self._portal = portal

    def save_or_update_interaction_and_memories(
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
        """Blocking :meth:`Memora.save_or_update_interaction_and_memories`."""
        call = self.aio.save_or_update_interaction_and_memories(
            org_id,
            user_id,
            agent_id,
            interaction,
            interaction_id,
            current_datetime,
            extract_agent_memories,
            update_across_agents,
            max_retries,
            infer=infer,
            create_if_missing=create_if_missing,
            config=config,
            metadata=metadata,
        )
        return self._portal.run(call)

    def search_memories_with_scores(
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
        """Blocking :meth:`Memora.search_memories_with_scores`."""
        call = self.aio.search_memories_with_scores(
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
        return self._portal.run(call)

    def search_memories_as_one(
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
        """Blocking :meth:`Memora.search_memories_as_one`."""
        call = self.aio.search_memories_as_one(
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
        return self._portal.run(call)

    def search_memories_as_batch(
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
        """Blocking :meth:`Memora.search_memories_as_batch`."""
        call = self.aio.search_memories_as_batch(
            org_id,
            search_queries,
            filter_out_memory_ids_set,
            user_id,
            agent_id,
            memory_search_scope,
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
        return self._portal.run(call)

    def get_current_memories(
        self, org_id: str, user_id: str, memory_ids: Sequence[str]
    ) -> list[Memory]:
        """Blocking :meth:`Memora.get_current_memories`."""
        return self._portal.run(self.aio.get_current_memories(org_id, user_id, memory_ids))

    def generate_memory_search_queries(
        self,
        message: str,
        preceding_msg_for_context: Sequence[Mapping[str, str]] | None = None,
        current_datetime: datetime | None = None,
        *,
        config: RunnableConfig | None = None,
    ) -> list[str]:
        """Blocking :meth:`Memora.generate_memory_search_queries`."""
        call = self.aio.generate_memory_search_queries(
            message, preceding_msg_for_context, current_datetime, config=config
        )
        return self._portal.run(call)

    def filter_retrieved_memories_with_model(
        self,
        message: str,
        search_queries_used: Sequence[str],
        retrieved_memories: Sequence[Memory],
        current_datetime: datetime | None = None,
        *,
        config: RunnableConfig | None = None,
    ) -> set[str] | None:
        """Blocking :meth:`Memora.filter_retrieved_memories_with_model`."""
        call = self.aio.filter_retrieved_memories_with_model(
            message, search_queries_used, retrieved_memories, current_datetime, config=config
        )
        return self._portal.run(call)

    def recall_memories_for_message(
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
        """Blocking :meth:`Memora.recall_memories_for_message`."""
        call = self.aio.recall_memories_for_message(
            org_id,
            user_id,
            latest_msg,
            agent_id,
            preceding_msg_for_context,
            current_datetime,
            filter_out_memory_ids_set,
            search_across_agents,
            enable_final_model_based_memory_filter,
            config=config,
            time_aware=time_aware,
            time_range=time_range,
            reranker=reranker,
            rerank_top_n=rerank_top_n,
            mmr_lambda=mmr_lambda,
            dedupe=dedupe,
            filter=filter,
        )
        return self._portal.run(call)

    def create_organization(
        self, org_name: str, *, org_id: str | None = None, created_at: datetime | None = None
    ) -> Organization:
        """Blocking :meth:`Memora.create_organization`."""
        call = self.aio.create_organization(org_name, org_id=org_id, created_at=created_at)
        return self._portal.run(call)

    def get_organization(self, org_id: str) -> Organization:
        """Blocking :meth:`Memora.get_organization`."""
        return self._portal.run(self.aio.get_organization(org_id))

    def list_organizations(self) -> list[Organization]:
        """Blocking :meth:`Memora.list_organizations`."""
        return self._portal.run(self.aio.list_organizations())

    def update_organization(self, org_id: str, new_org_name: str) -> Organization:
        """Blocking :meth:`Memora.update_organization`."""
        return self._portal.run(self.aio.update_organization(org_id, new_org_name))

    def delete_organization(self, org_id: str) -> bool:
        """Blocking :meth:`Memora.delete_organization`."""
        return self._portal.run(self.aio.delete_organization(org_id))

    def get_or_create_organization(
        self, org_id: str, *, org_name: str | None = None
    ) -> Organization:
        """Blocking :meth:`Memora.get_or_create_organization`."""
        return self._portal.run(self.aio.get_or_create_organization(org_id, org_name=org_name))

    def create_user(
        self,
        org_id: str,
        user_name: str,
        *,
        user_id: str | None = None,
        created_at: datetime | None = None,
    ) -> User:
        """Blocking :meth:`Memora.create_user`."""
        call = self.aio.create_user(org_id, user_name, user_id=user_id, created_at=created_at)
        return self._portal.run(call)

    def get_user(self, org_id: str, user_id: str) -> User:
        """Blocking :meth:`Memora.get_user`."""
        return self._portal.run(self.aio.get_user(org_id, user_id))

    def list_users(self, org_id: str) -> list[User]:
        """Blocking :meth:`Memora.list_users`."""
        return self._portal.run(self.aio.list_users(org_id))

    def update_user(self, org_id: str, user_id: str, new_user_name: str) -> User:
        """Blocking :meth:`Memora.update_user`."""
        return self._portal.run(self.aio.update_user(org_id, user_id, new_user_name))

    def delete_user(self, org_id: str, user_id: str) -> bool:
        """Blocking :meth:`Memora.delete_user`."""
        return self._portal.run(self.aio.delete_user(org_id, user_id))

    def get_or_create_user(
        self, org_id: str, user_id: str, *, user_name: str | None = None
    ) -> User:
        """Blocking :meth:`Memora.get_or_create_user`."""
        return self._portal.run(self.aio.get_or_create_user(org_id, user_id, user_name=user_name))

    def create_agent(
        self,
        org_id: str,
        agent_label: str,
        user_id: str | None = None,
        *,
        agent_id: str | None = None,
        created_at: datetime | None = None,
    ) -> Agent:
        """Blocking :meth:`Memora.create_agent`."""
        call = self.aio.create_agent(
            org_id, agent_label, user_id, agent_id=agent_id, created_at=created_at
        )
        return self._portal.run(call)

    def get_agent(self, org_id: str, agent_id: str) -> Agent:
        """Blocking :meth:`Memora.get_agent`."""
        return self._portal.run(self.aio.get_agent(org_id, agent_id))

    def list_agents(self, org_id: str, *, user_id: str | None = None) -> list[Agent]:
        """Blocking :meth:`Memora.list_agents`."""
        return self._portal.run(self.aio.list_agents(org_id, user_id=user_id))

    def update_agent(self, org_id: str, agent_id: str, new_agent_label: str) -> Agent:
        """Blocking :meth:`Memora.update_agent`."""
        return self._portal.run(self.aio.update_agent(org_id, agent_id, new_agent_label))

    def delete_agent(self, org_id: str, agent_id: str) -> bool:
        """Blocking :meth:`Memora.delete_agent`."""
        return self._portal.run(self.aio.delete_agent(org_id, agent_id))

    def get_or_create_agent(
        self,
        org_id: str,
        agent_id: str,
        *,
        agent_label: str | None = None,
        user_id: str | None = None,
    ) -> Agent:
        """Blocking :meth:`Memora.get_or_create_agent`."""
        call = self.aio.get_or_create_agent(
            org_id, agent_id, agent_label=agent_label, user_id=user_id
        )
        return self._portal.run(call)

    def get_interaction(
        self,
        org_id: str,
        user_id: str,
        interaction_id: str,
        *,
        with_messages: bool = True,
        with_memories: bool = True,
        resolve_names: bool = True,
    ) -> Interaction:
        """Blocking :meth:`Memora.get_interaction`."""
        call = self.aio.get_interaction(
            org_id,
            user_id,
            interaction_id,
            with_messages=with_messages,
            with_memories=with_memories,
            resolve_names=resolve_names,
        )
        return self._portal.run(call)

    def list_interactions(
        self,
        org_id: str,
        user_id: str,
        *,
        with_messages: bool = True,
        with_memories: bool = True,
        skip: int = 0,
        limit: int = 100,
        resolve_names: bool = True,
    ) -> list[Interaction]:
        """Blocking :meth:`Memora.list_interactions`."""
        call = self.aio.list_interactions(
            org_id,
            user_id,
            with_messages=with_messages,
            with_memories=with_memories,
            skip=skip,
            limit=limit,
            resolve_names=resolve_names,
        )
        return self._portal.run(call)

    def delete_interaction(self, org_id: str, user_id: str, interaction_id: str) -> bool:
        """Blocking :meth:`Memora.delete_interaction`."""
        return self._portal.run(self.aio.delete_interaction(org_id, user_id, interaction_id))

    def delete_all_interactions(self, org_id: str, user_id: str) -> None:
        """Blocking :meth:`Memora.delete_all_interactions`."""
        self._portal.run(self.aio.delete_all_interactions(org_id, user_id))

    def restore_interaction(
        self,
        org_id: str,
        user_id: str,
        agent_id: str,
        record: MemoriesAndInteraction,
        *,
        interaction_id: str | None = None,
        update: bool = False,
    ) -> tuple[str, datetime]:
        """Blocking :meth:`Memora.restore_interaction`."""
        call = self.aio.restore_interaction(
            org_id, user_id, agent_id, record, interaction_id=interaction_id, update=update
        )
        return self._portal.run(call)

    def get_memory(
        self, org_id: str, user_id: str, memory_id: str, *, resolve_names: bool = True
    ) -> Memory:
        """Blocking :meth:`Memora.get_memory`."""
        call = self.aio.get_memory(org_id, user_id, memory_id, resolve_names=resolve_names)
        return self._portal.run(call)

    def list_memories(
        self,
        org_id: str,
        user_id: str,
        *,
        agent_id: str | None = None,
        include_history: bool = False,
        skip: int = 0,
        limit: int = 1000,
        resolve_names: bool = True,
        filter: MetadataFilter | None = None,
    ) -> list[Memory]:
        """Blocking :meth:`Memora.list_memories`."""
        call = self.aio.list_memories(
            org_id,
            user_id,
            agent_id=agent_id,
            include_history=include_history,
            skip=skip,
            limit=limit,
            resolve_names=resolve_names,
            filter=filter,
        )
        return self._portal.run(call)

    def get_memory_history(self, org_id: str, user_id: str, memory_id: str) -> list[Memory]:
        """Blocking :meth:`Memora.get_memory_history`."""
        return self._portal.run(self.aio.get_memory_history(org_id, user_id, memory_id))

    def get_memory_context(
        self, org_id: str, user_id: str, memory_id: str, *, window: int = 1
    ) -> list[MessageBlock]:
        """Blocking :meth:`Memora.get_memory_context`."""
        call = self.aio.get_memory_context(org_id, user_id, memory_id, window=window)
        return self._portal.run(call)

    def list_memory_links(self, org_id: str, user_id: str) -> list[tuple[str, str]]:
        """Blocking :meth:`Memora.list_memory_links`."""
        return self._portal.run(self.aio.list_memory_links(org_id, user_id))

    def delete_memory(self, org_id: str, user_id: str, memory_id: str) -> bool:
        """Blocking :meth:`Memora.delete_memory`."""
        return self._portal.run(self.aio.delete_memory(org_id, user_id, memory_id))

    def delete_all_memories(self, org_id: str, user_id: str) -> int:
        """Blocking :meth:`Memora.delete_all_memories`."""
        return self._portal.run(self.aio.delete_all_memories(org_id, user_id))

    def add_memories(
        self,
        org_id: str,
        user_id: str,
        agent_id: str,
        memories: Sequence[FactInput],
        *,
        metadata: Mapping[str, Any] | None = None,
        infer: bool = False,
        current_datetime: datetime | None = None,
        max_retries: int = 3,
        config: RunnableConfig | None = None,
    ) -> list[Memory]:
        """Blocking :meth:`Memora.add_memories`."""
        call = self.aio.add_memories(
            org_id,
            user_id,
            agent_id,
            memories,
            metadata=metadata,
            infer=infer,
            current_datetime=current_datetime,
            max_retries=max_retries,
            config=config,
        )
        return self._portal.run(call)

    def edit_memory(
        self,
        org_id: str,
        user_id: str,
        memory_id: str,
        *,
        memory: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        current_datetime: datetime | None = None,
    ) -> Memory:
        """Blocking :meth:`Memora.edit_memory`."""
        call = self.aio.edit_memory(
            org_id,
            user_id,
            memory_id,
            memory=memory,
            metadata=metadata,
            current_datetime=current_datetime,
        )
        return self._portal.run(call)

    def delete_memories(self, org_id: str, user_id: str, *, filter: MetadataFilter) -> int:
        """Blocking :meth:`Memora.delete_memories`."""
        return self._portal.run(self.aio.delete_memories(org_id, user_id, filter=filter))

    def index_status(self) -> IndexStatus:
        """Blocking :meth:`Memora.index_status`."""
        return self._portal.run(self.aio.index_status())

    def memory_ids_in_use(self, memory_ids: Sequence[str]) -> set[str]:
        """Blocking :meth:`Memora.memory_ids_in_use`."""
        return self._portal.run(self.aio.memory_ids_in_use(memory_ids))

    def reindex(
        self,
        *,
        org_id: str | None = None,
        batch_size: int = 256,
        progress: ProgressCallback | None = None,
    ) -> int:
        """Blocking :meth:`Memora.reindex`."""
        call = self.aio.reindex(org_id=org_id, batch_size=batch_size, progress=progress)
        return self._portal.run(call)

    def restore_interactions(self, items: Sequence[RestoreItem]) -> list[tuple[str, datetime]]:
        """Blocking :meth:`Memora.restore_interactions`."""
        return self._portal.run(self.aio.restore_interactions(items))


class SyncGraphNamespace:
    """Blocking ``memora.graph``: the original graph method names, run on the portal."""

    def __init__(self, aio: GraphNamespace, portal: EventLoopPortal) -> None:
        self.aio = aio
        self._portal = portal

    def create_organization(
        self, org_name: str, *, org_id: str | None = None, created_at: datetime | None = None
    ) -> Organization:
        """Blocking :meth:`GraphNamespace.create_organization`."""
        call = self.aio.create_organization(org_name, org_id=org_id, created_at=created_at)
        return self._portal.run(call)

    def update_organization(self, org_id: str, new_org_name: str) -> Organization:
        """Blocking :meth:`GraphNamespace.update_organization`."""
        return self._portal.run(self.aio.update_organization(org_id, new_org_name))

    def delete_organization(self, org_id: str) -> bool:
        """Blocking :meth:`GraphNamespace.delete_organization`."""
        return self._portal.run(self.aio.delete_organization(org_id))

    def get_organization(self, org_id: str) -> Organization:
        """Blocking :meth:`GraphNamespace.get_organization`."""
        return self._portal.run(self.aio.get_organization(org_id))

    def get_all_organizations(self) -> list[Organization]:
        """Blocking :meth:`GraphNamespace.get_all_organizations`."""
        return self._portal.run(self.aio.get_all_organizations())

    def create_agent(
        self,
        org_id: str,
        agent_label: str,
        user_id: str | None = None,
        *,
        agent_id: str | None = None,
        created_at: datetime | None = None,
    ) -> Agent:
        """Blocking :meth:`GraphNamespace.create_agent`."""
        call = self.aio.create_agent(
            org_id, agent_label, user_id, agent_id=agent_id, created_at=created_at
        )
        return self._portal.run(call)

    def update_agent(self, org_id: str, agent_id: str, new_agent_label: str) -> Agent:
        """Blocking :meth:`GraphNamespace.update_agent`."""
        return self._portal.run(self.aio.update_agent(org_id, agent_id, new_agent_label))

    def delete_agent(self, org_id: str, agent_id: str) -> bool:
        """Blocking :meth:`GraphNamespace.delete_agent`."""
        return self._portal.run(self.aio.delete_agent(org_id, agent_id))

    def get_agent(self, org_id: str, agent_id: str) -> Agent:
        """Blocking :meth:`GraphNamespace.get_agent`."""
        return self._portal.run(self.aio.get_agent(org_id, agent_id))

    def get_all_org_agents(self, org_id: str) -> list[Agent]:
        """Blocking :meth:`GraphNamespace.get_all_org_agents`."""
        return self._portal.run(self.aio.get_all_org_agents(org_id))

    def get_all_user_agents(self, org_id: str, user_id: str) -> list[Agent]:
        """Blocking :meth:`GraphNamespace.get_all_user_agents`."""
        return self._portal.run(self.aio.get_all_user_agents(org_id, user_id))

    def create_user(
        self,
        org_id: str,
        user_name: str,
        *,
        user_id: str | None = None,
        created_at: datetime | None = None,
    ) -> User:
        """Blocking :meth:`GraphNamespace.create_user`."""
        call = self.aio.create_user(org_id, user_name, user_id=user_id, created_at=created_at)
        return self._portal.run(call)

    def update_user(self, org_id: str, user_id: str, new_user_name: str) -> User:
        """Blocking :meth:`GraphNamespace.update_user`."""
        return self._portal.run(self.aio.update_user(org_id, user_id, new_user_name))

    def delete_user(self, org_id: str, user_id: str) -> bool:
        """Blocking :meth:`GraphNamespace.delete_user`."""
        return self._portal.run(self.aio.delete_user(org_id, user_id))

    def get_user(self, org_id: str, user_id: str) -> User:
        """Blocking :meth:`GraphNamespace.get_user`."""
        return self._portal.run(self.aio.get_user(org_id, user_id))

    def get_all_org_users(self, org_id: str) -> list[User]:
        """Blocking :meth:`GraphNamespace.get_all_org_users`."""
        return self._portal.run(self.aio.get_all_org_users(org_id))

    def save_interaction_with_memories(
        self,
        org_id: str,
        agent_id: str,
        user_id: str,
        memories_and_interaction: MemoriesAndInteraction,
        *,
        interaction_id: str | None = None,
    ) -> tuple[str, datetime]:
        """Blocking :meth:`GraphNamespace.save_interaction_with_memories`."""
        call = self.aio.save_interaction_with_memories(
            org_id, agent_id, user_id, memories_and_interaction, interaction_id=interaction_id
        )
        return self._portal.run(call)

    def update_interaction_and_memories(
        self,
        org_id: str,
        agent_id: str,
        user_id: str,
        interaction_id: str,
        updated_memories_and_interaction: MemoriesAndInteraction,
    ) -> tuple[str, datetime]:
        """Blocking :meth:`GraphNamespace.update_interaction_and_memories`."""
        call = self.aio.update_interaction_and_memories(
            org_id, agent_id, user_id, interaction_id, updated_memories_and_interaction
        )
        return self._portal.run(call)

    def get_interaction(
        self,
        org_id: str,
        user_id: str,
        interaction_id: str,
        with_messages: bool = True,
        with_memories: bool = True,
        *,
        resolve_names: bool = True,
    ) -> Interaction:
        """Blocking :meth:`GraphNamespace.get_interaction`."""
        call = self.aio.get_interaction(
            org_id,
            user_id,
            interaction_id,
            with_messages,
            with_memories,
            resolve_names=resolve_names,
        )
        return self._portal.run(call)

    def get_all_user_interactions(
        self,
        org_id: str,
        user_id: str,
        with_their_messages: bool = True,
        with_their_memories: bool = True,
        skip: int = 0,
        limit: int = 100,
        *,
        resolve_names: bool = True,
    ) -> list[Interaction]:
        """Blocking :meth:`GraphNamespace.get_all_user_interactions`."""
        call = self.aio.get_all_user_interactions(
            org_id,
            user_id,
            with_their_messages,
            with_their_memories,
            skip,
            limit,
            resolve_names=resolve_names,
        )
        return self._portal.run(call)

    def get_all_interaction_memories(
        self, org_id: str, user_id: str, interaction_id: str
    ) -> list[Memory]:
        """Blocking :meth:`GraphNamespace.get_all_interaction_memories`."""
        call = self.aio.get_all_interaction_memories(org_id, user_id, interaction_id)
        return self._portal.run(call)

    def delete_user_interaction_and_its_memories(
        self, org_id: str, user_id: str, interaction_id: str
    ) -> bool:
        """Blocking :meth:`GraphNamespace.delete_user_interaction_and_its_memories`."""
        call = self.aio.delete_user_interaction_and_its_memories(org_id, user_id, interaction_id)
        return self._portal.run(call)

    def delete_all_user_interactions_and_their_memories(self, org_id: str, user_id: str) -> None:
        """Blocking :meth:`GraphNamespace.delete_all_user_interactions_and_their_memories`."""
        self._portal.run(self.aio.delete_all_user_interactions_and_their_memories(org_id, user_id))

    def fetch_user_memories_resolved(
        self, org_user_mem_ids: Sequence[Mapping[str, str]]
    ) -> list[Memory]:
        """Blocking :meth:`GraphNamespace.fetch_user_memories_resolved`."""
        return self._portal.run(self.aio.fetch_user_memories_resolved(org_user_mem_ids))

    def fetch_user_memories_resolved_batch(
        self, batch_org_user_mem_ids: Sequence[Sequence[Mapping[str, str]]]
    ) -> list[list[Memory]]:
        """Blocking :meth:`GraphNamespace.fetch_user_memories_resolved_batch`."""
        return self._portal.run(self.aio.fetch_user_memories_resolved_batch(batch_org_user_mem_ids))

    def get_user_memory(
        self, org_id: str, user_id: str, memory_id: str, *, resolve_names: bool = True
    ) -> Memory:
        """Blocking :meth:`GraphNamespace.get_user_memory`."""
        call = self.aio.get_user_memory(org_id, user_id, memory_id, resolve_names=resolve_names)
        return self._portal.run(call)

    def get_all_user_memories(
        self,
        org_id: str,
        user_id: str,
        agent_id: str | None = None,
        skip: int = 0,
        limit: int = 1000,
        *,
        resolve_names: bool = True,
        filter: MetadataFilter | None = None,
    ) -> list[Memory]:
        """Blocking :meth:`GraphNamespace.get_all_user_memories`."""
        call = self.aio.get_all_user_memories(
            org_id, user_id, agent_id, skip, limit, resolve_names=resolve_names, filter=filter
        )
        return self._portal.run(call)

    def get_user_memory_history(self, org_id: str, user_id: str, memory_id: str) -> list[Memory]:
        """Blocking :meth:`GraphNamespace.get_user_memory_history`."""
        return self._portal.run(self.aio.get_user_memory_history(org_id, user_id, memory_id))

    def get_user_memory_links(self, org_id: str, user_id: str) -> list[tuple[str, str]]:
        """Blocking :meth:`GraphNamespace.get_user_memory_links`."""
        return self._portal.run(self.aio.get_user_memory_links(org_id, user_id))

    def delete_user_memory(self, org_id: str, user_id: str, memory_id: str) -> bool:
        """Blocking :meth:`GraphNamespace.delete_user_memory`."""
        return self._portal.run(self.aio.delete_user_memory(org_id, user_id, memory_id))

    def delete_all_user_memories(self, org_id: str, user_id: str) -> int:
        """Blocking :meth:`GraphNamespace.delete_all_user_memories`."""
        return self._portal.run(self.aio.delete_all_user_memories(org_id, user_id))

    def update_user_memory_metadata(
        self, org_id: str, user_id: str, memory_id: str, metadata: Mapping[str, Any]
    ) -> Memory:
        """Blocking :meth:`GraphNamespace.update_user_memory_metadata`."""
        call = self.aio.update_user_memory_metadata(org_id, user_id, memory_id, metadata)
        return self._portal.run(call)
