"""The LLM phase of a save: extraction, guards, comparison, within one bounded call budget.

:func:`infer_memories` is all a save asks of the models. Its bound, stated in the README
("Models"): at most :func:`max_calls_per_save` model calls, that is 2 (extraction, comparison)
plus the save's corrective retries (``max_retries``, capped at :data:`MAX_RETRIES_PER_SAVE`),
shared by both steps through Memora's one retry site
(:func:`~memora_engine.llm.retry.generate_validated`).

What a save stores when the model misbehaves:

* extraction answer invalid (unparseable, cut off, every item rejected by the output guards, or
  an empty answer right after an invalid one) after the retries: the save raises
  :class:`~memora_engine.errors.LLMResponseInvalidError` and writes nothing;
* extraction valid but the comparison answer invalid after the retries: the valid extraction is
  kept; its candidates are stored as new memories, minus those whose words equal one of the
  related memories (nothing is linked as a contradiction, nothing is lost).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from memora_engine import pipeline
from memora_engine.errors import InvalidInputError, LLMResponseInvalidError
from memora_engine.limits import MAX_QUERIES_PER_SEARCH, MAX_QUERY_CHARS
from memora_engine.llm.base import BaseBackendLLM
from memora_engine.llm.retry import CallBudget, generate_validated
from memora_engine.placeholders import resolve_placeholders
from memora_engine.prompts import Prompts, build_comparison_messages, build_extraction_messages
from memora_engine.schema.extraction import MemoryComparisonResponse, MemoryExtractionResponse
from memora_engine.schema.models import Agent, Interaction, Memory, User
from memora_engine.schema.storage import ContraryMemoryToStore, MemoryToStore, MessageIn

__all__ = [
    "MAX_CALLS_PER_RECALL",
    "MAX_RETRIES_PER_SAVE",
    "InferenceReport",
    "SearchRelated",
    "compare_facts",
    "infer_memories",
    "max_calls_per_save",
]

logger = logging.getLogger("memora_engine")

#: Most corrective retries one save makes, whatever ``max_retries`` asks for.
MAX_RETRIES_PER_SAVE = 3
#: Model calls of one recall: query generation plus the optional filter; never retried.
MAX_CALLS_PER_RECALL = 2

#: Search for existing memories related to the candidate texts (the engine's hybrid search).
SearchRelated = Callable[[list[str]], Awaitable[list[Memory]]]


def max_calls_per_save(max_retries: int) -> int:
    """The hard maximum of model calls one save makes with ``max_retries``.

    Examples:
        >>> max_calls_per_save(3), max_calls_per_save(0), max_calls_per_save(10)
        (5, 2, 5)
    """
    if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
        raise InvalidInputError("max_retries must be an int >= 0.")
    return 2 + min(max_retries, MAX_RETRIES_PER_SAVE)


@dataclass
class InferenceReport:
    """What the LLM phase of one save did (counts only; logged, never text)."""

    calls: int = 0
    proposed: int = 0
    kept: int = 0
    rejected: dict[str, int] = field(default_factory=dict)
    comparison_failed: bool = False


async def infer_memories(
    llm: BaseBackendLLM,
    *,
    prompts: Prompts,
    guards: pipeline.OutputGuards,
    search_related: SearchRelated,
    user: User,
    agent: Agent,
    messages: Sequence[MessageIn],
    existing: Interaction | None,
    now: datetime,
    extract_agent_memories: bool,
    max_retries: int,
    report: InferenceReport | None = None,
) -> tuple[list[MemoryToStore], list[ContraryMemoryToStore]]:
    """Extract, guard and compare: the memories a save stores (see the module docstring).

    Raises:
        LLMResponseInvalidError: no usable extraction within the budget (nothing to write).
        LLMUnavailableError: a provider call failed.
    """
    stats = report if report is not None else InferenceReport()
    if not messages:
        return [], []
    budget = CallBudget(max_calls_per_save(max_retries))
    review = await _extract(
        llm,
        budget,
        prompts=prompts,
        guards=guards,
        user=user,
        agent=agent,
        messages=messages,
        existing=existing,
        now=now,
        extract_agent_memories=extract_agent_memories,
        stats=stats,
    )
    return await _compare(
        llm,
        budget,
        review.candidates,
        prompts=prompts,
        guards=guards,
        search_related=search_related,
        user=user,
        agent=agent,
        now=now,
        stats=stats,
    )


async def compare_facts(
    llm: BaseBackendLLM,
    facts: Sequence[pipeline.Candidate],
    *,
    prompts: Prompts,
    guards: pipeline.OutputGuards,
    search_related: SearchRelated,
    user: User,
    agent: Agent,
    now: datetime,
    max_retries: int,
    report: InferenceReport | None = None,
) -> tuple[list[MemoryToStore], list[ContraryMemoryToStore]]:
    """The comparison step alone, for facts given directly (``Memora.add_memories(infer=True)``).

    Each fact is compared with the related memories; one that contradicts a memory becomes its
    new version. At most ``1 + min(max_retries, 3)`` model calls; when the comparison answer
    stays invalid the facts are stored as new memories (minus exact repeats).
    """
    budget = CallBudget(max_calls_per_save(max_retries) - 1)
    return await _compare(
        llm,
        budget,
        list(facts),
        prompts=prompts,
        guards=guards,
        search_related=search_related,
        user=user,
        agent=agent,
        now=now,
        stats=report if report is not None else InferenceReport(),
    )


async def _compare(
    llm: BaseBackendLLM,
    budget: CallBudget,
    candidates: list[pipeline.Candidate],
    *,
    prompts: Prompts,
    guards: pipeline.OutputGuards,
    search_related: SearchRelated,
    user: User,
    agent: Agent,
    now: datetime,
    stats: InferenceReport,
) -> tuple[list[MemoryToStore], list[ContraryMemoryToStore]]:
    if not candidates:
        stats.calls = budget.used
        return [], []
    # The index holds memories with names resolved: search with the names, not placeholders.
    users, agents = {user.user_id: user.user_name}, {agent.agent_id: agent.agent_label}
    related = await search_related(
        [
            resolve_placeholders(c.text, users, agents)[:MAX_QUERY_CHARS]
            for c in candidates[:MAX_QUERIES_PER_SEARCH]
        ]
    )
    if not related:
        stats.calls = budget.used
        return pipeline.candidates_as_new(candidates), []
    try:
        comparison = await generate_validated(
            llm,
            build_comparison_messages(
                prompts,
                existing=related,
                candidates=[c.text for c in candidates],
                user_id=user.user_id,
                agent_id=agent.agent_id,
                now=now,
            ),
            MemoryComparisonResponse,
            budget=budget,
        )
    except LLMResponseInvalidError:
        stats.calls = budget.used
        stats.comparison_failed = True
        logger.warning(
            "memora.save org=%s user=%s: comparison answer invalid after %d call(s); "
            "keeping %d extracted candidate(s) as new memories",
            user.org_id,
            user.user_id,
            budget.used,
            len(candidates),
        )
        names = {
            f"user_{user.user_id}": user.user_name,
            f"agent_{agent.agent_id}": agent.agent_label,
        }
        return pipeline.candidates_as_new(
            candidates, existing_texts=[m.memory for m in related], names=names
        ), []
    stats.calls = budget.used
    return pipeline.plan_from_comparison(
        comparison,
        candidates,
        shown_memory_ids={m.memory_id for m in related},
        user_id=user.user_id,
        agent_id=agent.agent_id,
        guards=guards,
    )


async def _extract(
    llm: BaseBackendLLM,
    budget: CallBudget,
    *,
    prompts: Prompts,
    guards: pipeline.OutputGuards,
    user: User,
    agent: Agent,
    messages: Sequence[MessageIn],
    existing: Interaction | None,
    now: datetime,
    extract_agent_memories: bool,
    stats: InferenceReport,
) -> pipeline.ExtractionReview:
    previous = [m.memory_and_timestamp_dict() for m in existing.memories] if existing else None
    reviews: list[pipeline.ExtractionReview] = []

    def check(response: MemoryExtractionResponse, after_failure: bool) -> str | None:
        review = pipeline.review_extraction(
            response,
            user_id=user.user_id,
            agent_id=agent.agent_id,
            message_count=len(messages),
            guards=guards,
        )
        reviews.append(review)
        _log_review(user, review)
        return extraction_problem(review, after_failure=after_failure)

    try:
        await generate_validated(
            llm,
            build_extraction_messages(
                prompts,
                messages=[{"role": m.role, "content": m.content} for m in messages],
                user_name=user.user_name,
                agent_label=agent.agent_label,
                now=now,
                extract_agent_memories=extract_agent_memories,
                previous_memories=previous,
            ),
            MemoryExtractionResponse,
            budget=budget,
            check=check,
            reserve=1,  # the comparison's first call
        )
    finally:
        stats.calls = budget.used
        for review in reviews:
            stats.proposed += review.proposed
            for reason, count in review.rejected.items():
                stats.rejected[reason] = stats.rejected.get(reason, 0) + count
    accepted = reviews[-1]
    stats.kept = len(accepted.candidates)
    return accepted


def extraction_problem(review: pipeline.ExtractionReview, *, after_failure: bool) -> str | None:
    """Why an extraction answer is not accepted, or ``None``: the decision, kept pure.

    Examples:
        >>> empty = pipeline.ExtractionReview(candidates=[], proposed=0)
        >>> extraction_problem(empty, after_failure=False) is None
        True
        >>> extraction_problem(empty, after_failure=True) is not None
        True
    """
    if review.proposed == 0:
        if after_failure:
            return (
                "an empty answer right after an invalid one; list the facts the conversation "
                "states, each citing its MESSAGE BLOCK IDs"
            )
        return None
    if not review.candidates:
        reasons = ", ".join(f"{reason}: {n}" for reason, n in sorted(review.rejected.items()))
        return (
            f"none of the {review.proposed} memories could be used ({reasons}); each memory "
            "must be a fact written in words and cite the MESSAGE BLOCK IDs it comes from"
        )
    return None


def _log_review(user: User, review: pipeline.ExtractionReview) -> None:
    if review.rejected_total:
        logger.warning(
            "memora.save org=%s user=%s: guards rejected %d of %d extracted item(s) %s",
            user.org_id,
            user.user_id,
            review.rejected_total,
            review.proposed,
            dict(sorted(review.rejected.items())),
        )
