"""The typed records of the JSONL interchange format, one per line type (pure: no I/O).

Each validates its line exactly as the stores will accept it (ids, names, memory text, times,
metadata); :mod:`memora_engine.transfer.records` parses lines into these and checks the file
as a whole.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from memora_engine.filters import Metadata, validate_metadata
from memora_engine.ids import ensure_aware, require_id, require_memory_id, require_text
from memora_engine.limits import MAX_MEMORY_CHARS, MAX_MESSAGES_PER_INTERACTION, MAX_NAME_CHARS
from memora_engine.schema.storage import MessageIn

__all__ = [
    "AgentRecord",
    "InteractionRecord",
    "MemoryRecord",
    "OrgRecord",
    "Record",
    "UserRecord",
]


def _aware(value: Any) -> Any:
    return ensure_aware(value) if isinstance(value, datetime) else value


class Record(BaseModel):
    """A record of the import file: unknown keys refused, immutable once validated."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_label(value: str, name: str) -> str:
    """A name or label exactly as the stores accept it (no NUL, bounded, not blank)."""
    return require_text(value, name, max_chars=MAX_NAME_CHARS)


class _IdCheck:
    @staticmethod
    def check(value: str | None, name: str) -> str | None:
        return None if value is None else require_id(value, name)


class OrgRecord(Record):
    """An organization to create (kept as is when the id exists)."""

    type: Literal["organization"]
    org_id: str
    org_name: str = Field(min_length=1, max_length=MAX_NAME_CHARS)
    created_at: datetime | None = None

    @field_validator("org_id")
    @classmethod
    def _id(cls, v: str) -> str:
        return require_id(v, "org_id")

    @field_validator("org_name")
    @classmethod
    def _name(cls, v: str) -> str:
        return _check_label(v, "org_name")


class UserRecord(Record):
    """A user to create."""

    type: Literal["user"]
    org_id: str
    user_id: str
    user_name: str = Field(min_length=1, max_length=MAX_NAME_CHARS)
    created_at: datetime | None = None

    @field_validator("org_id", "user_id")
    @classmethod
    def _id(cls, v: str) -> str:
        return require_id(v, "id")

    @field_validator("user_name")
    @classmethod
    def _name(cls, v: str) -> str:
        return _check_label(v, "user_name")


class AgentRecord(Record):
    """An agent to create (org-level, or owned by ``user_id``)."""

    type: Literal["agent"]
    org_id: str
    agent_id: str
    agent_label: str = Field(min_length=1, max_length=MAX_NAME_CHARS)
    user_id: str | None = None
    created_at: datetime | None = None

    @field_validator("org_id", "agent_id", "user_id")
    @classmethod
    def _id(cls, v: str | None) -> str | None:
        return _IdCheck.check(v, "id")

    @field_validator("agent_label")
    @classmethod
    def _name(cls, v: str) -> str:
        return _check_label(v, "agent_label")


class MemoryRecord(Record):
    """A memory of a restored interaction."""

    memory_id: str
    memory: str = Field(min_length=1, max_length=MAX_MEMORY_CHARS)
    obtained_at: datetime
    agent_id: str | None = None
    sources: list[int] = Field(default_factory=list)
    supersedes: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)

    @field_validator("metadata", mode="plain")
    @classmethod
    def _metadata(cls, v: object) -> Metadata:
        return {} if v is None else validate_metadata(v)

    @field_validator("memory_id", "supersedes")
    @classmethod
    def _memory_id(cls, v: str | None) -> str | None:
        return None if v is None else require_memory_id(v)

    @field_validator("agent_id")
    @classmethod
    def _agent(cls, v: str | None) -> str | None:
        return _IdCheck.check(v, "agent_id")

    @field_validator("memory")
    @classmethod
    def _text(cls, v: str) -> str:
        return require_text(v, "memory", max_chars=MAX_MEMORY_CHARS)

    @field_validator("obtained_at")
    @classmethod
    def _time(cls, v: datetime) -> datetime:
        return ensure_aware(v, name="obtained_at")

    @field_validator("sources")
    @classmethod
    def _sources(cls, v: list[int]) -> list[int]:
        if any(p < 0 for p in v):
            raise ValueError("sources must be message positions >= 0")
        return sorted(set(v))


class InteractionRecord(Record):
    """A conversation (``memories is None``) or an exact restore (``memories`` given)."""

    type: Literal["interaction"] = "interaction"
    org_id: str | None = None
    user_id: str | None = None
    agent_id: str | None = None
    interaction_id: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    messages: list[MessageIn] = Field(max_length=MAX_MESSAGES_PER_INTERACTION)
    metadata: dict[str, Any] | None = None
    memories: list[MemoryRecord] | None = None

    @field_validator("metadata", mode="plain")
    @classmethod
    def _metadata(cls, v: object) -> Metadata | None:
        return None if v is None else validate_metadata(v)

    @model_validator(mode="after")
    def _metadata_of_conversations_only(self) -> InteractionRecord:
        if self.metadata is not None and self.memories is not None:
            raise ValueError(
                "metadata of an interaction is for conversations (memories extracted on "
                "import); in a restore, give each memory its own metadata"
            )
        return self

    @field_validator("org_id", "user_id", "agent_id", "interaction_id")
    @classmethod
    def _id(cls, v: str | None) -> str | None:
        return _IdCheck.check(v, "id")

    @field_validator("created_at", "updated_at")
    @classmethod
    def _time(cls, v: datetime | None) -> datetime | None:
        return None if v is None else ensure_aware(v)

    @property
    def is_restore(self) -> bool:
        """Whether memories are given (written exactly) rather than extracted."""
        return self.memories is not None

    def messages_as_dicts(self) -> list[dict[str, str]]:
        """The messages as ``{"role", "content"}`` dicts."""
        return [{"role": m.role, "content": m.content} for m in self.messages]
