"""A scripted LangChain chat model: the one test double Memora's tests use, standing in for a
paid LLM API. Everything behind it (parsing, validation, retries, storage) runs for real.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import Field, PrivateAttr

__all__ = ["ScriptedChatModel"]

Responder = Callable[[Sequence[BaseMessage]], str]


class ScriptedChatModel(BaseChatModel):
    """Answers with scripted text: the next item of ``responses``, or ``responder(messages)``.

    Every call's input is recorded in ``calls``; ``latency_s`` simulates provider latency.
    It has no tool calling, so Memora uses JSON mode with it (as with a JSON-only provider).

    Examples:
        >>> model = ScriptedChatModel(responses=['{"memories_first_pass": []}'])
        >>> model.invoke("hi").content
        '{"memories_first_pass": []}'
    """

    responses: list[str] = Field(default_factory=list)
    responder: Responder | None = None
    latency_s: float = 0.0
    _calls: list[list[BaseMessage]] = PrivateAttr(default_factory=list)
    _next: int = PrivateAttr(default=0)

    @property
    def calls(self) -> list[list[BaseMessage]]:
        """The messages of every call so far, in order."""
        return self._calls

    @property
    def _llm_type(self) -> str:
        return "memora-scripted"

    def _answer(self, messages: list[BaseMessage]) -> str:
        self._calls.append(list(messages))
        if self.responder is not None:
            return self.responder(messages)
        if self._next >= len(self.responses):
            raise RuntimeError(
                f"ScriptedChatModel ran out of responses after {len(self.responses)} calls."
            )
        text = self.responses[self._next]
        self._next += 1
        return text

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        if self.latency_s:
            time.sleep(self.latency_s)
        text = self._answer(messages)
        prompt_chars = sum(len(str(m.content)) for m in messages)
        usage = {
            "input_tokens": prompt_chars // 4,
            "output_tokens": len(text) // 4,
            "total_tokens": prompt_chars // 4 + len(text) // 4,
        }
        message = AIMessage(content=text, usage_metadata=usage)
        return ChatResult(generations=[ChatGeneration(message=message)])
