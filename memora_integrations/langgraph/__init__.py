"""LangGraph adapters for Memora: agent memory (also a LangChain v1 middleware) and a store.

Examples:
    >>> from memora_integrations.langgraph import MemoraMemory, MemoraStore
"""

from memora_integrations.langgraph.memory import (
    MemoraMemory,
    format_recalled_memories,
    is_recall_message,
    memories_outside_thread,
    recalled_memory_ids,
    thread_interaction_id,
)
from memora_integrations.langgraph.store import MemoraStore

__all__ = [
    "MemoraMemory",
    "MemoraStore",
    "format_recalled_memories",
    "is_recall_message",
    "memories_outside_thread",
    "recalled_memory_ids",
    "thread_interaction_id",
]
