"""Pure fusion, time boost, MMR, near-duplicates and the reranker hook (no model download)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

import pytest
from langchain_core.callbacks import Callbacks
from langchain_core.documents import BaseDocumentCompressor, Document

from memora_engine.errors import InvalidInputError
from memora_engine.rerank import apply_reranker, drop_near_duplicates, mmr_order, word_overlap
from memora_engine.schema.models import Memory
from memora_engine.temporal import TimeRange
from memora_engine.vector_db.fusion import boost_in_range, fuse_dbsf, fuse_rrf

MAY = datetime(2023, 5, 10, tzinfo=timezone.utc)
JUNE = datetime(2023, 6, 10, tzinfo=timezone.utc)


def memory(n: int, text: str) -> Memory:
    return Memory(
        org_id="org",
        user_id="user",
        agent_id="agent",
        memory_id=f"00000000-0000-4000-8000-{n:012d}",
        memory=text,
        obtained_at=MAY,
    )


def test_rrf_sums_weighted_reciprocal_ranks() -> None:
    fused = fuse_rrf([[("a", 9.0), ("b", 8.0)], [("b", 1.0), ("c", 0.5)]], k=2, weights=[1.0, 2.0])
    assert [item for item, _ in fused] == ["b", "c", "a"]
    assert fused[0][1] == pytest.approx(1 / 3 + 2 / 2)


def test_rrf_needs_one_weight_per_list() -> None:
    with pytest.raises(ValueError, match="one weight"):
        fuse_rrf([[("a", 1.0)]], weights=[1.0, 1.0])


def test_dbsf_uses_score_distributions() -> None:
    # "a" wins the first list by far; "c" barely wins the second: the margin decides.
    fused = fuse_dbsf(
        [[("a", 10.0), ("b", 1.0), ("c", 0.9)], [("c", 0.51), ("a", 0.5), ("b", 0.49)]]
    )
    assert fused[0][0] == "a"
    assert fuse_dbsf([[], [("x", 1.0)]]) == [("x", 0.5)]


def test_boost_promotes_hits_inside_the_range_only() -> None:
    when = {"old": MAY, "new": JUNE}
    hits = [("old", 1.0), ("new", 0.6)]
    june = TimeRange(
        datetime(2023, 6, 1, tzinfo=timezone.utc), datetime(2023, 7, 1, tzinfo=timezone.utc)
    )
    boosted = boost_in_range(hits, when.__getitem__, june, factor=2.0)
    assert boosted == [("new", 1.2), ("old", 1.0)]
    assert boost_in_range(hits, when.__getitem__, june, factor=1.5)[0][0] == "old"


def test_mmr_demotes_near_copies() -> None:
    texts = {"a": "Jake likes green tea", "b": "Jake likes green tea a lot", "c": "Jake owns a dog"}
    order = mmr_order(
        [("a", 1.0), ("b", 0.95), ("c", 0.9)],
        lambda x, y: word_overlap(texts[x], texts[y]),
        lambda_=0.5,
    )
    assert order == ["a", "c", "b"]
    assert mmr_order([("a", 1.0), ("b", 0.5)], lambda x, y: 1.0, lambda_=1.0) == ["a", "b"]
    assert mmr_order([], lambda x, y: 0.0) == []
    with pytest.raises(InvalidInputError):
        mmr_order([("a", 1.0)], lambda x, y: 0.0, lambda_=2.0)


def test_near_duplicates_keep_the_first() -> None:
    kept = drop_near_duplicates(
        [memory(1, "Jake likes tea."), memory(2, "jake likes TEA"), memory(3, "Jake owns a dog")]
    )
    assert [m.memory_id[-1] for m in kept] == ["1", "3"]


class ReverseCompressor(BaseDocumentCompressor):
    """A deterministic LangChain compressor: reverses the order and drops 'noise' documents."""

    def compress_documents(
        self, documents: Sequence[Document], query: str, callbacks: Callbacks | None = None
    ) -> Sequence[Document]:
        kept = [d for d in documents if "noise" not in d.page_content]
        return [
            Document(page_content=d.page_content, metadata=dict(d.metadata)) for d in kept[::-1]
        ]


async def test_reranker_accepts_a_langchain_compressor() -> None:
    memories = [memory(1, "first"), memory(2, "noise"), memory(3, "third")]
    ranked = await apply_reranker(ReverseCompressor(), "q", memories)
    assert [m.memory for m in ranked] == ["third", "first"]


async def test_reranker_accepts_sync_and_async_callables() -> None:
    memories = [memory(1, "b tea"), memory(2, "a tea")]

    def by_text(query: str, items: list[Memory]) -> list[Memory]:
        return sorted(items, key=lambda m: m.memory)

    async def first_only(query: str, items: list[Memory]) -> list[Memory]:
        return items[:1]

    assert [m.memory for m in await apply_reranker(by_text, "tea", memories)] == ["a tea", "b tea"]
    assert [m.memory for m in await apply_reranker(first_only, "tea", memories)] == ["b tea"]


async def test_reranker_cannot_invent_memories() -> None:
    stranger = memory(9, "from another user")

    def sneaky(query: str, items: list[Memory]) -> list[Any]:
        return [stranger, items[0], items[0], "junk"]

    assert [m.memory_id for m in await apply_reranker(sneaky, "q", [memory(1, "x")])] == [
        memory(1, "x").memory_id
    ]


async def test_bad_reranker_is_refused() -> None:
    with pytest.raises(InvalidInputError):
        await apply_reranker(42, "q", [memory(1, "x")])
