"""LangChain adapters for Memora: chat history, retriever and memory tools.

Examples:
    >>> from memora_integrations.langchain import (
    ...     MemoraChatMessageHistory, MemoraRetriever, create_memora_tools)
"""

from memora_integrations.langchain.chat_history import MemoraChatMessageHistory
from memora_integrations.langchain.retriever import (
    MEMORY_METADATA_KEY,
    MemoraRetriever,
    memory_to_document,
)
from memora_integrations.langchain.tools import (
    MemoraAddMemoriesTool,
    MemoraDeleteMemoryTool,
    MemoraEditMemoryTool,
    MemoraMemoryHistoryTool,
    MemoraSaveMemoryTool,
    MemoraSearchMemoriesTool,
    create_memora_tools,
)

__all__ = [
    "MEMORY_METADATA_KEY",
    "MemoraAddMemoriesTool",
    "MemoraChatMessageHistory",
    "MemoraDeleteMemoryTool",
    "MemoraEditMemoryTool",
    "MemoraMemoryHistoryTool",
    "MemoraRetriever",
    "MemoraSaveMemoryTool",
    "MemoraSearchMemoriesTool",
    "create_memora_tools",
    "memory_to_document",
]
