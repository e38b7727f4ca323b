"""SyncMemora cannot drift: it is generated from Memora, current, complete and working."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from pathlib import Path

import pytest

from memora_engine import Memora, SyncMemora
from memora_engine._codegen import TARGET, public_coroutine_methods, render
from memora_engine.embeddings import DenseEncoder, SparseEncoder
from memora_engine.graph_compat import GraphNamespace
from memora_engine.sync import EventLoopPortal
from memora_engine.sync_facade import SyncGraphNamespace

REGENERATE = "python -m memora_engine._codegen"


def test_generated_module_is_current() -> None:
    """If this fails, a public coroutine method changed: run the regenerate command."""
    assert TARGET.read_text(encoding="utf-8") == render(), (
        f"{TARGET.name} is out of date; regenerate it with: {REGENERATE}"
    )


@pytest.mark.parametrize(
    ("async_cls", "sync_cls"),
    [(Memora, SyncMemora), (GraphNamespace, SyncGraphNamespace)],
    ids=["Memora", "GraphNamespace"],
)
def test_every_public_coroutine_method_has_a_sync_twin_with_the_same_parameters(
    async_cls: type, sync_cls: type
) -> None:
    """If this fails, regenerate the sync twins (see the assertion message)."""
    methods = public_coroutine_methods(async_cls)
    assert len(methods) >= (30 if async_cls is Memora else 25)  # the walk found the mixins
    for name, method in methods.items():
        twin = getattr(sync_cls, name, None)
        assert twin is not None, f"{sync_cls.__name__}.{name} is missing; run {REGENERATE}"
        assert not inspect.iscoroutinefunction(twin), f"{sync_cls.__name__}.{name} is async"
        expected = inspect.signature(method)
        got = inspect.signature(twin)
        assert got.parameters == expected.parameters, f"{name}: run {REGENERATE}"
        assert got.return_annotation == expected.return_annotation, f"{name}: run {REGENERATE}"
        assert twin.__doc__ == f"Blocking :meth:`{async_cls.__name__}.{name}`."


def test_hand_written_methods_are_only_infrastructure() -> None:
    """If this fails, an API method was written by hand in sync_facade.py: generate it instead."""
    own = {n for n in vars(SyncMemora) if not n.startswith("_")}
    assert own == {"embedded", "from_settings", "setup", "close", "portal"}


@pytest.fixture
def sync_memora(
    tmp_path: Path, dense_encoder: DenseEncoder, sparse_encoder: SparseEncoder
) -> Iterator[SyncMemora]:
    portal = EventLoopPortal(name="sync-facade-test")
    memora = SyncMemora.embedded(
        tmp_path / "m", portal=portal, dense_encoder=dense_encoder, sparse_encoder=sparse_encoder
    )
    try:
        yield memora
    finally:
        memora.close()
        portal.close()


def test_sync_calls_end_to_end_on_sqlite_and_qdrant_edge(sync_memora: SyncMemora) -> None:
    """If this fails, check the generated twins' argument passing (positional and keyword)."""
    memora = sync_memora
    org = memora.create_organization("Acme")
    user = memora.get_or_create_user(org.org_id, "app-user-1", user_name="Jake")
    agent = memora.create_agent(org.org_id, "Jarvis", user.user_id)
    iid, _ = memora.save_or_update_interaction_and_memories(
        org.org_id,
        user.user_id,
        agent.agent_id,
        [{"role": "user", "content": "I'm allergic to peanuts."}],
        infer=False,
    )
    [found] = memora.search_memories_as_one(org.org_id, user.user_id, ["allergies"], limit=1)
    assert found.memory == "I'm allergic to peanuts."
    scored = memora.search_memories_with_scores(org.org_id, user.user_id, ["peanuts"])
    assert scored[0][0].memory_id == found.memory_id
    assert memora.get_current_memories(org.org_id, user.user_id, [found.memory_id]) == [found]
    assert [m.memory_id for m in memora.list_memories(org.org_id, user.user_id)] == [
        found.memory_id
    ]
    assert memora.get_interaction(org.org_id, user.user_id, iid, with_messages=False).messages == []
    assert memora.delete_memory(org.org_id, user.user_id, found.memory_id) is True
    assert memora.delete_memory(org.org_id, user.user_id, found.memory_id) is False
    assert memora.search_memories_as_one(org.org_id, user.user_id, ["allergies"]) == []
    assert memora.portal.run(memora.aio.vector_db.count(org_id=org.org_id)) == 0
