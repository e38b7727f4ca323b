"""A scripted LLM provider for engine tests: routes each call by its prompt and answers the way
a real model would (JSON for structured calls, ``<< >>`` lines for queries). Built on
:class:`memora_engine.testing.scripted.ScriptedChatModel`, the one allowed test double.
"""

from __future__ import annotations

import json
from collections import Counter, deque
from collections.abc import Callable, Sequence
from typing import Any

from langchain_core.messages import BaseMessage

from memora_engine.testing.scripted import ScriptedChatModel

Comparer = Callable[[list[dict[str, Any]], list[dict[str, Any]]], dict[str, Any]]
Filterer = Callable[[list[dict[str, Any]]], str]


def extraction(*memories: tuple[str, list[int]]) -> str:
    """An extraction answer: ``("#user_#id# likes tea", [0])`` items in the first pass."""
    return json.dumps(
        {"memories_first_pass": [{"memory": m, "msg_source_ids": s} for m, s in memories]}
    )


def all_new(_stored: list[dict[str, Any]], candidates: list[dict[str, Any]]) -> dict[str, Any]:
    """A comparison that keeps every candidate as new."""
    return {
        "new_memories": [
            {"memory": c["memory"], "source_candidate_pos_id": c["POS_ID"]} for c in candidates
        ],
        "contrary_memories": [],
    }


class ScriptedProvider:
    """Answers extraction / comparison / query / filter prompts from the test's script."""

    def __init__(self) -> None:
        self.extractions: deque[str] = deque()
        self.queries: deque[str] = deque()
        self.compare: Comparer = all_new
        self.filter: Filterer | None = None
        self.counts: Counter[str] = Counter()

    def model(self) -> ScriptedChatModel:
        return ScriptedChatModel(responder=self.respond)

    def respond(self, messages: Sequence[BaseMessage]) -> str:
        system = str(messages[0].content)
        if "long-term memory of an assistant" in system:
            self.counts["extraction"] += 1
            return self.extractions.popleft()
        if "You maintain the memories" in system:
            self.counts["comparison"] += 1
            body = str(messages[1].content).split("\n\nYour previous answer could not be used")[0]
            stored_text, candidates_text = body.split("NEW CANDIDATE MEMORIES:", 1)
            stored = json.loads(stored_text.replace("STORED MEMORIES:", "", 1))
            return json.dumps(self.compare(stored, json.loads(candidates_text)))
        if "look up an assistant's long-term memory" in system:
            self.counts["queries"] += 1
            return self.queries.popleft()
        if "which retrieved memories are relevant" in system:
            self.counts["filter"] += 1
            assert self.filter is not None, "no filter script"
            return self.filter(json.loads(str(messages[1].content)))
        raise AssertionError(f"unexpected prompt: {system[:80]}")
