"""Pure decisions of the save, search and recall flows (no I/O, no event loop)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence, Set
from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict, Field

from memora_engine.errors import InvalidInputError
from memora_engine.filters import Metadata
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
    "ExtractionReview",
    "OutputGuards",
    "RankedHit",
    "candidates_as_new",
    "candidates_from_extraction",
    "has_content",
    "keep_chosen",
    "plan_from_comparison",
    "rank_hits",
    "raw_memories",
    "review_extraction",
    "stamp_metadata",
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


class OutputGuards(BaseModel):
    """What a model-written memory must carry to be stored (the output guards).

    Override on an engine with ``memora.output_guards = OutputGuards(min_content_chars=12)``.

    Args:
        min_content_chars: Fewest characters of the text once names (placeholders) and spaces
            are removed.
        min_letters: Fewest letters in that text (``"29"`` or ``"..."`` carry no content).
        require_sources: A memory must cite at least one message of the conversation.

    Examples:
        >>> OutputGuards().min_content_chars
        6
    """

    model_config = ConfigDict(frozen=True)

    min_content_chars: int = Field(default=6, ge=1)
    min_letters: int = Field(default=3, ge=1)
    require_sources: bool = True


_PLACEHOLDER = re.compile(r"(?<![A-Za-z0-9_-])(?:user|agent)_[A-Za-z0-9][A-Za-z0-9_-]*")
_NOT_WORD = re.compile(r"[\W_]+")


def has_content(text: str, guards: OutputGuards) -> bool:
    """Whether ``text`` says something: enough characters and letters besides the names.

    Examples:
        >>> has_content("user_U is allergic to peanuts", OutputGuards())
        True
        >>> has_content("29", OutputGuards())
        False
    """
    rest = _PLACEHOLDER.sub(" ", text)
    compact = "".join(rest.split())
    letters = sum(ch.isalpha() for ch in compact)
    return len(compact) >= guards.min_content_chars and letters >= guards.min_letters


def _repeat_key(text: str) -> str:
    return _NOT_WORD.sub(" ", text.casefold()).strip()


@dataclass(frozen=True)
class ExtractionReview:
    """The candidates an extraction answer yields, and what the guards rejected (counts only)."""

    candidates: list[Candidate]
    proposed: int
    rejected: Mapping[str, int] = field(default_factory=dict)

    @property
    def rejected_total(self) -> int:
        """Items the guards dropped."""
        return sum(self.rejected.values())


def review_extraction(
    response: MemoryExtractionResponse,
    *,
    user_id: str,
    agent_id: str,
    message_count: int,
    guards: OutputGuards | None = None,
) -> ExtractionReview:
    """Apply the output guards to an extraction answer: placeholders in, junk out.

    Rejection reasons: ``no_content`` (empty, too short, only digits or punctuation),
    ``unstorable`` (too long, NUL or lone surrogate), ``no_source`` (cites no message of the
    conversation once out-of-range ids are dropped), ``repeat`` (same words as an earlier item).
    """
    rules = guards or OutputGuards()
    rejected: Counter[str] = Counter()
    seen: set[str] = set()
    out: list[Candidate] = []
    items = response.all_memories()
    for item in items:
        text = replace_model_tokens(item.memory, user_id=user_id, agent_id=agent_id).strip()
        sources = tuple(sorted({p for p in item.msg_source_ids if 0 <= p < message_count}))
        key = _repeat_key(text)
        if not text or not has_content(text, rules):
            rejected["no_content"] += 1
        elif not _storable(text):
            rejected["unstorable"] += 1
        elif rules.require_sources and not sources:
            rejected["no_source"] += 1
        elif key in seen:
            rejected["repeat"] += 1
        else:
            seen.add(key)
            out.append(Candidate(text=text, sources=sources))
    return ExtractionReview(candidates=out, proposed=len(items), rejected=dict(rejected))


def candidates_from_extraction(
    response: MemoryExtractionResponse,
    *,
    user_id: str,
    agent_id: str,
    message_count: int,
    guards: OutputGuards | None = None,
) -> list[Candidate]:
    """The candidates of :func:`review_extraction` (the counts dropped)."""
    return review_extraction(
        response, user_id=user_id, agent_id=agent_id, message_count=message_count, guards=guards
    ).candidates


def plan_from_comparison(
    response: MemoryComparisonResponse,
    candidates: Sequence[Candidate],
    *,
    shown_memory_ids: Set[str],
    user_id: str,
    agent_id: str,
    guards: OutputGuards | None = None,
) -> tuple[list[MemoryToStore], list[ContraryMemoryToStore]]:
    """Map the comparison answer back to candidates' sources.

    Items naming a POS_ID outside the candidates are dropped; a contradiction naming a memory id
    the model was not shown is stored as a new memory (it cannot be linked safely); a rewritten
    text that fails the guards is replaced by the candidate's own text.
    """
    rules = guards or OutputGuards()
    new: list[MemoryToStore] = []
    contrary: list[ContraryMemoryToStore] = []
    used_texts: set[str] = set()

    def text_and_sources(memory: str, position: int) -> tuple[str, list[int]] | None:
        if not 0 <= position < len(candidates):
            return None
        text = replace_model_tokens(memory, user_id=user_id, agent_id=agent_id).strip()
        if not text or not _storable(text) or not has_content(text, rules):
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


def candidates_as_new(
    candidates: Sequence[Candidate],
    *,
    existing_texts: Iterable[str] = (),
    names: Mapping[str, str] | None = None,
) -> list[MemoryToStore]:
    """Store candidates as new memories, minus those whose words equal an existing memory's.

    Used when there is nothing to compare with, and when the comparison answer stayed invalid
    (the valid extraction is kept; see the README, "Models"). ``existing_texts`` are read
    forms (names resolved); ``names`` maps a candidate's placeholders to those names.

    Examples:
        >>> kept = candidates_as_new(
        ...     [Candidate("user_U likes tea", (0,)), Candidate("user_U has a cat", (1,))],
        ...     existing_texts=["Jake likes tea."], names={"user_U": "Jake"})
        >>> [m.memory for m in kept]
        ['user_U has a cat']
    """
    known = {_repeat_key(t) for t in existing_texts}

    def read_form(text: str) -> str:
        for placeholder, name in (names or {}).items():
            text = text.replace(placeholder, name)
        return text

    return [
        MemoryToStore(memory=c.text, source_msg_block_pos=list(c.sources))
        for c in candidates
        if _repeat_key(read_form(c.text)) not in known
    ]


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


def stamp_metadata(
    memories: Sequence[MemoryToStore],
    contrary: Sequence[ContraryMemoryToStore],
    metadata: Metadata | None,
) -> tuple[list[MemoryToStore], list[ContraryMemoryToStore]]:
    """Give a save's memories the caller's (validated) metadata.

    With ``metadata=None`` new memories get none and contrary ones inherit the metadata of the
    version they replace (the graph store fills it in).
    """
    if metadata is None:
        return list(memories), list(contrary)
    return (
        [m.model_copy(update={"metadata": dict(metadata)}) for m in memories],
        [m.model_copy(update={"metadata": dict(metadata)}) for m in contrary],
    )


def keep_chosen(memories: Sequence[Memory], chosen_ids: Set[str]) -> list[Memory]:
    """The memories whose ids the filter model chose, in their original (relevance) order."""
    return [m for m in memories if m.memory_id in chosen_ids]
