"""Structured outputs the extraction model returns (validated with pydantic).

Descriptions double as instructions to the model: they are part of the JSON schema it is shown.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "ContraryMemory",
    "ExtractedMemory",
    "MemoryComparisonResponse",
    "MemoryExtractionResponse",
    "NewGleanedMemory",
]


class _LLMOutput(BaseModel):
    model_config = ConfigDict(extra="ignore")


class ExtractedMemory(_LLMOutput):
    """One memory extracted from the conversation."""

    memory: str = Field(
        description="A self-contained memory of at most ~25 words, using #user_#id# and "
        "#agent_#id# in place of the user's and the agent's names."
    )
    msg_source_ids: list[int] = Field(
        default_factory=list,
        description="The MESSAGE BLOCK IDs this memory was taken from.",
    )


class MemoryExtractionResponse(_LLMOutput):
    """Memories in up to three passes; each later pass catches what earlier ones missed."""

    memories_first_pass: list[ExtractedMemory] | None = Field(default_factory=list)
    memories_second_pass: list[ExtractedMemory] | None = Field(default_factory=list)
    memories_third_pass: list[ExtractedMemory] | None = Field(default_factory=list)

    def all_memories(self) -> list[ExtractedMemory]:
        """All passes concatenated in order, treating ``None`` as empty."""
        return [
            *(self.memories_first_pass or []),
            *(self.memories_second_pass or []),
            *(self.memories_third_pass or []),
        ]


class NewGleanedMemory(_LLMOutput):
    """A candidate that adds new information."""

    memory: str = Field(description="The memory text to store.")
    source_candidate_pos_id: int = Field(description="The POS_ID of the candidate it came from.")


class ContraryMemory(_LLMOutput):
    """A candidate that contradicts (updates) an existing memory."""

    memory: str = Field(description="The updated memory text to store.")
    source_candidate_pos_id: int = Field(description="The POS_ID of the candidate it came from.")
    contradicted_memory_id: str = Field(description="The memory_id of the existing memory.")


class MemoryComparisonResponse(_LLMOutput):
    """Candidates sorted into new and contradicting; candidates in neither list are redundant."""

    new_memories: list[NewGleanedMemory]
    contrary_memories: list[ContraryMemory]
