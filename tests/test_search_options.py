"""Optional search stages through Memora: time range, time-aware boost, reranker, dedupe, MMR.

Real embedded stores and the real MiniLM model; the reranker is a deterministic LangChain
``BaseDocumentCompressor`` (no model download).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import datetime, timezone
from pathlib import Path

import pytest
from langchain_core.callbacks import Callbacks
from langchain_core.documents import BaseDocumentCompressor, Document

from memora_engine import Memora
from memora_engine.embeddings import DenseEncoder, SparseEncoder
from memora_engine.errors import InvalidInputError, MemoryNotFoundError
from memora_engine.schema.models import Memory
from memora_engine.temporal import TimeRange

MAY = datetime(2023, 5, 8, 10, 0, tzinfo=timezone.utc)
JULY = datetime(2023, 7, 3, 10, 0, tzinfo=timezone.utc)
JULY_END = datetime(2023, 7, 20, 10, 0, tzinfo=timezone.utc)


@pytest.fixture
async def world(
    tmp_path: Path, dense_encoder: DenseEncoder, sparse_encoder: SparseEncoder
) -> AsyncIterator[tuple[Memora, str, str]]:
    async with await Memora.embedded(
        tmp_path / "m", dense_encoder=dense_encoder, sparse_encoder=sparse_encoder
    ) as memora:
        org = await memora.graph_db.create_organization("Acme")
        user = await memora.graph_db.create_user(org.org_id, "Jake")
        agent = await memora.graph_db.create_agent(org.org_id, "Jarvis")
        for when, text in (
            (MAY, "I went hiking in the Alps with my brother."),
            (MAY, "I went hiking in the Alps with my brother!"),
            (JULY, "I went hiking near the lake with my sister."),
            (JULY_END, "My sister moved to Berlin."),
        ):
            await memora.save_or_update_interaction_and_memories(
                org.org_id,
                user.user_id,
                agent.agent_id,
                [{"role": "user", "content": text}],
                current_datetime=when,
                infer=False,
            )
        yield memora, org.org_id, user.user_id


async def test_time_range_keeps_only_memories_obtained_inside(
    world: tuple[Memora, str, str],
) -> None:
    """If this fails, check retrieval._within (time_range pushed down as an obtained_at filter)."""
    memora, org, user = world
    july = TimeRange(
        datetime(2023, 7, 1, tzinfo=timezone.utc), datetime(2023, 8, 1, tzinfo=timezone.utc)
    )
    found = await memora.search_memories_as_one(org, user, ["hiking"], time_range=july)
    assert {m.obtained_at for m in found} <= {JULY, JULY_END}
    assert found[0].memory.startswith("I went hiking near the lake")
    batch = await memora.search_memories_as_batch(
        org, ["hiking", "Berlin"], user_id=user, time_range=july
    )
    assert all(m.obtained_at >= july.start for hits in batch for m in hits)  # type: ignore[operator]
    none = TimeRange(
        datetime(2020, 1, 1, tzinfo=timezone.utc), datetime(2020, 2, 1, tzinfo=timezone.utc)
    )
    assert await memora.search_memories_as_one(org, user, ["hiking"], time_range=none) == []


async def test_reference_time_boosts_the_time_a_query_names(world: tuple[Memora, str, str]) -> None:
    """If this fails, check temporal.resolve_time_range and the boost in SearchStages."""
    memora, org, user = world
    plain = await memora.search_memories_as_one(org, user, ["hiking with my brother"], limit=3)
    assert plain[0].obtained_at == MAY
    timed = await memora.search_memories_as_one(
        org, user, ["hiking with my brother last month"], limit=3, reference_time=JULY_END
    )
    # "last month" from 20 July is June (+7 days of slack): the July hike is promoted.
    assert timed[0].obtained_at == JULY
    scored = await memora.search_memories_with_scores(
        org, user, ["hiking in May"], reference_time=JULY_END, limit=2
    )
    assert [m.obtained_at for m, _ in scored] == [MAY, MAY]
    assert scored[0][1] >= scored[1][1]


async def test_recall_time_aware_uses_current_datetime(world: tuple[Memora, str, str]) -> None:
    memora, org, user = world
    recalled, _ = await memora.recall_memories_for_message(
        org, user, "where did I go hiking last month?", current_datetime=JULY_END, time_aware=True
    )
    assert recalled[0].obtained_at == JULY


class LastFirst(BaseDocumentCompressor):
    """Deterministic compressor: reverses the candidates and keeps three."""

    def compress_documents(
        self, documents: Sequence[Document], query: str, callbacks: Callbacks | None = None
    ) -> Sequence[Document]:
        return list(documents)[::-1][:3]


async def test_reranker_orders_the_top_candidates(world: tuple[Memora, str, str]) -> None:
    """If this fails, check rerank.apply_reranker and its place after graph resolution."""
    memora, org, user = world
    plain = await memora.search_memories_as_one(org, user, ["hiking"], limit=4)
    reranked = await memora.search_memories_as_one(
        org, user, ["hiking"], limit=4, reranker=LastFirst(), rerank_top_n=4
    )
    assert [m.memory_id for m in reranked] == [m.memory_id for m in plain][::-1][:3]

    seen: list[str] = []

    async def only_sister(query: str, memories: list[Memory]) -> list[Memory]:
        seen.append(query)
        return [m for m in memories if "sister" in m.memory]

    recalled, _ = await memora.recall_memories_for_message(
        org, user, "family trips", reranker=only_sister
    )
    assert recalled
    assert all("sister" in m.memory for m in recalled)
    assert seen == ["family trips"]


async def test_dedupe_and_mmr_demote_near_copies(world: tuple[Memora, str, str]) -> None:
    memora, org, user = world
    plain = await memora.search_memories_as_one(org, user, ["hiking in the Alps with my brother"])
    assert [m.memory[:30] for m in plain[:2]] == ["I went hiking in the Alps with"] * 2
    deduped = await memora.search_memories_as_one(
        org, user, ["hiking in the Alps with my brother"], dedupe=True
    )
    assert len(deduped) == len(plain) - 1
    diverse = await memora.search_memories_as_one(
        org, user, ["hiking in the Alps with my brother"], mmr_lambda=0.3
    )
    assert "Alps" not in diverse[1].memory
    assert {m.memory_id for m in diverse} == {m.memory_id for m in plain}


@pytest.mark.parametrize(
    "kwargs",
    [
        {"time_range": ("2023-01-01", "2023-02-01")},
        {"rerank_top_n": 0},
        {"mmr_lambda": 1.5},
        {"reranker": 42},
    ],
)
async def test_bad_options_are_refused(
    world: tuple[Memora, str, str], kwargs: dict[str, object]
) -> None:
    memora, org, user = world
    with pytest.raises(InvalidInputError):
        await memora.search_memories_as_one(org, user, ["hiking"], **kwargs)  # type: ignore[arg-type]


async def test_recall_queries_for_multi_hop_and_time_with_a_scripted_model(
    tmp_path: Path, dense_encoder: DenseEncoder, sparse_encoder: SparseEncoder
) -> None:
    """If this fails, check QUERY_GENERATION_SYSTEM (one query per fact, time words kept)."""
    from langchain_core.messages import BaseMessage

    from memora_engine.testing.scripted import ScriptedChatModel

    def write_queries(messages: Sequence[BaseMessage]) -> str:
        system = str(messages[0].content)
        # The prompt asks for one query per fact and for time words with their date.
        assert "one query per fact" in system
        assert "time words" in system
        return "<< sister's new job >>\n<< sister moved in July 2023 >>"

    model = ScriptedChatModel(responder=write_queries)
    async with await Memora.embedded(
        tmp_path / "q",
        dense_encoder=dense_encoder,
        sparse_encoder=sparse_encoder,
        memory_search_model=model,
    ) as memora:
        org = await memora.graph_db.create_organization("Acme")
        user = await memora.graph_db.create_user(org.org_id, "Jake")
        agent = await memora.graph_db.create_agent(org.org_id, "Jarvis")
        for when, text in (
            (MAY, "My sister got a new job as a nurse."),
            (MAY, "My sister is thinking about moving."),
            (JULY, "My sister moved to Berlin last weekend."),
            (JULY, "I bought a red bike."),
        ):
            await memora.save_or_update_interaction_and_memories(
                org.org_id,
                user.user_id,
                agent.agent_id,
                [{"role": "user", "content": text}],
                current_datetime=when,
                infer=False,
            )
        recalled, _ = await memora.recall_memories_for_message(
            org.org_id,
            user.user_id,
            "Did my sister's new job make her move?",
            current_datetime=JULY_END,
            time_aware=True,
        )
    texts = [m.memory for m in recalled]
    assert len(model.calls) == 1
    # Both facts of the two-hop question are found, the July move before the May thought.
    assert texts.index("My sister got a new job as a nurse.") < 3
    assert texts.index("My sister moved to Berlin last weekend.") < texts.index(
        "My sister is thinking about moving."
    )


async def test_memory_context_returns_the_messages_around_a_hit(
    tmp_path: Path, dense_encoder: DenseEncoder, sparse_encoder: SparseEncoder
) -> None:
    """If this fails, check RecordManagement.get_memory_context (neighbours of a hit's sources)."""
    chat = [
        {"role": "user", "content": "When is the charity run?"},
        {"role": "assistant", "content": "December 15th."},
        {"role": "user", "content": "Great, I will be there!"},
        {"role": "assistant", "content": "See you at the start line."},
    ]
    async with await Memora.embedded(
        tmp_path / "ctx", dense_encoder=dense_encoder, sparse_encoder=sparse_encoder
    ) as memora:
        org = await memora.create_organization("Acme")
        user = await memora.create_user(org.org_id, "Maria")
        agent = await memora.create_agent(org.org_id, "Coach")
        await memora.save_or_update_interaction_and_memories(
            org.org_id, user.user_id, agent.agent_id, chat, infer=False
        )
        memories = await memora.list_memories(org.org_id, user.user_id)
        answer = next(m for m in memories if m.memory == "December 15th.")
        around = await memora.get_memory_context(org.org_id, user.user_id, answer.memory_id)
        assert [m.content for m in around] == [c["content"] for c in chat[:3]]
        first = next(m for m in memories if m.memory == chat[0]["content"])
        wide = await memora.get_memory_context(org.org_id, user.user_id, first.memory_id, window=2)
        assert [m.msg_position for m in wide] == [0, 1, 2]
        alone = await memora.get_memory_context(
            org.org_id, user.user_id, answer.memory_id, window=0
        )
        assert [m.content for m in alone] == ["December 15th."]
        with pytest.raises(InvalidInputError):
            await memora.get_memory_context(org.org_id, user.user_id, answer.memory_id, window=51)
        other = await memora.create_user(org.org_id, "Eve")
        with pytest.raises(MemoryNotFoundError):
            await memora.get_memory_context(org.org_id, other.user_id, answer.memory_id)
