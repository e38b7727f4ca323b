"""Memora: long-term memory for LLM agents.

Conversations go in; small memories with provenance (source messages) and history
(contradiction chains) come out; hybrid search and recall bring them back.
"""

from memora_engine.bulk_api import RestoreItem
from memora_engine.errors import (
    AgentNotFoundError,
    BackendAuthError,
    BackendError,
    BackendUnavailableError,
    ConfigurationError,
    ConflictError,
    InteractionNotFoundError,
    InvalidInputError,
    LLMError,
    LLMResponseInvalidError,
    LLMUnavailableError,
    MemoraError,
    MemoryNotFoundError,
    NotFoundError,
    OrganizationNotFoundError,
    UsageError,
    UserNotFoundError,
)
from memora_engine.install import DISTRIBUTION, installed_version
from memora_engine.memora import Memora
from memora_engine.pipeline import OutputGuards
from memora_engine.prompts import Prompts
from memora_engine.schema import (
    Agent,
    ContraryMemoryToStore,
    Interaction,
    MemoriesAndInteraction,
    Memory,
    MemoryToStore,
    MessageBlock,
    Organization,
    User,
)
from memora_engine.settings import MemoraSettings
from memora_engine.sync_facade import MemoraRunner, SyncMemora
from memora_engine.temporal import TimeRange
from memora_engine.vector_db.base import MemorySearchScope

__version__ = installed_version()

__all__ = [
    "DISTRIBUTION",
    "Agent",
    "AgentNotFoundError",
    "BackendAuthError",
    "BackendError",
    "BackendUnavailableError",
    "ConfigurationError",
    "ConflictError",
    "ContraryMemoryToStore",
    "Interaction",
    "InteractionNotFoundError",
    "InvalidInputError",
    "LLMError",
    "LLMResponseInvalidError",
    "LLMUnavailableError",
    "Memora",
    "MemoraError",
    "MemoraRunner",
    "MemoraSettings",
    "MemoriesAndInteraction",
    "Memory",
    "MemoryNotFoundError",
    "MemorySearchScope",
    "MemoryToStore",
    "MessageBlock",
    "NotFoundError",
    "Organization",
    "OrganizationNotFoundError",
    "OutputGuards",
    "Prompts",
    "RestoreItem",
    "SyncMemora",
    "TimeRange",
    "UsageError",
    "User",
    "UserNotFoundError",
    "__version__",
]
