"""Pure decisions of the save, search and recall flows (no I/O, no event loop)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence, Set
from dataclasses import dataclass

from memora_engine.errors import InvalidInputError
from memora_engine.ids import check_encodable
from memora_engine.limits import MAX_MEMORY_CHARS
from memora_engine.placeholders import replace_model_tokens
from memora_engine.schema.extraction import MemoryComparisonResponse, MemoryExtractionResponse
from memora_engine.schema.models import Memory
from memora_engine.schema.storage import ContraryMemoryToStore, MemoryToStore, MessageIn
from memora_engine.vector_db.base import ScoredMemory

__all__ = [
    "RAW_MODE_ROLES",
    "Candidate",
    "RankedHit",
    "candidates_from_extraction",
    "keep_chosen",
    "plan_from_comparison",
    "rank_hits",
    "raw_memories",
]

#: Roles whose messages raw mode stores as memories (system and tool messages are skipped).
RAW_MODE_ROLES = frozenset({"user", "human", "assistant", "ai"})


@dataclass(frozen=True)
class Candidate:
    """A memory the extraction model proposed: stored-form text and source positions."""

    text: str
    sources: tuple[int, ...]


@dataclass(frozen=True)
class RankedHit:
    """A vector hit kept for resolution, with its best score over all queries."""

    memory_id: str
    org_id: str
    user_id: str
    score: float

    def ref(self) -> dict[str, str]:
        """The reference the graph store resolves."""
        return {"memory_id": self.memory_id, "org_id": self.org_id, "user_id": self.user_id}


def candidates_from_extraction(
    response: MemoryExtractionResponse, *, user_id: str, agent_id: str, message_count: int
) -> list[Candidate]:
    """Turn the model's passes into candidates: placeholders in, bad positions and repeats out."""
    seen: set[str] = set()
    out: list[Candidate] = []
    for item in response.all_memories():
        text = replace_model_tokens(item.memory, user_id=user_id, agent_id=agent_id).strip()
        if not text or text in seen or not _storable(text):
            continue
        seen.add(text)
        sources = tuple(sorted({p for p in item.msg_source_ids if 0 <= p < message_count}))
        out.append(Candidate(text=text, sources=sources))
    return out


def plan_from_comparison(
    response: MemoryComparisonResponse,
    candidates: Sequence[Candidate],
    *,
    shown_memory_ids: Set[str],
    user_id: str,
    agent_id: str,
) -> tuple[list[MemoryToStore], list[ContraryMemoryToStore]]:
    """Map the comparison answer back to candidates' sources.

    Items naming a POS_ID outside the candidates are dropped; a contradiction naming a memory id
    the model was not shown is stored as a new memory (it cannot be linked safely).
    """
    new: list[MemoryToStore] = []
    contrary: list[ContraryMemoryToStore] = []
    used_texts: set[str] = set()

    def text_and_sources(memory: str, position: int) -> tuple[str, list[int]] | None:
        if not 0 <= position < len(candidates):
            return None
        text = replace_model_tokens(memory, user_id=user_id, agent_id=agent_id).strip()
        if not text or not _storable(text):
            text = candidates[position].text
        if text in used_texts:
            return None
        used_texts.add(text)
        return text, list(candidates[position].sources)

    for item in response.contrary_memories:
        mapped = text_and_sources(item.memory, item.source_candidate_pos_id)
        if mapped is None:
            continue
        text, sources = mapped
        if item.contradicted_memory_id in shown_memory_ids:
            contrary.append(
                ContraryMemoryToStore(
                    memory=text,
                    source_msg_block_pos=sources,
                    existing_contrary_memory_id=item.contradicted_memory_id,
                )
            )
        else:
            new.append(MemoryToStore(memory=text, source_msg_block_pos=sources))
    for new_item in response.new_memories:
        mapped = text_and_sources(new_item.memory, new_item.source_candidate_pos_id)
        if mapped is not None:
            new.append(MemoryToStore(memory=mapped[0], source_msg_block_pos=mapped[1]))
    return new, contrary


def _storable(text: str) -> bool:
    """Whether a model-written memory text can be stored (size, no NUL or lone surrogate)."""
    if len(text) > MAX_MEMORY_CHARS:
        return False
    try:
        check_encodable(text, "memory")
    except InvalidInputError:
        return False
    return True


def rank_hits(
    per_query: Iterable[Sequence[ScoredMemory]], filter_out: Set[str] = frozenset()
) -> list[RankedHit]:
    """Flatten per-query hits: best score per memory, highest first, ``filter_out`` dropped."""
    best: dict[str, RankedHit] = {}
    for hits in per_query:
        for memory, score in hits:
            if memory.memory_id in filter_out:
                continue
            known = best.get(memory.memory_id)
            if known is None or score > known.score:
                best[memory.memory_id] = RankedHit(
                    memory.memory_id, memory.org_id, memory.user_id, float(score)
                )
    return sorted(best.values(), key=lambda hit: (-hit.score, hit.memory_id))


def raw_memories(messages: Sequence[MessageIn], positions: Iterable[int]) -> list[MemoryToStore]:
    """Raw mode: each user/assistant message at ``positions`` becomes a memory, verbatim."""
    out: list[MemoryToStore] = []
    for position in positions:
        message = messages[position]
        if message.role.lower() in RAW_MODE_ROLES and message.content.strip():
            out.append(MemoryToStore(memory=message.content, source_msg_block_pos=[position]))
    return out


def keep_chosen(memories: Sequence[Memory], chosen_ids: Set[str]) -> list[Memory]:
    """The memories whose ids the filter model chose, in their original (relevance) order."""
    return [m for m in memories if m.memory_id in chosen_ids]
