"""Memora for LlamaIndex: persistent memory for chat engines and agents, and memory tools.

* :class:`MemoraMemory` — a ``BaseMemory`` drop-in (``memory=``) for ``SimpleChatEngine``,
  ``CondensePlusContextChatEngine`` and ``FunctionAgent`` / ``AgentWorkflow``: the chat history
  is a stored Memora interaction, plus recalled long-term memories.
* :class:`MemoraMemoryBlock` — a ``BaseMemoryBlock`` for LlamaIndex's own ``Memory``.
* :class:`MemoraToolSpec` — search / save / history / delete tools for agents.
* :func:`to_memora_filter` — LlamaIndex ``MetadataFilters`` as a Memora filter (every adapter
  takes ``filters=`` in either form, and ``metadata=`` for the memories it saves).

Install with ``pip install "memora-engine[llamaindex]"``.
"""

from memora_integrations.llama_index.filters import to_memora_filter
from memora_integrations.llama_index.memory import MemoraMemory
from memora_integrations.llama_index.memory_block import MemoraMemoryBlock
from memora_integrations.llama_index.tool_spec import MemoraToolSpec

__all__ = ["MemoraMemory", "MemoraMemoryBlock", "MemoraToolSpec", "to_memora_filter"]
