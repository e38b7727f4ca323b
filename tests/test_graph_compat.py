"""``memora.graph``: the original guides' method names, typed, routed through Memora's API."""

from __future__ import annotations

import ast
import inspect
from collections.abc import AsyncIterator
from datetime import datetime, timezone
from pathlib import Path

import pytest

from memora_engine import Memora, SyncMemora
from memora_engine import graph_compat as graph_compat_module
from memora_engine.embeddings import DenseEncoder, SparseEncoder
from memora_engine.errors import InvalidInputError, MemoryNotFoundError
from memora_engine.graph_compat import GraphNamespace
from memora_engine.graph_db.base import BaseGraphDB
from memora_engine.schema.storage import ContraryMemoryToStore, MemoriesAndInteraction
from memora_engine.sync import EventLoopPortal
from memora_engine.sync_facade import SyncGraphNamespace

#: Store methods the namespace leaves out on purpose (infrastructure / cross-tenant maintenance).
LEFT_OUT = {
    "setup",
    "close",
    "list_memories_for_indexing",
    "count_memories",
    "prepare_interaction_write",
    "commit_interaction_write",
    "delete_user_memories",
}
CHAT = [
    {"role": "user", "content": "I'm allergic to peanuts."},
    {"role": "assistant", "content": "Noted: no peanuts."},
]


@pytest.fixture
async def memora(
    tmp_path: Path, dense_encoder: DenseEncoder, sparse_encoder: SparseEncoder
) -> AsyncIterator[Memora]:
    async with await Memora.embedded(
        tmp_path / "m", dense_encoder=dense_encoder, sparse_encoder=sparse_encoder
    ) as memora:
        yield memora


def _store_methods() -> dict[str, inspect.Signature]:
    return {
        name: inspect.signature(member)
        for name, member in vars(BaseGraphDB).items()
        if not name.startswith("_") and callable(member) and name not in LEFT_OUT
    }


def test_namespace_keeps_every_store_method_name_and_positional_order() -> None:
    """If this fails, a user-callable graph method was added or reordered: mirror it in
    GraphNamespace (through a Memora method) or add it to LEFT_OUT and the module docstring."""
    for name, store_sig in _store_methods().items():
        member = getattr(GraphNamespace, name, None)
        assert member is not None, f"memora.graph.{name} is missing"
        ours = inspect.signature(member)
        shape = [(p.name, p.kind, p.default) for p in store_sig.parameters.values()]
        assert [(p.name, p.kind, p.default) for p in ours.parameters.values()] == shape, name
    assert hasattr(GraphNamespace, "get_all_interaction_memories")


def test_namespace_never_touches_a_store() -> None:
    """If this fails, GraphNamespace reaches a store: call a Memora method instead."""
    tree = ast.parse(inspect.getsource(graph_compat_module))
    touched = {
        node.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and node.attr in {"graph_db", "vector_db", "graph"}
    }
    assert touched == set()


async def test_the_guides_memory_management_flow(memora: Memora) -> None:
    """If this fails, check GraphNamespace's delegation (the original guide's section 5)."""
    assert isinstance(memora.graph, GraphNamespace)
    org = await memora.graph.create_organization("My Organization")
    user = await memora.graph.create_user(org.org_id, "Alice")
    agent = await memora.graph.create_agent(org.org_id, "Jenny, Personal AI", user_id=user.user_id)
    iid, _ = await memora.save_or_update_interaction_and_memories(
        org.org_id, user.user_id, agent.agent_id, CHAT
    )
    all_memories = await memora.graph.get_all_user_memories(org.org_id, user.user_id)
    assert sorted(m.memory for m in all_memories) == sorted(m["content"] for m in CHAT)
    from_interaction = await memora.graph.get_all_interaction_memories(
        org.org_id, user.user_id, iid
    )
    assert {m.memory_id for m in from_interaction} == {m.memory_id for m in all_memories}
    target = all_memories[0]
    history = await memora.graph.get_user_memory_history(org.org_id, user.user_id, target.memory_id)
    assert [m.memory_id for m in history] == [target.memory_id]
    assert await memora.vector_db.count(org_id=org.org_id) == 2
    assert await memora.graph.delete_user_memory(org.org_id, user.user_id, target.memory_id)
    # The delete went through the engine: the vector is gone too.
    assert await memora.vector_db.count(org_id=org.org_id) == 1
    with pytest.raises(MemoryNotFoundError):
        await memora.graph.get_user_memory(org.org_id, user.user_id, target.memory_id)
    assert not await memora.graph.delete_user_memory(org.org_id, user.user_id, target.memory_id)
    assert await memora.graph.get_all_user_agents(org.org_id, user.user_id) == [agent]
    assert [u.user_id for u in await memora.graph.get_all_org_users(org.org_id)] == [user.user_id]
    assert await memora.graph.delete_all_user_memories(org.org_id, user.user_id) == 1
    assert await memora.vector_db.count(org_id=org.org_id) == 0
    assert await memora.graph.delete_organization(org.org_id)
    assert await memora.graph.get_all_organizations() == []


async def test_restore_style_writes_and_resolution_to_the_newest_version(memora: Memora) -> None:
    """If this fails, check save/update_interaction_and_memories and fetch_user_memories_resolved
    (graph positional order: org, agent, user)."""
    org = await memora.graph.create_organization("Acme")
    alice = await memora.graph.create_user(org.org_id, "Alice")
    bob = await memora.graph.create_user(org.org_id, "Bob")
    agent = await memora.graph.create_agent(org.org_id, "Jarvis")
    when = datetime(2025, 1, 1, tzinfo=timezone.utc)
    record = MemoriesAndInteraction.model_validate(
        {
            "interaction": CHAT,
            "interaction_date": when,
            "memories": [{"memory": "Alice likes tea", "source_msg_block_pos": [0]}],
        }
    )
    iid, date = await memora.graph.save_interaction_with_memories(
        org.org_id, agent.agent_id, alice.user_id, record
    )
    assert date == when
    [old] = await memora.graph.get_all_interaction_memories(org.org_id, alice.user_id, iid)
    update = MemoriesAndInteraction(
        interaction=[*record.interaction, *record.interaction],
        interaction_date=when,
        contrary_memories=[
            ContraryMemoryToStore(
                memory="Alice now prefers coffee",
                source_msg_block_pos=[2],
                existing_contrary_memory_id=old.memory_id,
            )
        ],
    )
    await memora.graph.update_interaction_and_memories(
        org.org_id, agent.agent_id, alice.user_id, iid, update
    )
    links = await memora.graph.get_user_memory_links(org.org_id, alice.user_id)
    [(older, newer)] = links
    assert older == old.memory_id
    bob_iid, _ = await memora.graph.save_interaction_with_memories(
        org.org_id, agent.agent_id, bob.user_id, record
    )
    [bobs] = await memora.graph.get_all_interaction_memories(org.org_id, bob.user_id, bob_iid)

    def ref(user_id: str, memory_id: str) -> dict[str, str]:
        return {"org_id": org.org_id, "user_id": user_id, "memory_id": memory_id}

    resolved = await memora.graph.fetch_user_memories_resolved(
        [ref(alice.user_id, old.memory_id), ref(bob.user_id, bobs.memory_id)]
    )
    assert [m.memory_id for m in resolved] == [newer, bobs.memory_id]
    # Tenancy holds: Bob's id asked for as Alice's memory resolves to nothing.
    batch = await memora.graph.fetch_user_memories_resolved_batch(
        [[ref(alice.user_id, bobs.memory_id)], [ref(alice.user_id, newer)]]
    )
    assert [[m.memory_id for m in one] for one in batch] == [[], [newer]]
    with pytest.raises(InvalidInputError):
        await memora.graph.fetch_user_memories_resolved([{"memory_id": newer}])
    listed = await memora.graph.get_all_user_interactions(org.org_id, alice.user_id, False, False)
    assert [(i.interaction_id, i.messages, i.memories) for i in listed] == [(iid, [], [])]
    assert await memora.graph.delete_user_interaction_and_its_memories(
        org.org_id, alice.user_id, iid
    )
    assert await memora.vector_db.count(org_id=org.org_id, user_id=alice.user_id) == 0


def test_sync_graph_namespace(
    tmp_path: Path, dense_encoder: DenseEncoder, sparse_encoder: SparseEncoder
) -> None:
    """If this fails, check SyncMemora.graph (the generated SyncGraphNamespace)."""
    portal = EventLoopPortal(name="graph-compat-test")
    memora = SyncMemora.embedded(
        tmp_path / "m", portal=portal, dense_encoder=dense_encoder, sparse_encoder=sparse_encoder
    )
    try:
        assert isinstance(memora.graph, SyncGraphNamespace)
        org = memora.graph.create_organization("Acme")
        user = memora.graph.create_user(org.org_id, "Jake")
        renamed = memora.graph.update_user(org.org_id, user.user_id, "Jacob")
        assert memora.graph.get_user(org.org_id, user.user_id) == renamed
        agent = memora.graph.create_agent(org.org_id, "Jarvis")
        memora.save_or_update_interaction_and_memories(
            org.org_id, user.user_id, agent.agent_id, CHAT
        )
        assert len(memora.graph.get_all_user_memories(org.org_id, user.user_id, limit=1)) == 1
        assert memora.graph.delete_user(org.org_id, user.user_id)
        assert memora.graph.get_all_org_agents(org.org_id) == [agent]
        assert memora.portal.run(memora.aio.vector_db.count(org_id=org.org_id)) == 0
    finally:
        memora.close()
        portal.close()
