"""The one retry site for invalid model output, and the call budget that bounds it.

Every structured call Memora makes goes through :func:`generate_validated`: one model call per
attempt, the answer parsed and checked, and on a problem a short corrective note (what was
wrong, never the invalid payload) added to the ORIGINAL prompt, so the prompt never grows with
each try and no deterministic call is re-run identically. A :class:`CallBudget` caps the calls;
an answer byte-identical to an earlier invalid one stops the retries at once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Generic, TypeVar

from pydantic import BaseModel

from memora_engine.errors import InvalidInputError, LLMResponseInvalidError
from memora_engine.llm.output import correction_note, with_correction

if TYPE_CHECKING:
    from memora_engine.llm.base import BaseBackendLLM

__all__ = ["CallBudget", "Check", "StructuredAttempt", "generate_validated"]

logger = logging.getLogger("memora_engine.llm")

M = TypeVar("M", bound=BaseModel)

#: ``check(result, after_failure)`` returns a problem description, or ``None`` to accept.
#: ``after_failure`` is true when an earlier attempt of this call failed.
Check = Callable[[M, bool], "str | None"]


@dataclass
class StructuredAttempt(Generic[M]):
    """The outcome of ONE model call asked for ``schema``: parsed, or a problem description."""

    parsed: M | None
    problem: str = ""
    raw_text: str = ""


@dataclass
class CallBudget:
    """A hard cap on model calls, shared by the steps of one engine call.

    Examples:
        >>> budget = CallBudget(3)
        >>> budget.take(), budget.remaining
        (True, 2)
    """

    max_calls: int
    used: int = field(default=0)

    def __post_init__(self) -> None:
        if self.max_calls < 0:
            raise InvalidInputError("max_calls must be >= 0.")

    @property
    def remaining(self) -> int:
        """Calls still allowed."""
        return self.max_calls - self.used

    def take(self) -> bool:
        """Use one call; ``False`` (and nothing used) when none is left."""
        if self.remaining <= 0:
            return False
        self.used += 1
        return True


async def generate_validated(
    llm: BaseBackendLLM,
    messages: Sequence[Mapping[str, str]],
    schema: type[M],
    *,
    budget: CallBudget,
    check: Check[M] | None = None,
    reserve: int = 0,
) -> M:
    """Call ``llm`` for ``schema`` until an answer parses and passes ``check``, within ``budget``.

    Args:
        llm: The model wrapper; each attempt is one ``llm.attempt_structured`` call.
        messages: The prompt (``[{"role", "content"}, ...]``), kept as the base of every retry.
        schema: The pydantic model the answer must validate as.
        budget: Calls allowed (shared with later steps of the same engine call).
        check: Extra validation of a parsed answer (e.g. the memory guards).
        reserve: Calls to leave in ``budget`` for later steps.

    Raises:
        LLMResponseInvalidError: no valid answer within the budget (the message says why).
        LLMUnavailableError: the provider call failed (not retried here).
    """
    problems: list[str] = []
    seen_answers: set[str] = set()
    conversation = [dict(m) for m in messages]
    while budget.remaining > reserve and budget.take():
        attempt = await llm.attempt_structured(conversation, schema)
        problem = attempt.problem
        if attempt.parsed is not None and not problem:
            problem = (check(attempt.parsed, bool(problems)) if check else None) or ""
            if not problem:
                return attempt.parsed
        problems.append(problem)
        logger.warning(
            "memora.llm: %s answer rejected (attempt %d): %s",
            schema.__name__,
            len(problems),
            problem[:200],
        )
        if attempt.raw_text and attempt.raw_text in seen_answers:
            break  # the model repeats itself: another try would only repeat the failure
        seen_answers.add(attempt.raw_text)
        conversation = with_correction(messages, correction_note(problems, schema.__name__))
    if not problems:
        raise LLMResponseInvalidError(
            f"No model calls left in this call's budget for {schema.__name__}."
        )
    raise LLMResponseInvalidError(
        f"The model's output was not a valid {schema.__name__} after {len(problems)} "
        f"attempt(s): {problems[-1]}"
    )
