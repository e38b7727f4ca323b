"""Argument checks at the graph store's public boundary (pure; raise InvalidInputError)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from memora_engine.errors import InvalidInputError
from memora_engine.filters import AllOf, AnyOf, Condition, FilterNode, NoneOf
from memora_engine.ids import ensure_aware, require_id, require_memory_id, require_text, utc_now
from memora_engine.limits import MAX_NAME_CHARS, MAX_PAGE_LIMIT
from memora_engine.schema.storage import MemoriesAndInteraction, validate_input

__all__ = [
    "check_filter_node",
    "check_flag",
    "check_memory_ids",
    "check_name",
    "check_page",
    "check_refs",
    "checked_write",
    "creation_time",
    "optional_id",
    "owner_ids",
    "require_ids",
]

_MAX_SKIP = 2**62


def check_name(value: Any, name: str) -> str:
    """A non-blank org name, user name or agent label of bounded size."""
    return require_text(value, name, max_chars=MAX_NAME_CHARS)


def optional_id(value: Any, name: str) -> str | None:
    """``None`` or a valid id."""
    return None if value is None else require_id(value, name)


def check_flag(value: Any, name: str) -> bool:
    """A real ``bool`` (so ``"false"`` is not silently truthy)."""
    if not isinstance(value, bool):
        raise InvalidInputError(f"{name} must be a bool, got {type(value).__name__}.")
    return value


def creation_time(value: Any, name: str = "created_at") -> datetime:
    """The creation time to store: now (UTC) for ``None``, else an aware datetime.

    Naive datetimes are taken to be UTC, as everywhere else
    (:func:`~memora_engine.ids.ensure_aware`).

    Raises:
        InvalidInputError: ``value`` is neither ``None`` nor a datetime.
    """
    return utc_now() if value is None else ensure_aware(value, name=name)


def check_page(skip: Any, limit: Any) -> tuple[int, int]:
    """``skip >= 0`` and ``1 <= limit <= MAX_PAGE_LIMIT``, both real ints."""
    for value, name in ((skip, "skip"), (limit, "limit")):
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidInputError(f"{name} must be an int, got {type(value).__name__}.")
    if not 0 <= skip < _MAX_SKIP:
        raise InvalidInputError(f"skip must be >= 0, got {skip}.")
    if not 1 <= limit <= MAX_PAGE_LIMIT:
        raise InvalidInputError(f"limit must be between 1 and {MAX_PAGE_LIMIT}, got {limit}.")
    return skip, limit


def check_refs(batch: Any) -> list[list[tuple[str, str, str]]]:
    """Validate lists of ``{"memory_id", "org_id", "user_id"}`` hits.

    Returns them as ``(org_id, user_id, memory_id)`` tuples with canonical memory ids.
    """
    if isinstance(batch, str | bytes | Mapping) or not isinstance(batch, Sequence):
        raise InvalidInputError("batch_org_user_mem_ids must be a list of lists of dicts.")
    checked: list[list[tuple[str, str, str]]] = []
    for hits in batch:
        if isinstance(hits, str | bytes | Mapping) or not isinstance(hits, Sequence):
            raise InvalidInputError("Each item of batch_org_user_mem_ids must be a list of dicts.")
        group: list[tuple[str, str, str]] = []
        for hit in hits:
            if not isinstance(hit, Mapping):
                raise InvalidInputError(
                    "Each hit must be a dict with memory_id, org_id and user_id, "
                    f"got {type(hit).__name__}."
                )
            group.append(
                (
                    require_id(hit.get("org_id"), "org_id"),
                    require_id(hit.get("user_id"), "user_id"),
                    require_memory_id(hit.get("memory_id")),
                )
            )
        checked.append(group)
    return checked


def owner_ids(org_id: Any, agent_id: Any, user_id: Any) -> tuple[str, str, str]:
    """Validate the ``(org_id, agent_id, user_id)`` of a write."""
    return (
        require_id(org_id, "org_id"),
        require_id(agent_id, "agent_id"),
        require_id(user_id, "user_id"),
    )


def checked_write(value: Any) -> MemoriesAndInteraction:
    """Validate the DTO of a save or update."""
    return validate_input(MemoriesAndInteraction, value, what="memories_and_interaction")


def check_filter_node(value: Any) -> FilterNode | None:
    """``None`` or a parsed filter tree (:func:`memora_engine.filters.parse_filter`)."""
    if value is None or isinstance(value, Condition | AllOf | AnyOf | NoneOf):
        return value
    raise InvalidInputError(
        "filter must be a parsed filter (memora_engine.filters.parse_filter(...)), "
        f"got {type(value).__name__}."
    )


def check_memory_ids(value: Any) -> tuple[str, ...]:
    """A list of memory ids (at most ``MAX_PAGE_LIMIT``), canonical and without duplicates."""
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Sequence):
        raise InvalidInputError("memory_ids must be a list of memory ids.")
    if len(value) > MAX_PAGE_LIMIT:
        raise InvalidInputError(f"memory_ids holds {len(value)} ids; at most {MAX_PAGE_LIMIT}.")
    return tuple(dict.fromkeys(require_memory_id(v, "memory_ids item") for v in value))


def require_ids(*pairs: tuple[Any, str]) -> tuple[str, ...]:
    """Each ``(value, name)`` checked as an id, in order."""
    return tuple(require_id(value, name) for value, name in pairs)
