"""Write DTOs: what a graph store receives to save or update an interaction with its memories.

These are validated on construction, so a store never sees a source position outside the
message list, a blank memory, or a naive datetime.
"""

from __future__ import annotations

import re
from typing import Any, TypeVar

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from memora_engine.errors import InvalidInputError
from memora_engine.filters import Metadata, validate_metadata
from memora_engine.ids import ID_PATTERN, check_encodable, require_memory_id, utc_now
from memora_engine.limits import (
    MAX_MEMORY_CHARS,
    MAX_MESSAGE_CHARS,
    MAX_MESSAGES_PER_INTERACTION,
    MAX_ROLE_CHARS,
)

__all__ = [
    "ContraryMemoryToStore",
    "MemoriesAndInteraction",
    "MemoryToStore",
    "MessageIn",
    "validate_input",
]

_ROLE_PATTERN = re.compile(rf"[A-Za-z][A-Za-z0-9_ .-]{{0,{MAX_ROLE_CHARS - 1}}}")

M = TypeVar("M", bound=BaseModel)


def validate_input(model: type[M], data: Any, *, what: str) -> M:
    """Validate ``data`` as ``model``; pydantic errors become one readable InvalidInputError.

    Raises:
        InvalidInputError: ``data`` does not fit ``model``.
    """
    if isinstance(data, model):
        return data
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or what}: {err['msg']}"
            for err in exc.errors()[:5]
        )
        raise InvalidInputError(f"Invalid {what}: {problems}") from None


class MessageIn(BaseModel):
    """One incoming message: ``{"role": "user", "content": "..."}``.

    Roles are free-form names (``user``, ``assistant``, ``system``, ``tool``, a speaker name...)
    of 1-64 letters, digits, spaces, ``_ . -``, starting with a letter. Content may be empty.
    """

    model_config = ConfigDict(extra="ignore", frozen=True)

    role: str
    content: str = Field(max_length=MAX_MESSAGE_CHARS)

    @field_validator("role")
    @classmethod
    def _check_role(cls, role: str) -> str:
        if not _ROLE_PATTERN.fullmatch(role):
            raise ValueError(
                "role must be 1-64 letters, digits, spaces or '_ . -', starting with a letter"
            )
        return role

    @field_validator("content")
    @classmethod
    def _check_content(cls, content: str) -> str:
        check_encodable(content, "content")
        return content


class MemoryToStore(BaseModel):
    """A new memory: its text (with ``user_<id>`` / ``agent_<id>`` placeholders) and sources.

    ``source_msg_block_pos`` are 0-based positions in the interaction's (updated) message list.
    ``memory_id``, ``obtained_at`` and ``agent_id`` are normally left ``None`` (the store assigns
    a new uuid4, the interaction date and the writing agent); import / restore sets them to
    reproduce an exported store exactly. ``metadata`` ``None`` means none for a new memory and
    "inherit from the replaced version" for a :class:`ContraryMemoryToStore`.
    """

    model_config = ConfigDict(extra="forbid")

    memory: str = Field(min_length=1, max_length=MAX_MEMORY_CHARS)
    source_msg_block_pos: list[int] = Field(default_factory=list)
    memory_id: str | None = None
    obtained_at: AwareDatetime | None = None
    agent_id: str | None = None
    metadata: Metadata | None = None

    @field_validator("metadata", mode="before")
    @classmethod
    def _check_metadata(cls, metadata: object) -> Metadata | None:
        return None if metadata is None else validate_metadata(metadata)

    @field_validator("memory")
    @classmethod
    def _check_memory(cls, memory: str) -> str:
        if not memory.strip():
            raise ValueError("memory text must not be blank")
        check_encodable(memory, "memory")
        return memory

    @field_validator("source_msg_block_pos")
    @classmethod
    def _check_positions(cls, positions: list[int]) -> list[int]:
        if any(p < 0 for p in positions):
            raise ValueError("source positions must be >= 0")
        return sorted(set(positions))

    @field_validator("memory_id")
    @classmethod
    def _check_memory_id(cls, memory_id: str | None) -> str | None:
        return None if memory_id is None else require_memory_id(memory_id)

    @field_validator("agent_id")
    @classmethod
    def _check_agent_id(cls, agent_id: str | None) -> str | None:
        if agent_id is not None and not ID_PATTERN.fullmatch(agent_id):
            raise ValueError("agent_id is not a valid id")
        return agent_id


class ContraryMemoryToStore(MemoryToStore):
    """A new memory that supersedes ``existing_contrary_memory_id`` (linked old -> new)."""

    existing_contrary_memory_id: str

    @field_validator("existing_contrary_memory_id")
    @classmethod
    def _check_existing(cls, memory_id: str) -> str:
        return require_memory_id(memory_id, "existing_contrary_memory_id")


class MemoriesAndInteraction(BaseModel):
    """The full (updated) message list of an interaction plus the memories to add with it.

    Examples:
        >>> MemoriesAndInteraction(
        ...     interaction=[{"role": "user", "content": "I'm allergic to peanuts"}],
        ...     memories=[MemoryToStore(memory="user_X is allergic to peanuts",
        ...                             source_msg_block_pos=[0])],
        ... )  # doctest: +SKIP
    """

    model_config = ConfigDict(extra="forbid")

    interaction: list[MessageIn] = Field(
        default_factory=list, max_length=MAX_MESSAGES_PER_INTERACTION
    )
    interaction_date: AwareDatetime = Field(default_factory=utc_now)
    memories: list[MemoryToStore] = Field(default_factory=list)
    contrary_memories: list[ContraryMemoryToStore] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check_sources_in_range(self) -> MemoriesAndInteraction:
        size = len(self.interaction)
        for item in [*self.memories, *self.contrary_memories]:
            bad = [p for p in item.source_msg_block_pos if p >= size]
            if bad:
                raise ValueError(
                    f"source positions {bad} are outside the {size} messages of the interaction"
                )
        ids = [m.memory_id for m in [*self.memories, *self.contrary_memories] if m.memory_id]
        if len(ids) != len(set(ids)):
            raise ValueError("memory ids must be unique within one write")
        return self

    def all_memories(self) -> list[MemoryToStore]:
        """New memories followed by contrary ones, in write order."""
        return [*self.memories, *self.contrary_memories]
