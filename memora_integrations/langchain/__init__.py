"""LangChain adapters for Memora: chat history, retriever and memory tools.

Examples:
    >>> from memora_integrations.langchain import (
    ...     MemoraChatMessageHistory, MemoraRetriever, create_memora_tools)
"""

from memora_integrations.langchain.chat_history import MemoraChatMessageHistory
from memora_integrations.langchain.retriever import MemoraRetriever, memory_to_document
from memora_integrations.langchain.tools import (
    MemoraDeleteMemoryTool,
    MemoraMemoryHistoryTool,
    MemoraSaveMemoryTool,
    MemoraSearchMemoriesTool,
    create_memora_tools,
)

__all__ = [
    "MemoraChatMessageHistory",
    "MemoraDeleteMemoryTool",
    "MemoraMemoryHistoryTool",
    "MemoraRetriever",
    "MemoraSaveMemoryTool",
    "MemoraSearchMemoriesTool",
    "create_memora_tools",
    "memory_to_document",
]
