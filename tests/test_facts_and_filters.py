"""Metadata, facts, edits and filters through ``Memora`` on the embedded stores (real model).

The comparison model is scripted (the one allowed double); storage, search, filtering and
resolution are real.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from memora_engine import Memora, SyncMemora
from memora_engine.embeddings import DenseEncoder, SparseEncoder
from memora_engine.errors import ConfigurationError, InvalidInputError, MemoryNotFoundError
from memora_engine.facts_api import FACT_ROLE
from memora_engine.filters import matches, memory_record, parse_filter
from memora_engine.vector_db.config import HybridSearchConfig
from tests.scripted_provider import ScriptedProvider

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=timezone.utc)


@dataclass
class Tenant:
    org_id: str
    user_id: str
    agent_id: str


async def _tenant(memora: Memora, name: str = "Jake") -> Tenant:
    org = await memora.get_or_create_organization("acme", org_name="Acme")
    user = await memora.create_user(org.org_id, name)
    agent = await memora.get_or_create_agent(org.org_id, "jarvis", agent_label="Jarvis")
    return Tenant(org.org_id, user.user_id, agent.agent_id)


# ------------------------------------------------------------------------------ facts
async def test_add_memories_stores_facts_verbatim_with_sources_and_metadata(
    memora: Memora, provider: ScriptedProvider
) -> None:
    """If this fails, check FactManagement.add_memories (raw path) and metadata persistence."""
    t = await _tenant(memora)
    added = await memora.add_memories(
        t.org_id,
        t.user_id,
        t.agent_id,
        ["Jake is vegetarian", {"memory": "Jake lives in Oslo", "metadata": {"topic": "home"}}],
        metadata={"topic": "food", "source": "onboarding"},
        current_datetime=T0,
    )
    assert [m.memory for m in added] == ["Jake is vegetarian", "Jake lives in Oslo"]
    assert added[0].metadata == {"topic": "food", "source": "onboarding"}
    assert added[1].metadata == {"topic": "home"}  # its own metadata replaces the shared one
    assert [(s.role, s.content) for s in added[1].message_sources] == [
        (FACT_ROLE, "Jake lives in Oslo")
    ]
    assert all(m.obtained_at == T0 for m in added)
    assert provider.counts == {}  # verbatim: no model call
    # Metadata is returned on every read path.
    got = await memora.get_memory(t.org_id, t.user_id, added[1].memory_id)
    assert got.metadata == {"topic": "home"}
    listed = await memora.list_memories(t.org_id, t.user_id, filter={"topic": "food"})
    assert [m.memory_id for m in listed] == [added[0].memory_id]
    found = await memora.search_memories_as_one(
        t.org_id, t.user_id, ["where does Jake live"], filter={"topic": {"$in": ["food"]}}
    )
    assert [m.memory_id for m in found] == [added[0].memory_id]
    assert found[0].metadata == {"topic": "food", "source": "onboarding"}


async def test_add_memories_with_infer_starts_a_history_chain_that_inherits_metadata(
    memora: Memora, provider: ScriptedProvider
) -> None:
    """If this fails, check inference.compare_facts and metadata inheritance of new versions."""
    t = await _tenant(memora)
    [old] = await memora.add_memories(
        t.org_id, t.user_id, t.agent_id, ["Jake lives in Oslo"], metadata={"topic": "home"}
    )

    def contradict(stored: list[dict[str, Any]], candidates: list[dict[str, Any]]) -> dict:
        return {
            "new_memories": [],
            "contrary_memories": [
                {
                    "memory": candidates[0]["memory"],
                    "source_candidate_pos_id": candidates[0]["POS_ID"],
                    "contradicted_memory_id": stored[0]["memory_id"],
                }
            ],
        }

    provider.compare = contradict
    [new] = await memora.add_memories(
        t.org_id, t.user_id, t.agent_id, ["Jake moved to Bergen"], infer=True
    )
    assert provider.counts == {"comparison": 1}
    assert new.metadata == {"topic": "home"}  # inherited from the version it replaces
    chain = await memora.get_memory_history(t.org_id, t.user_id, new.memory_id)
    assert [m.memory_id for m in chain] == [new.memory_id, old.memory_id]
    current = await memora.list_memories(t.org_id, t.user_id, filter={"topic": "home"})
    assert [m.memory for m in current] == ["Jake moved to Bergen"]


async def test_add_memories_rejects_bad_input_and_writes_nothing(memora: Memora) -> None:
    """If this fails, check add_memories' boundary validation (nothing may be written)."""
    t = await _tenant(memora)
    bad: list[tuple[Any, dict[str, Any]]] = [
        ([], {}),
        (["  "], {}),
        ("one fact", {}),
        ([{"memory": "x y z", "tags": []}], {}),
        ([{"memory": "Jake likes tea", "metadata": {"agent_id": "x"}}], {}),
        (["Jake likes tea"], {"metadata": {"score": float("nan")}}),
        (["Jake likes tea"], {"metadata": {"k": {"nested": 1}}}),
    ]
    for facts, extra in bad:
        with pytest.raises(InvalidInputError):
            await memora.add_memories(t.org_id, t.user_id, t.agent_id, facts, **extra)
    assert await memora.list_memories(t.org_id, t.user_id) == []
    assert await memora.list_interactions(t.org_id, t.user_id) == []


async def test_add_memories_infer_needs_a_model(
    tmp_path: Path, dense_encoder: DenseEncoder, sparse_encoder: SparseEncoder
) -> None:
    """If this fails, check that infer=True without a model is a ConfigurationError."""
    async with await Memora.embedded(
        tmp_path / "raw", dense_encoder=dense_encoder, sparse_encoder=sparse_encoder
    ) as raw:
        t = await _tenant(raw)
        with pytest.raises(ConfigurationError):
            await raw.add_memories(t.org_id, t.user_id, t.agent_id, ["Jake x"], infer=True)


# ------------------------------------------------------------------------------ saves
async def test_raw_save_gives_its_metadata_to_every_memory(memora: Memora) -> None:
    """If this fails, check save_or_update_interaction_and_memories(metadata=...)."""
    t = await _tenant(memora)
    chat = [
        {"role": "user", "content": "I'm allergic to peanuts."},
        {"role": "assistant", "content": "Noted, no peanuts."},
    ]
    await memora.save_or_update_interaction_and_memories(
        t.org_id, t.user_id, t.agent_id, chat, infer=False, metadata={"channel": "web"}
    )
    memories = await memora.list_memories(t.org_id, t.user_id)
    assert len(memories) == 2
    assert all(m.metadata == {"channel": "web"} for m in memories)
    with pytest.raises(InvalidInputError, match="reserved"):
        await memora.save_or_update_interaction_and_memories(
            t.org_id, t.user_id, t.agent_id, chat, infer=False, metadata={"obtained_at": 1}
        )
    assert len(await memora.list_interactions(t.org_id, t.user_id)) == 1


# ------------------------------------------------------------------------------ edits
async def test_edit_memory_text_makes_a_new_version_and_metadata_edits_in_place(
    memora: Memora,
) -> None:
    """If this fails, check FactManagement.edit_memory (versioning, inheritance, index)."""
    t = await _tenant(memora)
    [v1] = await memora.add_memories(
        t.org_id, t.user_id, t.agent_id, ["Jake is 30 years old"], metadata={"topic": "age"}
    )
    v2 = await memora.edit_memory(t.org_id, t.user_id, v1.memory_id, memory="Jake is 31")
    assert v2.memory_id != v1.memory_id
    assert v2.memory == "Jake is 31"
    assert v2.metadata == {"topic": "age"}
    assert v2.interaction_id == v1.interaction_id
    assert [s.msg_position for s in v2.message_sources] == [0]
    chain = await memora.get_memory_history(t.org_id, t.user_id, v1.memory_id)
    assert [m.memory_id for m in chain] == [v2.memory_id, v1.memory_id]
    hits = await memora.search_memories_as_one(t.org_id, t.user_id, ["how old is Jake"])
    assert [m.memory_id for m in hits] == [v2.memory_id]
    # The old version can no longer get a new text.
    with pytest.raises(InvalidInputError, match="newer version"):
        await memora.edit_memory(t.org_id, t.user_id, v1.memory_id, memory="Jake is 32")
    # Metadata alone: replaced in place, same id, and the index follows.
    v2b = await memora.edit_memory(
        t.org_id, t.user_id, v2.memory_id, metadata={"topic": "profile", "verified": True}
    )
    assert v2b.memory_id == v2.memory_id
    assert v2b.metadata == {"topic": "profile", "verified": True}
    found = await memora.search_memories_as_one(
        t.org_id, t.user_id, ["how old is Jake"], filter={"verified": True}
    )
    assert [m.memory_id for m in found] == [v2.memory_id]
    assert (
        await memora.search_memories_as_one(
            t.org_id, t.user_id, ["how old is Jake"], filter={"topic": "age"}
        )
        == []
    )
    # Text and metadata together: the new version takes the given metadata.
    v3 = await memora.edit_memory(
        t.org_id, t.user_id, v2.memory_id, memory="Jake is 32", metadata={"topic": "age"}
    )
    assert v3.metadata == {"topic": "age"}


async def test_edit_memory_bad_input(memora: Memora) -> None:
    """If this fails, check edit_memory's validation: clear errors, nothing written."""
    t = await _tenant(memora)
    [m] = await memora.add_memories(t.org_id, t.user_id, t.agent_id, ["Jake likes tea"])
    with pytest.raises(InvalidInputError, match="needs"):
        await memora.edit_memory(t.org_id, t.user_id, m.memory_id)
    with pytest.raises(InvalidInputError):
        await memora.edit_memory(t.org_id, t.user_id, m.memory_id, memory="   ")
    with pytest.raises(InvalidInputError):
        await memora.edit_memory(t.org_id, t.user_id, m.memory_id, metadata={"k": float("inf")})
    with pytest.raises(MemoryNotFoundError):
        await memora.edit_memory(
            t.org_id, t.user_id, "00000000-0000-4000-8000-000000000000", memory="x y"
        )
    other = await _tenant(memora, "Eve")
    with pytest.raises(MemoryNotFoundError):
        await memora.edit_memory(other.org_id, other.user_id, m.memory_id, metadata={"a": 1})
    assert [x.memory_id for x in await memora.list_memories(t.org_id, t.user_id)] == [m.memory_id]
    assert (await memora.get_memory(t.org_id, t.user_id, m.memory_id)).metadata == {}


# ------------------------------------------------------------------------------ delete many
async def test_delete_memories_by_filter(memora: Memora) -> None:
    """If this fails, check delete_memories: graph and index, this user only."""
    t = await _tenant(memora)
    other = await _tenant(memora, "Eve")
    facts = ["Jake likes tea", "Jake likes jazz", "Jake has a cat"]
    await memora.add_memories(t.org_id, t.user_id, t.agent_id, facts[:2], metadata={"k": "a"})
    await memora.add_memories(t.org_id, t.user_id, t.agent_id, facts[2:], metadata={"k": "b"})
    await memora.add_memories(
        other.org_id, other.user_id, other.agent_id, ["Eve likes tea"], metadata={"k": "a"}
    )
    assert await memora.delete_memories(t.org_id, t.user_id, filter={"k": "a"}) == 2
    assert [m.memory for m in await memora.list_memories(t.org_id, t.user_id)] == [facts[2]]
    assert len(await memora.list_memories(other.org_id, other.user_id)) == 1
    assert await memora.search_memories_as_one(t.org_id, t.user_id, ["tea"]) != []
    hits = await memora.search_memories_as_one(t.org_id, t.user_id, ["Jake likes tea"])
    assert all(m.metadata == {"k": "b"} for m in hits)
    with pytest.raises(InvalidInputError, match="non-empty filter"):
        await memora.delete_memories(t.org_id, t.user_id, filter={})
    with pytest.raises(InvalidInputError, match="operator"):
        await memora.delete_memories(t.org_id, t.user_id, filter={"k": {"$regex": "a"}})
    assert len(await memora.list_memories(t.org_id, t.user_id)) == 1


# ------------------------------------------------------------------------------ filters
async def test_filters_on_builtin_fields_and_bad_filters(memora: Memora) -> None:
    """If this fails, check the built-in fields (agent_id, interaction_id, obtained_at)."""
    t = await _tenant(memora)
    early = await memora.add_memories(
        t.org_id, t.user_id, t.agent_id, ["Jake plays chess"], current_datetime=T0
    )
    late = await memora.add_memories(
        t.org_id,
        t.user_id,
        t.agent_id,
        ["Jake plays tennis"],
        current_datetime=T0 + timedelta(days=30),
    )
    since = {"obtained_at": {"$gte": (T0 + timedelta(days=1)).isoformat()}}
    found = await memora.search_memories_as_one(t.org_id, t.user_id, ["games"], filter=since)
    assert [m.memory_id for m in found] == [late[0].memory_id]
    by_ix = {"interaction_id": early[0].interaction_id}
    listed = await memora.list_memories(t.org_id, t.user_id, filter=by_ix)
    assert [m.memory_id for m in listed] == [early[0].memory_id]
    by_agent = {"agent_id": {"$ne": t.agent_id}}
    assert (
        await memora.search_memories_as_one(t.org_id, t.user_id, ["games"], filter=by_agent) == []
    )
    for bad in ({"$where": 1}, {"k": {"$gt": "a"}}, {"obtained_at": {"$eq": "x"}}, [1]):
        with pytest.raises(InvalidInputError):
            await memora.search_memories_as_one(t.org_id, t.user_id, ["games"], filter=bad)


async def test_filtered_search_is_the_unfiltered_ranking_minus_non_matching(
    tmp_path: Path, dense_encoder: DenseEncoder, sparse_encoder: SparseEncoder
) -> None:
    """If this fails, check the push-down: a filtered search must return the unfiltered order
    with non-matching memories removed, up to ``limit`` (dense scores do not depend on which
    other memories are searched, so the property is exact there)."""
    rng = random.Random(7)
    async with await Memora.embedded(
        tmp_path / "p",
        dense_encoder=dense_encoder,
        sparse_encoder=sparse_encoder,
        search_config=HybridSearchConfig(mode="dense", dense_candidates=200),
    ) as memora:
        t = await _tenant(memora)
        topics, colours = ["food", "work", "home", "sport"], ["red", "blue"]
        facts = [
            {
                "memory": f"Jake note {i}: {rng.choice(['tea', 'chess', 'Oslo', 'jazz'])}",
                "metadata": {
                    "topic": rng.choice(topics),
                    "score": rng.randint(0, 9),
                    **({"tags": rng.sample(colours, rng.randint(0, 2))} if i % 3 else {}),
                    **({"done": rng.random() < 0.5} if i % 2 else {}),
                },
            }
            for i in range(60)
        ]
        await memora.add_memories(t.org_id, t.user_id, t.agent_id, facts)
        filters = [
            {"topic": "food"},
            {"score": {"$gte": 5}},
            {"tags": "red"},
            {"tags": {"$exists": False}},
            {"done": {"$ne": True}},
            {"$or": [{"topic": {"$in": ["home", "sport"]}}, {"score": {"$lt": 2}}]},
            {"$not": {"topic": "work"}, "tags": {"$nin": ["blue"]}},
        ]
        for query in ("tea", "chess in Oslo"):
            full = await memora.search_memories_as_one(t.org_id, t.user_id, [query], limit=200)
            assert len(full) == 60
            for spec in filters:
                tree = parse_filter(spec)
                expected = [m.memory_id for m in full if matches(tree, memory_record(m))]
                assert expected, spec
                for limit in (3, 200):
                    got = await memora.search_memories_as_one(
                        t.org_id, t.user_id, [query], limit=limit, filter=spec
                    )
                    assert [m.memory_id for m in got] == expected[:limit], (spec, limit)


def test_sync_facade_has_facts_edits_and_filters(
    tmp_path: Path, dense_encoder: DenseEncoder, sparse_encoder: SparseEncoder
) -> None:
    """If this fails, regenerate SyncMemora (python -m memora_engine._codegen)."""
    with SyncMemora.embedded(
        tmp_path / "s", dense_encoder=dense_encoder, sparse_encoder=sparse_encoder
    ) as memora:
        org = memora.get_or_create_organization("acme", org_name="Acme")
        user = memora.create_user(org.org_id, "Jake")
        agent = memora.get_or_create_agent(org.org_id, "jarvis", agent_label="Jarvis")
        [m] = memora.add_memories(
            org.org_id, user.user_id, agent.agent_id, ["Jake likes tea"], metadata={"n": 1}
        )
        edited = memora.edit_memory(org.org_id, user.user_id, m.memory_id, metadata={"n": 2})
        assert edited.metadata == {"n": 2}
        assert memora.list_memories(org.org_id, user.user_id, filter={"n": {"$gt": 1}}) != []
        assert memora.delete_memories(org.org_id, user.user_id, filter={"n": 2}) == 1


async def test_related_memories_are_searched_with_names_not_placeholders() -> None:
    """If this fails, check inference._compare: the index holds resolved names, so the related
    search must not send ``user_<id>`` placeholders (BM25 and the embedding miss them)."""
    from memora_engine import inference, pipeline
    from memora_engine.prompts import Prompts
    from memora_engine.schema.models import Agent, User
    from memora_engine.testing.scripted import ScriptedChatModel

    sent: list[list[str]] = []

    async def search_related(queries: list[str]) -> list[Any]:
        sent.append(queries)
        return []

    user = User(org_id="acme", user_id="u1", user_name="Jake", created_at=T0)
    agent = Agent(org_id="acme", agent_id="a1", agent_label="Jarvis", created_at=T0)
    new, contrary = await inference.compare_facts(
        ScriptedChatModel(responder=lambda _m: "unused"),  # type: ignore[arg-type]
        [pipeline.Candidate("user_u1 asked agent_a1 about tea", (0,))],
        prompts=Prompts(),
        guards=pipeline.OutputGuards(),
        search_related=search_related,
        user=user,
        agent=agent,
        now=T0,
        max_retries=0,
    )
    assert sent == [["Jake asked Jarvis about tea"]]
    assert [m.memory for m in new] == ["user_u1 asked agent_a1 about tea"]
    assert contrary == []


async def test_embedded_and_settings_pass_metadata_indexes_to_the_index(
    tmp_path: Path,
    dense_encoder: DenseEncoder,
    sparse_encoder: SparseEncoder,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """If this fails, check Memora.embedded(metadata_indexes=) / MEMORA_METADATA_INDEXES and
    store_factory: the lever that makes filtered search fast must reach the vector store."""
    from memora_engine.settings import MemoraSettings

    monkeypatch.setenv("MEMORA_METADATA_INDEXES", '{"priority": "float"}')
    assert MemoraSettings.load().metadata_indexes == {"priority": "float"}
    async with await Memora.embedded(
        tmp_path / "ix",
        dense_encoder=dense_encoder,
        sparse_encoder=sparse_encoder,
        metadata_indexes={"topic": "keyword"},
    ) as memora:
        store: Any = memora.vector_db
        schema = await store._run("info", lambda shard: shard.info().payload_schema)
        assert "metadata.topic" in schema
        assert "metadata.priority" not in schema  # the argument wins over the settings
        t = await _tenant(memora)
        await memora.add_memories(
            t.org_id, t.user_id, t.agent_id, ["Jake likes tea"], metadata={"topic": "food"}
        )
        found = await memora.search_memories_as_one(
            t.org_id, t.user_id, ["tea"], filter={"topic": "food"}
        )
        assert [m.memory for m in found] == ["Jake likes tea"]
    with pytest.raises(InvalidInputError, match="keyword"):
        await Memora.embedded(
            tmp_path / "bad",
            dense_encoder=dense_encoder,
            sparse_encoder=sparse_encoder,
            metadata_indexes={"topic": "text"},
        )


async def test_settings_switch_context_indexing_off(
    tmp_path: Path,
    dense_encoder: DenseEncoder,
    sparse_encoder: SparseEncoder,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """If this fails, check MemoraSettings.context_indexing reaching the store (store_factory)."""
    monkeypatch.setenv("MEMORA_CONTEXT_INDEXING", "false")
    async with await Memora.embedded(
        tmp_path / "off", dense_encoder=dense_encoder, sparse_encoder=sparse_encoder
    ) as memora:
        assert memora.vector_db.context_indexing is False  # type: ignore[attr-defined]
    monkeypatch.delenv("MEMORA_CONTEXT_INDEXING")
    async with await Memora.embedded(
        tmp_path / "on", dense_encoder=dense_encoder, sparse_encoder=sparse_encoder
    ) as memora:
        assert memora.vector_db.context_indexing is True  # type: ignore[attr-defined]
