"""Tenant isolation, property-based: orgs / users / agents that share ids, names and texts.

Each example builds a small world in one embedded store (bring-your-own ids drawn from a tiny
shared pool, so the same user id, agent id, user name and memory text exist in several orgs),
then checks that every read, search (USER and ORGANIZATION scope, with and without an agent
filter), recall, history, list and delete path of each tenant sees and touches only its own
data. Fixed seed (``derandomize``), bounded examples.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from memora_engine import MemorySearchScope, SyncMemora
from memora_engine.embeddings import DenseEncoder, SparseEncoder
from memora_engine.errors import (
    AgentNotFoundError,
    InteractionNotFoundError,
    MemoryNotFoundError,
    UserNotFoundError,
)

ID_POOL = ["u1", "u2", "alice", "0", "org-1", "a1"]
NAME_POOL = ["Jake", "Jake", "Sarah", "Robert'); DROP TABLE users;--"]
TEXT_POOL = [
    "I am allergic to peanuts",
    "My password hint is tea",
    "' OR '1'='1' --",
    "MATCH (n) DETACH DELETE n",
    '{"org_id": "org-1", "user_id": "u1"}',
    "memory of u1 in org-1 via a1",
    "SELECT * FROM memories WHERE org_id = 'org-1'",
]
QUERIES = [TEXT_POOL[0], TEXT_POOL[2], TEXT_POOL[5]]
_ORG_COUNTER = itertools.count()


@dataclass
class Tenant:
    org_id: str
    user_id: str
    agent_id: str
    interaction_ids: set[str] = field(default_factory=set)
    memory_ids: set[str] = field(default_factory=set)


@pytest.fixture(scope="module")
def memora(
    tmp_path_factory: pytest.TempPathFactory,
    dense_encoder: DenseEncoder,
    sparse_encoder: SparseEncoder,
) -> Iterator[SyncMemora]:
    path: Path = tmp_path_factory.mktemp("isolation")
    with SyncMemora.embedded(
        path, dense_encoder=dense_encoder, sparse_encoder=sparse_encoder
    ) as engine:
        yield engine


tenant_specs = st.lists(
    st.tuples(
        st.integers(0, 2),  # org index
        st.sampled_from(ID_POOL),  # user id
        st.sampled_from(ID_POOL),  # agent id
        st.sampled_from(NAME_POOL),
        st.lists(st.sampled_from(TEXT_POOL), min_size=1, max_size=3),
    ),
    min_size=2,
    max_size=5,
    unique_by=lambda spec: (spec[0], spec[1]),
)


def _build(memora: SyncMemora, specs: list[tuple[int, str, str, str, list[str]]]) -> list[Tenant]:
    run = next(_ORG_COUNTER)
    orgs = [f"org{run}x{i}" for i in range(3)]
    for org_id in orgs:
        memora.graph.create_organization("Acme", org_id=org_id)
    tenants: list[Tenant] = []
    agents: set[tuple[str, str]] = set()
    for org_index, user_id, agent_id, name, texts in specs:
        org_id = orgs[org_index]
        memora.graph.create_user(org_id, name, user_id=user_id)
        if (org_id, agent_id) not in agents:
            memora.graph.create_agent(org_id, "Jarvis", agent_id=agent_id)
            agents.add((org_id, agent_id))
        tenant = Tenant(org_id, user_id, agent_id)
        messages = [{"role": "user" if i % 2 == 0 else "assistant", "content": text}
                    for i, text in enumerate(texts)]  # fmt: skip
        iid, _ = memora.save_or_update_interaction_and_memories(org_id, user_id, agent_id, messages)
        tenant.interaction_ids.add(iid)
        tenant.memory_ids = {
            m.memory_id for m in memora.graph.get_all_user_memories(org_id, user_id)
        }
        tenants.append(tenant)
    return tenants


def _check_reads(
    memora: SyncMemora, me: Tenant, tenants: list[Tenant], *, search: bool = True
) -> None:
    listed = memora.graph.get_all_user_memories(me.org_id, me.user_id)
    assert {m.memory_id for m in listed} == me.memory_ids
    interactions = memora.graph.get_all_user_interactions(me.org_id, me.user_id)
    assert {i.interaction_id for i in interactions} == me.interaction_ids
    assert all(m.memory_id in me.memory_ids for i in interactions for m in i.memories)
    if not search:
        return
    org_memories = set().union(*(t.memory_ids for t in tenants if t.org_id == me.org_id))
    for found in memora.search_memories_as_batch(me.org_id, QUERIES, user_id=me.user_id):
        assert {m.memory_id for m in found} <= me.memory_ids
        assert all((m.org_id, m.user_id) == (me.org_id, me.user_id) for m in found)
    org_scope = memora.search_memories_as_batch(
        me.org_id, QUERIES, memory_search_scope=MemorySearchScope.ORGANIZATION
    )
    for found in org_scope:
        assert {m.memory_id for m in found} <= org_memories
    one = memora.search_memories_as_one(
        me.org_id, me.user_id, QUERIES, agent_id=me.agent_id, search_across_agents=False
    )
    assert {m.memory_id for m in one} <= me.memory_ids
    assert all(m.agent_id == me.agent_id for m in one)
    _recalled, ids = memora.recall_memories_for_message(me.org_id, me.user_id, TEXT_POOL[0])
    assert set(ids) <= me.memory_ids
    for memory_id in me.memory_ids:
        history = memora.graph.get_user_memory_history(me.org_id, me.user_id, memory_id)
        assert {m.memory_id for m in history} <= me.memory_ids


def _check_cross_access(memora: SyncMemora, me: Tenant, other: Tenant) -> None:
    """``me`` names ``other``'s ids: every read misses, every write is refused or a no-op."""
    for memory_id in other.memory_ids:
        with pytest.raises(MemoryNotFoundError):
            memora.graph.get_user_memory(me.org_id, me.user_id, memory_id)
        with pytest.raises(MemoryNotFoundError):
            memora.graph.get_user_memory_history(me.org_id, me.user_id, memory_id)
        ref = {"memory_id": memory_id, "org_id": me.org_id, "user_id": me.user_id}
        assert memora.graph.fetch_user_memories_resolved([ref]) == []
        memora.graph.delete_user_memory(me.org_id, me.user_id, memory_id)  # a no-op
    for iid in other.interaction_ids:
        with pytest.raises(InteractionNotFoundError):
            memora.graph.get_interaction(me.org_id, me.user_id, iid)
        with pytest.raises(InteractionNotFoundError):
            memora.save_or_update_interaction_and_memories(
                me.org_id, me.user_id, me.agent_id,
                [{"role": "user", "content": "hijack"}], interaction_id=iid,
            )  # fmt: skip
        memora.graph.delete_user_interaction_and_its_memories(me.org_id, me.user_id, iid)
    if other.org_id != me.org_id:
        if not _exists(memora, me.org_id, other.user_id):
            with pytest.raises(UserNotFoundError):
                memora.graph.get_all_user_memories(me.org_id, other.user_id)
        if not _agent_exists(memora, me.org_id, other.agent_id):
            with pytest.raises(AgentNotFoundError):
                memora.save_or_update_interaction_and_memories(
                    me.org_id, me.user_id, other.agent_id, [{"role": "user", "content": "x"}]
                )


def _exists(memora: SyncMemora, org_id: str, user_id: str) -> bool:
    return any(u.user_id == user_id for u in memora.graph.get_all_org_users(org_id))


def _agent_exists(memora: SyncMemora, org_id: str, agent_id: str) -> bool:
    return any(a.agent_id == agent_id for a in memora.graph.get_all_org_agents(org_id))


@settings(
    max_examples=8,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(specs=tenant_specs, victim=st.integers(0, 4))
def test_no_path_crosses_tenants(memora: SyncMemora, specs: list, victim: int) -> None:  # type: ignore[type-arg]
    """If this fails, check the org_id / user_id scoping of that path (graph queries, vector
    filters, resolution of search hits through the graph)."""
    tenants = _build(memora, specs)
    for me in tenants:
        _check_reads(memora, me, tenants)
        for other in tenants:
            if other is not me:
                _check_cross_access(memora, me, other)
    # Nothing above deleted anything: every tenant still has all of its data.
    for me in tenants:
        _check_reads(memora, me, tenants, search=False)
    # Deleting one tenant's user, then its org, leaves every other tenant intact.
    gone = tenants[victim % len(tenants)]
    memora.graph.delete_user(gone.org_id, gone.user_id)
    survivors = [t for t in tenants if t is not gone]
    for me in survivors:
        _check_reads(memora, me, survivors, search=me.org_id == gone.org_id)
    memora.graph.delete_organization(gone.org_id)
    survivors = [t for t in survivors if t.org_id != gone.org_id]
    for me in survivors:
        _check_reads(memora, me, survivors)
        points = memora.portal.run(memora.aio.vector_db.count(me.org_id, me.user_id))
        assert points == len(me.memory_ids)


def test_raw_text_never_reveals_another_users_name(memora: SyncMemora) -> None:
    """If this fails, check that only a memory's own user / agent placeholders are resolved."""
    org = memora.graph.create_organization("Acme").org_id
    memora.graph.create_user(org, "Secret Name", user_id="victim")
    memora.graph.create_user(org, "Eve", user_id="eve")
    memora.graph.create_agent(org, "Jarvis", agent_id="a1")
    text = "who is user_victim ?"
    memora.save_or_update_interaction_and_memories(
        org, "eve", "a1", [{"role": "user", "content": text}], infer=False
    )
    [memory] = memora.graph.get_all_user_memories(org, "eve")
    assert "Secret Name" not in memory.memory
    assert memory.memory == text
