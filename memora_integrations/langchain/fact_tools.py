"""Fact tools for LangChain agents: add facts directly, correct a memory.

Opt-in (``create_memora_tools(include=(..., "add", "edit"))``): they let the model write and
rewrite memories itself, which an application may not want. Same conventions as the other
memory tools: typed arguments, ``(content, artifact)`` results, errors the model can fix (a
made-up ``memory_id``, metadata over the limits, an edit of an old version) reported back to it.
"""

from __future__ import annotations

from typing import Any

from langchain_core.runnables import RunnableConfig
from pydantic import BaseModel, Field, model_validator
from typing_extensions import Self

from memora_engine import Memora
from memora_integrations.langchain._runtime import memory_to_dict, optional_kwargs
from memora_integrations.langchain._tool_base import (
    METADATA_DESCRIPTION,
    MemoraToolBase,
    brief,
    dump,
)

__all__ = ["MemoraAddMemoriesTool", "MemoraEditMemoryTool"]


class AddMemoriesInput(BaseModel):
    """Arguments of the add tool."""

    facts: list[str] = Field(
        min_length=1,
        max_length=20,
        description=(
            "Facts to remember, each one short, self-contained statement, "
            "e.g. ['The user is allergic to peanuts.']"
        ),
    )
    metadata: dict[str, Any] | None = Field(default=None, description=METADATA_DESCRIPTION)


class MemoraAddMemoriesTool(MemoraToolBase):
    """Store facts as memories as written (``infer=True``: compared with stored memories first).

    Examples:
        >>> tool = MemoraAddMemoriesTool(memora=memora, org_id="acme", user_id="jake",
        ...                              agent_id="assistant")
        >>> tool.invoke({"facts": ["Jake is vegetarian"], "metadata": {"topic": "food"}})
    """

    name: str = "add_memories"
    description: str = (
        "Remember facts about the user exactly as you write them: one short, self-contained "
        "statement per fact, optionally with 'metadata' labels. Returns the stored memories "
        "with their memory_id."
    )
    args_schema: type[BaseModel] = AddMemoriesInput
    infer: bool = False
    """``True``: a fact that contradicts a stored memory becomes its new version (one model
    call; needs the engine's extraction model)."""

    def _run(
        self, facts: list[str], metadata: dict[str, Any] | None = None, *, config: RunnableConfig
    ) -> tuple[str, list[dict[str, Any]]]:
        user_id, agent_id, run = self._user(config), self._agent(), self._traced(config)
        return self._call(lambda core: self._add(core, user_id, agent_id, facts, metadata, run))

    async def _arun(
        self, facts: list[str], metadata: dict[str, Any] | None = None, *, config: RunnableConfig
    ) -> tuple[str, list[dict[str, Any]]]:
        user_id, agent_id, run = self._user(config), self._agent(), self._traced(config)
        return await self._acall(
            lambda core: self._add(core, user_id, agent_id, facts, metadata, run)
        )

    async def _add(
        self,
        core: Memora,
        user_id: str,
        agent_id: str,
        facts: list[str],
        metadata: dict[str, Any] | None,
        config: RunnableConfig | None,
    ) -> tuple[str, list[dict[str, Any]]]:
        stored = await core.add_memories(
            self.org_id,
            user_id,
            agent_id,
            list(facts),
            infer=self.infer,
            config=config,
            **optional_kwargs(metadata=metadata),
        )
        saved = [memory_to_dict(m) for m in stored]
        return dump([brief(d) for d in saved]), saved


class EditMemoryInput(BaseModel):
    """Arguments of the edit tool: the memory and a new text and/or new metadata."""

    memory_id: str = Field(description="The memory_id shown by search_memories.")
    text: str | None = Field(
        default=None,
        description="The corrected text; the old text stays in the memory's history.",
    )
    metadata: dict[str, Any] | None = Field(
        default=None,
        description="New metadata, replacing the old. " + METADATA_DESCRIPTION,
    )

    @model_validator(mode="after")
    def _something(self) -> Self:
        if self.text is None and self.metadata is None:
            raise ValueError("Pass 'text' (the corrected text), 'metadata', or both.")
        return self


class MemoraEditMemoryTool(MemoraToolBase):
    """Correct a memory's text (a new version; the old one stays in history) or its metadata.

    Examples:
        >>> tool = MemoraEditMemoryTool(memora=memora, org_id="acme", user_id="jake")
        >>> tool.invoke({"memory_id": "6f1c...", "text": "Jake is vegan"})
    """

    name: str = "edit_memory"
    description: str = (
        "Correct one memory when the user says it is wrong or has changed: give its memory_id "
        "(search first) and the corrected 'text', and/or new 'metadata'. Returns the "
        "memory as it now is (a corrected text gets a new memory_id)."
    )
    args_schema: type[BaseModel] = EditMemoryInput

    def _run(
        self,
        memory_id: str,
        text: str | None = None,
        metadata: dict[str, Any] | None = None,
        *,
        config: RunnableConfig,
    ) -> tuple[str, dict[str, Any]]:
        user_id = self._user(config)
        return self._call(lambda core: self._edit(core, user_id, memory_id, text, metadata))

    async def _arun(
        self,
        memory_id: str,
        text: str | None = None,
        metadata: dict[str, Any] | None = None,
        *,
        config: RunnableConfig,
    ) -> tuple[str, dict[str, Any]]:
        user_id = self._user(config)
        return await self._acall(lambda core: self._edit(core, user_id, memory_id, text, metadata))

    async def _edit(
        self,
        core: Memora,
        user_id: str,
        memory_id: str,
        text: str | None,
        metadata: dict[str, Any] | None,
    ) -> tuple[str, dict[str, Any]]:
        edited = await core.edit_memory(
            self.org_id, user_id, memory_id, memory=text, metadata=metadata
        )
        data = memory_to_dict(edited)
        return dump({"edited": brief(data)}), data
