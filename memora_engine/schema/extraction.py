"""Structured outputs the extraction model returns (validated with pydantic).

Descriptions double as instructions to the model: they are part of the JSON schema it is shown.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "MAX_ITEMS_PER_LIST",
    "MAX_ITEM_CHARS",
    "MAX_SOURCES_PER_ITEM",
    "ContraryMemory",
    "ExtractedMemory",
    "MemoryComparisonResponse",
    "MemoryExtractionResponse",
    "NewGleanedMemory",
]


#: Most items in one list of a model answer: a looping model fails validation instead of
#: filling the output budget (providers that take a JSON schema enforce it while decoding).
MAX_ITEMS_PER_LIST = 40
#: Longest memory text in a model answer (memories are ~25 words, about 150 characters).
MAX_ITEM_CHARS = 500
#: Most message ids one memory may cite.
MAX_SOURCES_PER_ITEM = 20
#: Longest memory id a comparison answer may name.
_MAX_ID_CHARS = 64


class _LLMOutput(BaseModel):
    model_config = ConfigDict(extra="ignore")


class ExtractedMemory(_LLMOutput):
    """One memory extracted from the conversation."""

    memory: str = Field(
        max_length=MAX_ITEM_CHARS,
        description="A self-contained memory of at most ~25 words, using #user_#id# and "
        "#agent_#id# in place of the user's and the agent's names.",
    )
    msg_source_ids: list[int] = Field(
        default_factory=list,
        max_length=MAX_SOURCES_PER_ITEM,
        description="The MESSAGE BLOCK IDs this memory was taken from.",
    )


class MemoryExtractionResponse(_LLMOutput):
    """Memories in up to three passes; each later pass catches what earlier ones missed."""

    memories_first_pass: list[ExtractedMemory] | None = Field(
        default_factory=list, max_length=MAX_ITEMS_PER_LIST
    )
    memories_second_pass: list[ExtractedMemory] | None = Field(
        default_factory=list, max_length=MAX_ITEMS_PER_LIST
    )
    memories_third_pass: list[ExtractedMemory] | None = Field(
        default_factory=list, max_length=MAX_ITEMS_PER_LIST
    )

    def all_memories(self) -> list[ExtractedMemory]:
        """All passes concatenated in order, treating ``None`` as empty."""
        return [
            *(self.memories_first_pass or []),
            *(self.memories_second_pass or []),
            *(self.memories_third_pass or []),
        ]


class NewGleanedMemory(_LLMOutput):
    """A candidate that adds new information."""

    memory: str = Field(max_length=MAX_ITEM_CHARS, description="The memory text to store.")
    source_candidate_pos_id: int = Field(description="The POS_ID of the candidate it came from.")


class ContraryMemory(_LLMOutput):
    """A candidate that contradicts (updates) an existing memory."""

    memory: str = Field(max_length=MAX_ITEM_CHARS, description="The updated memory text to store.")
    source_candidate_pos_id: int = Field(description="The POS_ID of the candidate it came from.")
    contradicted_memory_id: str = Field(
        max_length=_MAX_ID_CHARS, description="The memory_id of the existing memory."
    )


class MemoryComparisonResponse(_LLMOutput):
    """Candidates sorted into new and contradicting; candidates in neither list are redundant."""

    new_memories: list[NewGleanedMemory] = Field(max_length=3 * MAX_ITEMS_PER_LIST)
    contrary_memories: list[ContraryMemory] = Field(max_length=3 * MAX_ITEMS_PER_LIST)
