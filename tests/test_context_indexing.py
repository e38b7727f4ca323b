"""Context-aware indexing of raw turns through the engine: real SQLite, Qdrant Edge and MiniLM.

A short raw turn ("December 15th.") is indexed (BM25) with its context, persisted in the graph
store so reindex and metadata edits keep it, and never shown to a user.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from memora_engine import Memora
from memora_engine.embeddings import DenseEncoder, SparseEncoder
from memora_engine.errors import ConfigurationError
from memora_engine.graph_db.sqlite import SqliteGraphDB
from memora_engine.graph_db.sqlite.ddl import SCHEMA_VERSION
from memora_engine.service.shapes import call_shape
from memora_engine.transfer import export_jsonl, export_lines, import_jsonl
from memora_engine.vector_db.qdrant import QdrantDB
from memora_engine.vector_db.qdrant_edge import QdrantEdgeDB

#: Several questions answered by a bare date: alone, one date looks like another.
CHAT = [
    ("user", "I signed up for the charity run for the children's hospital."),
    ("assistant", "That's wonderful! When is the charity run?"),
    ("user", "December 15th."),
    ("assistant", "When is your sister's wedding?"),
    ("user", "June 2nd."),
    ("assistant", "When does the school term start?"),
    ("user", "September 4th."),
    ("assistant", "When did you move into the new flat?"),
    ("user", "March 3rd."),
    ("assistant", "When is the book club meeting?"),
    ("user", "November 20th."),
    ("assistant", "And the dentist?"),
    ("user", "December 1st."),
]
QUERY = "What date is the charity run?"
ANSWER = "December 15th."
CONTEXT = "user: I signed up"  # a piece of the answer's index text (never shown)


@dataclass
class Opened:
    memora: Memora
    org_id: str
    user_id: str
    agent_id: str

    async def top3(self) -> list[str]:
        hits = await self.memora.search_memories_as_one(self.org_id, self.user_id, [QUERY])
        return [h.memory for h in hits[:3]]


def _memora(
    root: Path, dense: DenseEncoder, sparse: SparseEncoder, *, context: bool = True, vec: str = "v"
) -> Memora:
    root.mkdir(parents=True, exist_ok=True)
    vectors = QdrantEdgeDB(
        root / vec, dense_encoder=dense, sparse_encoder=sparse, context_indexing=context
    )
    return Memora(vectors, SqliteGraphDB(root / "graph.db"))


async def _fill(memora: Memora) -> Opened:
    org = await memora.graph.create_organization("Acme")
    user = await memora.graph.create_user(org.org_id, "Jake")
    agent = await memora.graph.create_agent(org.org_id, "Jarvis")
    await memora.save_or_update_interaction_and_memories(
        org.org_id, user.user_id, agent.agent_id, [{"role": r, "content": c} for r, c in CHAT]
    )
    return Opened(memora, org.org_id, user.user_id, agent.agent_id)


@pytest.fixture
async def opened(
    tmp_path: Path, dense_encoder: DenseEncoder, sparse_encoder: SparseEncoder
) -> AsyncIterator[Opened]:
    async with _memora(tmp_path, dense_encoder, sparse_encoder) as memora:
        yield await _fill(memora)


async def test_short_turn_is_found_by_what_it_answers(
    tmp_path: Path, dense_encoder: DenseEncoder, sparse_encoder: SparseEncoder
) -> None:
    """If this fails, check the write plan sets index_text on raw turns and the Qdrant store
    computes the BM25 vector from it (context_indexing=True)."""
    async with _memora(tmp_path / "on", dense_encoder, sparse_encoder) as memora:
        assert ANSWER in await (await _fill(memora)).top3()
    # The same data indexed from the memory text alone: the bare date is lost among the others.
    async with _memora(tmp_path / "off", dense_encoder, sparse_encoder, context=False) as memora:
        assert ANSWER not in await (await _fill(memora)).top3()


async def test_index_text_is_persisted_for_indexing_reads_only(opened: Opened) -> None:
    """If this fails, check SQLite writes memories.index_text and only list_for_indexing reads
    it back (every other read leaves Memory.index_text None)."""
    graph = opened.memora.graph_db
    indexed = {m.memory: m for m in await graph.list_memories_for_indexing()}
    assert indexed[ANSWER].index_text is not None
    assert indexed[ANSWER].index_text.endswith(
        "assistant: That's wonderful! When is the charity run?\nuser: December 15th."
    )
    assert indexed[ANSWER].index_text.startswith("[")  # the date comes first
    assert indexed[CHAT[0][1]].index_text is not None  # the first turn: no previous message
    reads = await graph.get_all_user_memories(opened.org_id, opened.user_id)
    assert reads
    assert all(m.index_text is None for m in reads)
    hits = await opened.memora.search_memories_as_one(opened.org_id, opened.user_id, [QUERY])
    assert hits
    assert all(m.index_text is None for m in hits)


async def test_facts_that_are_not_a_message_get_no_index_text(opened: Opened) -> None:
    """If this fails, check the rule: only a memory equal to its single source message has an
    index text."""
    facts = await opened.memora.add_memories(
        opened.org_id, opened.user_id, opened.agent_id, ["Jake runs for the hospital."]
    )
    indexed = {m.memory_id: m for m in await opened.memora.graph_db.list_memories_for_indexing()}
    # A verbatim fact is the content of its own message (role "fact"): it gets a context too.
    assert indexed[facts[0].memory_id].index_text is not None
    edited = await opened.memora.edit_memory(
        opened.org_id, opened.user_id, facts[0].memory_id, memory="Jake runs for charity."
    )
    indexed = {m.memory_id: m for m in await opened.memora.graph_db.list_memories_for_indexing()}
    assert indexed[edited.memory_id].index_text is None


async def test_reindex_reproduces_context_indexing(
    tmp_path: Path, dense_encoder: DenseEncoder, sparse_encoder: SparseEncoder
) -> None:
    """If this fails, check reindex reads index_text from the graph (list_memories_for_indexing)."""
    async with _memora(tmp_path, dense_encoder, sparse_encoder) as memora:
        opened = await _fill(memora)
        ids = (opened.org_id, opened.user_id)
    # A fresh, empty vector folder over the same graph: reindex rebuilds it.
    async with _memora(tmp_path, dense_encoder, sparse_encoder, vec="v2") as memora:
        again = Opened(memora, *ids, agent_id=opened.agent_id)
        assert await again.top3() == []
        assert await memora.reindex() == len(CHAT)
        assert ANSWER in await again.top3()


async def test_metadata_edit_keeps_context_indexing(opened: Opened) -> None:
    """If this fails, check StoreCoordinator.update_memory_metadata re-indexes the memory in
    its indexing form (with index_text), not as read by get_user_memory."""
    memora = opened.memora
    (answer,) = [
        m for m in await memora.list_memories(opened.org_id, opened.user_id) if m.memory == ANSWER
    ]
    await memora.edit_memory(opened.org_id, opened.user_id, answer.memory_id, metadata={"k": 1})
    assert ANSWER in await opened.top3()
    hits = await memora.search_memories_as_one(
        opened.org_id, opened.user_id, [QUERY], filter={"k": 1}
    )
    assert [h.memory for h in hits] == [ANSWER]


async def test_index_text_never_leaves_the_engine(opened: Opened) -> None:
    """If this fails, check Memory.index_text is excluded from dumps (HTTP wire, exports)."""
    memora = opened.memora
    indexed = [m for m in await memora.graph_db.list_memories_for_indexing() if m.memory == ANSWER]
    memory = indexed[0]
    assert memory.index_text
    assert "index_text" not in memory.model_dump()
    assert CONTEXT not in memory.model_dump_json()
    assert "index_text" not in repr(memory)
    # What the HTTP service sends for a method returning memories.
    wire = call_shape(Memora.list_memories).result_adapter.dump_json([memory]).decode()
    assert "index_text" not in wire
    assert CONTEXT not in wire
    lines, _ = await export_lines(memora, org_id=opened.org_id)
    assert "index_text" not in lines
    assert CONTEXT not in lines
    # Equality ignores it: the indexing form equals the same memory as read elsewhere.
    assert memory == memory.model_copy(update={"index_text": None})


async def test_sqlite_version_2_file_gains_index_text_column(
    tmp_path: Path, dense_encoder: DenseEncoder, sparse_encoder: SparseEncoder
) -> None:
    """If this fails, check ddl._migrate adds memories.index_text to a version 2 file: old
    memories have none (indexed from their text), new raw turns get one."""
    async with _memora(tmp_path, dense_encoder, sparse_encoder) as memora:
        opened = await _fill(memora)
    raw = sqlite3.connect(tmp_path / "graph.db")
    raw.execute("ALTER TABLE memories DROP COLUMN index_text")
    raw.execute("UPDATE memora_schema SET version = 2")
    raw.commit()
    raw.close()
    async with _memora(tmp_path, dense_encoder, sparse_encoder) as memora:
        before = await memora.graph_db.list_memories_for_indexing()
        assert len(before) == len(CHAT)
        assert all(m.index_text is None for m in before)
        await memora.save_or_update_interaction_and_memories(
            opened.org_id,
            opened.user_id,
            opened.agent_id,
            [
                {"role": "user", "content": "When is the bake sale?"},
                {"role": "ai", "content": "Friday."},
            ],
        )
        after = {m.memory: m for m in await memora.graph_db.list_memories_for_indexing()}
        assert after["Friday."].index_text is not None
    raw = sqlite3.connect(tmp_path / "graph.db")
    try:
        assert raw.execute("SELECT version FROM memora_schema").fetchall() == [(SCHEMA_VERSION,)]
        assert SCHEMA_VERSION == 3
    finally:
        raw.close()


async def test_qdrant_client_store_uses_index_text_too(
    tmp_path: Path, dense_encoder: DenseEncoder, sparse_encoder: SparseEncoder
) -> None:
    """If this fails, check QdrantDB.upsert_memories passes sparse_texts like QdrantEdgeDB."""
    vectors = QdrantDB(
        location=":memory:", dense_encoder=dense_encoder, sparse_encoder=sparse_encoder
    )
    async with Memora(vectors, SqliteGraphDB(tmp_path / "graph.db")) as memora:
        assert ANSWER in await (await _fill(memora)).top3()


def test_context_indexing_switch_must_be_a_bool(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError):
        QdrantEdgeDB(tmp_path, context_indexing="no")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        QdrantDB(location=":memory:", context_indexing=1)  # type: ignore[arg-type]


async def test_export_import_round_trip_rebuilds_index_text(
    tmp_path: Path, dense_encoder: DenseEncoder, sparse_encoder: SparseEncoder
) -> None:
    """If this fails, check import writes memories through the write plan (the index text is
    derived again from the exported messages; the export itself does not carry it)."""
    async with _memora(tmp_path / "a", dense_encoder, sparse_encoder) as memora:
        opened = await _fill(memora)
        await export_jsonl(memora, tmp_path / "export.jsonl")
        original = {
            m.memory_id: m.index_text for m in await memora.graph_db.list_memories_for_indexing()
        }
    async with _memora(tmp_path / "b", dense_encoder, sparse_encoder) as memora:
        await import_jsonl(memora, tmp_path / "export.jsonl")
        restored = {
            m.memory_id: m.index_text for m in await memora.graph_db.list_memories_for_indexing()
        }
        assert restored == original
        again = Opened(memora, opened.org_id, opened.user_id, opened.agent_id)
        assert ANSWER in await again.top3()
