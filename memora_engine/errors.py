"""The Memora error tree.

Every error Memora raises on purpose derives from :class:`MemoraError`, so one ``except`` clause
catches them all. Backend driver errors (SQLite, Qdrant, Neo4j) and LLM provider errors are
translated at the boundary into the classes below; the original exception is kept as
``__cause__``.

::

    MemoraError
    ├── InvalidInputError (also ValueError)      bad argument at the public boundary; nothing written
    ├── NotFoundError (also LookupError)          an org / user / agent / interaction / memory is missing
    │   ├── OrganizationNotFoundError
    │   ├── UserNotFoundError
    │   ├── AgentNotFoundError
    │   ├── InteractionNotFoundError
    │   └── MemoryNotFoundError
    ├── ConflictError                             an id already exists, or a concurrent change won
    ├── ConfigurationError                        missing extra, missing model folder, bad setting
    ├── UsageError (also RuntimeError)            API used in a way that cannot work (e.g. sync facade
    │                                             called from its own event loop)
    ├── BackendError                              a storage backend failed
    │   ├── BackendUnavailableError               cannot reach / open the store (server down, lock held)
    │   └── BackendAuthError                      credentials rejected
    └── LLMError                                  the chat model failed
        ├── LLMUnavailableError                   provider call failed (network, rate limit, auth)
        └── LLMResponseInvalidError               output could not be parsed / validated after retries
"""

from __future__ import annotations

__all__ = [
    "AgentNotFoundError",
    "BackendAuthError",
    "BackendError",
    "BackendUnavailableError",
    "ConfigurationError",
    "ConflictError",
    "InteractionNotFoundError",
    "InvalidInputError",
    "LLMError",
    "LLMResponseInvalidError",
    "LLMUnavailableError",
    "MemoraError",
    "MemoryNotFoundError",
    "NotFoundError",
    "OrganizationNotFoundError",
    "UsageError",
    "UserNotFoundError",
]


class MemoraError(Exception):
    """Root of every error Memora raises on purpose."""


class InvalidInputError(MemoraError, ValueError):
    """An argument failed validation at the public boundary. Nothing was written."""


class NotFoundError(MemoraError, LookupError):
    """An entity does not exist (within the given tenant).

    Attributes:
        entity: What was looked up, e.g. ``"User"``.
        ids: The identifying ids, e.g. ``{"org_id": "...", "user_id": "..."}``.
    """

    entity: str = "Entity"

    def __init__(self, message: str | None = None, **ids: str | None) -> None:
        self.ids = {k: v for k, v in ids.items() if v is not None}
        if message is None:
            shown = ", ".join(f"{k}={v!r}" for k, v in self.ids.items())
            message = f"{self.entity} ({shown}) does not exist."
        super().__init__(message)


class OrganizationNotFoundError(NotFoundError):
    """The organization does not exist."""

    entity = "Organization"


class UserNotFoundError(NotFoundError):
    """The user does not exist in that organization."""

    entity = "User"


class AgentNotFoundError(NotFoundError):
    """The agent does not exist in that organization."""

    entity = "Agent"


class InteractionNotFoundError(NotFoundError):
    """The interaction does not exist for that user."""

    entity = "Interaction"


class MemoryNotFoundError(NotFoundError):
    """The memory does not exist for that user."""

    entity = "Memory"


class ConflictError(MemoraError):
    """An id already exists, or a concurrent change made the write impossible."""


class ConfigurationError(MemoraError):
    """A setting is missing or wrong (an optional extra, a model folder, a URL)."""


class UsageError(MemoraError, RuntimeError):
    """The API was used in a way that cannot work (see the message for the fix)."""


class BackendError(MemoraError):
    """A storage backend failed. The driver's exception is the ``__cause__``."""


class BackendUnavailableError(BackendError):
    """The store cannot be reached or opened (server down, file locked by another process)."""


class BackendAuthError(BackendError):
    """The store rejected the credentials."""


class LLMError(MemoraError):
    """The chat model failed."""


class LLMUnavailableError(LLMError):
    """The provider call failed (network, rate limit, authentication)."""


class LLMResponseInvalidError(LLMError):
    """The model's output could not be parsed or validated, even after the bounded retries."""
