"""Pydantic models: public data, storage DTOs, and LLM structured outputs."""

from memora_engine.schema.extraction import (
    ContraryMemory,
    ExtractedMemory,
    MemoryComparisonResponse,
    MemoryExtractionResponse,
    NewGleanedMemory,
)
from memora_engine.schema.models import (
    Agent,
    Interaction,
    Memory,
    MessageBlock,
    Organization,
    User,
)
from memora_engine.schema.storage import (
    ContraryMemoryToStore,
    MemoriesAndInteraction,
    MemoryToStore,
)

__all__ = [
    "Agent",
    "ContraryMemory",
    "ContraryMemoryToStore",
    "ExtractedMemory",
    "Interaction",
    "MemoriesAndInteraction",
    "Memory",
    "MemoryComparisonResponse",
    "MemoryExtractionResponse",
    "MemoryToStore",
    "MessageBlock",
    "NewGleanedMemory",
    "Organization",
    "User",
]
