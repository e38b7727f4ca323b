"""The ``add_memories`` and ``edit_memory`` tools of ``MemoraToolSpec`` (internal mixin).

Opt-in (``MemoraToolSpec(..., include=(..., "add", "edit"))``), like the LangChain tools of the
same names: facts stored directly (verbatim, or through the comparison step with
``infer=True``) and corrections of one memory's text and/or metadata.
"""

from __future__ import annotations

from collections.abc import Coroutine, Mapping
from typing import Any, TypeVar

from memora_integrations.llama_index._runtime import CoreRunner
from memora_integrations.llama_index._session import ensure_tenant
from memora_integrations.llama_index._tool_support import listing, memory_line, merged

__all__ = ["FactTools"]

T = TypeVar("T")


class FactTools:
    """``add_memories`` / ``edit_memory`` as ``(sync, async)`` pairs (a mixin)."""

    _runner: CoreRunner
    org_id: str
    user_id: str
    agent_id: str
    infer: bool | None
    create_missing: bool
    metadata: dict[str, Any] | None

    def _sync(self, coro: Coroutine[Any, Any, T]) -> T:
        return self._runner.run(coro)

    # ------------------------------------------------------------------ add
    def add_memories(self, facts: list[str], metadata: dict[str, object] | None = None) -> str:
        """Store one or more facts about the user exactly as written, e.g. when the user asks
        you to remember a list of things. Write each fact as one clear statement. Returns the
        stored memories with their memory_id.

        Args:
            facts (list[str]): The statements, e.g. ["The user is vegetarian"].
            metadata (dict): Optional labels for every fact, a flat JSON object of strings,
                numbers, booleans or lists of those, e.g. {"topic": "food"}.
        """
        return self._sync(self._add(facts, metadata))

    async def aadd_memories(
        self, facts: list[str], metadata: dict[str, object] | None = None
    ) -> str:
        """Async twin of add_memories."""
        return await self._runner.arun(self._add(facts, metadata))

    async def _add(self, facts: list[str], metadata: Mapping[str, Any] | None) -> str:
        core = self._runner.core
        if self.create_missing:
            await ensure_tenant(core, self.org_id, self.user_id, self.agent_id)
        stored = await core.add_memories(
            self.org_id,
            self.user_id,
            self.agent_id,
            facts,
            metadata=merged(metadata, self.metadata),
            infer=self.infer is True,
        )
        return listing(
            f"Added {len(stored)} memories:",
            [memory_line(memory) for memory in stored],
            "Nothing new to remember: the memory store already knows this.",
        )

    # ------------------------------------------------------------------ edit
    def edit_memory(
        self,
        memory_id: str,
        text: str | None = None,
        metadata: dict[str, object] | None = None,
    ) -> str:
        """Correct one memory: a new text (the old one stays in its history) and/or new
        labels (they replace the old ones). Search first to find its memory_id; only the
        current version of a memory can get a new text. Returns the memory as it now is.

        Args:
            memory_id (str): The memory_id shown by search_memories.
            text (str): Optional: the corrected statement, e.g. "The user lives in Porto."
            metadata (dict): Optional: labels replacing the memory's labels, a flat JSON
                object, e.g. {"topic": "home"}.
        """
        return self._sync(self._edit(memory_id, text, metadata))

    async def aedit_memory(
        self,
        memory_id: str,
        text: str | None = None,
        metadata: dict[str, object] | None = None,
    ) -> str:
        """Async twin of edit_memory."""
        return await self._runner.arun(self._edit(memory_id, text, metadata))

    async def _edit(
        self, memory_id: str, text: str | None, metadata: Mapping[str, Any] | None
    ) -> str:
        edited = await self._runner.core.edit_memory(
            self.org_id,
            self.user_id,
            memory_id,
            memory=text,
            metadata=None if metadata is None else merged(metadata, self.metadata),
        )
        return f"Edited memory:\n{memory_line(edited)}"
