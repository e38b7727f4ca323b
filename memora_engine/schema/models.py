"""Public data models returned by every Memora store and by :class:`~memora_engine.Memora`.

Field names follow the original Memora so existing users feel at home. List fields are always
lists (never ``None``): an interaction read without messages has ``messages == []``.
"""

from __future__ import annotations

from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from memora_engine.filters import MetadataValue

__all__ = ["Agent", "Interaction", "Memory", "MessageBlock", "Organization", "User"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Organization(_Model):
    """A tenant: it owns users, agents and everything below them."""

    org_id: str
    org_name: str
    created_at: AwareDatetime


class User(_Model):
    """A user of an organization."""

    org_id: str
    user_id: str
    user_name: str
    created_at: AwareDatetime


class Agent(_Model):
    """An agent of an organization; with ``user_id`` set it belongs to that user too."""

    org_id: str
    agent_id: str
    agent_label: str
    user_id: str | None = None
    created_at: AwareDatetime


class MessageBlock(_Model):
    """One message of an interaction, at 0-based ``msg_position``."""

    role: str
    content: str
    msg_position: int = Field(ge=0)


class Memory(_Model):
    """A small, self-contained memory with its provenance.

    ``memory`` is returned with name placeholders resolved (``user_<id>`` -> the user's name,
    ``agent_<id>`` -> the agent's label). ``message_sources`` are the message blocks it was
    extracted from; it is empty when the sources were truncated by an update, or for memories
    returned straight from a vector store. ``metadata`` is the caller's flat JSON object (see
    :mod:`memora_engine.filters` for its limits); a new version inherits it from the version it
    replaces unless it was given its own.
    """

    org_id: str
    agent_id: str
    user_id: str
    interaction_id: str | None = None
    memory_id: str
    memory: str
    obtained_at: AwareDatetime
    message_sources: list[MessageBlock] = Field(default_factory=list)
    metadata: dict[str, MetadataValue] = Field(default_factory=dict)
    #: Index side only: the text the sparse (BM25) vector is computed from when it is not the
    #: memory itself (a raw turn in its context, see :mod:`memora_engine.indexing`). Set only on
    #: the memories a write or ``list_memories_for_indexing`` hands to the vector store; never
    #: serialized (not in dumps, exports or the HTTP wire) and not compared.
    index_text: str | None = Field(default=None, exclude=True, repr=False)

    def __eq__(self, other: object) -> bool:
        """Equal when every public field is (``index_text`` is an indexing detail)."""
        if not isinstance(other, Memory):
            return NotImplemented
        mine = {k: v for k, v in self.__dict__.items() if k != "index_text"}
        theirs = {k: v for k, v in other.__dict__.items() if k != "index_text"}
        return type(self) is type(other) and mine == theirs

    __hash__ = None  # type: ignore[assignment]

    def memory_and_timestamp_dict(self) -> dict[str, str]:
        """Return ``{"memory", "obtained_at"}``: the form used in prompts.

        Examples:
            >>> m.memory_and_timestamp_dict()  # doctest: +SKIP
            {'memory': 'Jake is allergic to peanuts', 'obtained_at': '2024-12-01 10:00:00+00:00'}
        """
        return {"memory": self.memory, "obtained_at": str(self.obtained_at)}

    def id_memory_and_timestamp_dict(self) -> dict[str, str]:
        """Return ``{"memory_id", "memory", "obtained_at"}``: the form shown to filter models."""
        return {
            "memory_id": self.memory_id,
            "memory": self.memory,
            "obtained_at": str(self.obtained_at),
        }


class Interaction(_Model):
    """A conversation between a user and an agent, with its messages and memories.

    ``agent_id`` is the agent of the latest save or update. ``messages`` and ``memories`` are
    empty lists when not requested.
    """

    org_id: str
    user_id: str
    agent_id: str
    interaction_id: str
    created_at: AwareDatetime
    updated_at: AwareDatetime
    messages: list[MessageBlock] = Field(default_factory=list)
    memories: list[Memory] = Field(default_factory=list)

    def messages_as_dicts(self) -> list[dict[str, Any]]:
        """Return the messages as ``[{"role", "content"}, ...]`` (the form saves accept)."""
        return [{"role": m.role, "content": m.content} for m in self.messages]
