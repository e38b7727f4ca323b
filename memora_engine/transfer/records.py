"""The JSONL interchange format of :mod:`memora_engine.transfer` (pure: no I/O).

One JSON object per line, told apart by ``"type"``:

* ``{"type": "memora-export", "version": 2, ...}`` — optional header written by export
  (version 1, written before memories had metadata, still imports).
* ``{"type": "organization", "org_id", "org_name", "created_at"?}``
* ``{"type": "user", "org_id", "user_id", "user_name", "created_at"?}``
* ``{"type": "agent", "org_id", "agent_id", "agent_label", "user_id"?, "created_at"?}``
* ``{"type": "interaction", "org_id"?, "user_id"?, "agent_id"?, "interaction_id"?,
  "created_at"?, "updated_at"?, "messages": [{"role", "content"}], "metadata"?: {...},
  "memories"?: [...]}``

An interaction **without** ``memories`` is a conversation: Memora extracts its memories (with the
configured LLM, or verbatim in raw mode), each with the interaction's ``metadata`` if given. An
interaction **with** ``memories`` (even ``[]``) is a
restore: messages and memories are written exactly as given (ids, times, sources, history), which
is what export writes. Each memory is ``{"memory_id", "memory", "obtained_at", "agent_id"?,
"sources": [positions], "supersedes"?: older memory_id, "metadata"?: {...}}``: metadata is
written exactly as given (a version without it has none; it never inherits); its text is stored as given, so the
``user_<id>`` / ``agent_<id>`` placeholders export writes keep following renames. Entities
without ``created_at`` are created "now". Missing org / user / agent ids are taken from
``--org`` / ``--user`` / ``--agent`` (:class:`Defaults`). Naive timestamps are read as UTC.

Validation checks here everything the write will check on the records themselves (names and
memory text as the stores accept them, in :mod:`memora_engine.transfer.record_types`; the
exact write objects); references to the store are checked by
:mod:`memora_engine.transfer.importer`. Every problem names its line.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from memora_engine.errors import InvalidInputError
from memora_engine.schema.storage import (
    ContraryMemoryToStore,
    MemoriesAndInteraction,
    MemoryToStore,
)
from memora_engine.transfer.record_types import (
    AgentRecord,
    InteractionRecord,
    MemoryRecord,
    OrgRecord,
    Record,
    UserRecord,
)

__all__ = [
    "FORMAT_VERSION",
    "READABLE_VERSIONS",
    "AgentRecord",
    "Defaults",
    "ImportFileError",
    "ImportPlan",
    "InteractionRecord",
    "MemoryRecord",
    "OrgRecord",
    "UserRecord",
    "build_write",
    "decode_lines",
    "parse_records",
    "plan_records",
    "sort_problems",
]

FORMAT_VERSION = 2
#: Export versions this reader accepts (1: before memory metadata; its files still import).
READABLE_VERSIONS = (1, 2)
_MAX_SHOWN_PROBLEMS = 10


class ImportFileError(InvalidInputError):
    """The import file is invalid; nothing was imported. ``problems`` lists ``line N: ...``."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.problems = problems
        shown = "\n  ".join(problems[:_MAX_SHOWN_PROBLEMS])
        more = len(problems) - _MAX_SHOWN_PROBLEMS
        tail = f"\n  ... and {more} more" if more > 0 else ""
        super().__init__(
            f"{source}: {len(problems)} problem(s), nothing was imported:\n  {shown}{tail}"
        )


_MODELS: dict[str, type[Record]] = {
    "organization": OrgRecord,
    "user": UserRecord,
    "agent": AgentRecord,
    "interaction": InteractionRecord,
}


@dataclass(frozen=True)
class Defaults:
    """Ids used when an interaction record omits them (from ``--org`` / ``--user`` / ``--agent``)."""

    org_id: str | None = None
    user_id: str | None = None
    agent_id: str | None = None


@dataclass
class ImportPlan:
    """A validated file: entities, then interactions (with their 1-based line numbers)."""

    orgs: list[OrgRecord] = field(default_factory=list)
    users: list[UserRecord] = field(default_factory=list)
    agents: list[AgentRecord] = field(default_factory=list)
    interactions: list[tuple[int, InteractionRecord]] = field(default_factory=list)

    @property
    def restores(self) -> list[tuple[int, InteractionRecord]]:
        """Interactions written exactly (memories given)."""
        return [(n, r) for n, r in self.interactions if r.is_restore]

    @property
    def conversations(self) -> list[tuple[int, InteractionRecord]]:
        """Interactions whose memories Memora extracts."""
        return [(n, r) for n, r in self.interactions if not r.is_restore]

    def memory_count(self) -> int:
        """Memories given in restore records."""
        return sum(len(r.memories or []) for _, r in self.interactions)


def plan_records(
    lines: Iterable[tuple[int, dict[str, Any]]], defaults: Defaults
) -> tuple[ImportPlan, list[str]]:
    """Validate every record and the references between them; returns ``(plan, problems)``.

    ``lines`` are ``(line_number, decoded_object)``. Every problem is reported (with its line),
    not only the first; references to entities not defined in the file are left for the
    importer to check against the store.
    """
    plan = ImportPlan()
    problems: list[str] = []
    for number, data in lines:
        record = _parse_one(number, data, defaults, problems)
        if isinstance(record, OrgRecord):
            plan.orgs.append(record)
        elif isinstance(record, UserRecord):
            plan.users.append(record)
        elif isinstance(record, AgentRecord):
            plan.agents.append(record)
        elif isinstance(record, InteractionRecord):
            plan.interactions.append((number, record))
    problems.extend(_cross_check(plan))
    return plan, problems


def parse_records(
    lines: Iterable[tuple[int, dict[str, Any]]], defaults: Defaults, *, source: str = "input"
) -> ImportPlan:
    """:func:`plan_records`, raising when there is any problem.

    Raises:
        ImportFileError: one or more problems, each naming its line.
    """
    plan, problems = plan_records(lines, defaults)
    if problems:
        raise ImportFileError(source, sort_problems(problems))
    return plan


def sort_problems(problems: Iterable[str]) -> list[str]:
    """Problems ordered by their line number (problems without one last, in order)."""

    def line_of(problem: str) -> float:
        if problem.startswith("line "):
            number = problem[5:].split(":", 1)[0]
            if number.isdigit():
                return int(number)
        return float("inf")

    return sorted(problems, key=line_of)


def decode_lines(text_lines: Iterable[str]) -> tuple[list[tuple[int, dict[str, Any]]], list[str]]:
    """Decode JSONL lines (blank lines skipped); returns ``(objects, problems)``."""
    out: list[tuple[int, dict[str, Any]]] = []
    problems: list[str] = []
    for number, line in enumerate(text_lines, start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(f"line {number}: not valid JSON ({exc.msg} at column {exc.colno})")
            continue
        except RecursionError:
            problems.append(f"line {number}: not valid JSON (nested too deeply)")
            continue
        if not isinstance(data, dict):
            problems.append(f"line {number}: expected a JSON object, got {type(data).__name__}")
            continue
        out.append((number, data))
    return out, problems


def _parse_one(
    number: int, data: dict[str, Any], defaults: Defaults, problems: list[str]
) -> Record | None:
    kind = data.get("type", "interaction" if "messages" in data else None)
    if kind == "memora-export":
        version = data.get("version")
        if isinstance(version, bool) or version not in READABLE_VERSIONS:
            problems.append(f"line {number}: unsupported export version {version!r}")
        return None
    model = _MODELS.get(kind) if isinstance(kind, str) else None
    if model is None:
        problems.append(
            f"line {number}: unknown record type {kind!r} (expected one of {sorted(_MODELS)})"
        )
        return None
    if model is InteractionRecord:
        data = {
            "org_id": defaults.org_id,
            "user_id": defaults.user_id,
            "agent_id": defaults.agent_id,
            **{k: v for k, v in data.items() if v is not None or k == "memories"},
        }
    try:
        return model.model_validate(data)
    except (ValidationError, InvalidInputError) as exc:
        problems.append(f"line {number}: {_explain(exc)}")
        return None


def _explain(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'record'}: {err['msg']}"
            for err in exc.errors()[:3]
        )
    return str(exc)


def _cross_check(plan: ImportPlan) -> list[str]:
    problems: list[str] = []
    _check_unique("org_id", [(None, o.org_id) for o in plan.orgs], problems)
    _check_unique("user_id", [(None, (u.org_id, u.user_id)) for u in plan.users], problems)
    _check_unique("agent_id", [(None, (a.org_id, a.agent_id)) for a in plan.agents], problems)
    keys = [
        (n, (r.org_id, r.user_id, r.interaction_id))
        for n, r in plan.restores
        if r.interaction_id is not None
    ]
    _check_unique("interaction_id", keys, problems)
    owner_of: dict[str, tuple[str | None, str | None]] = {}
    supersedes: dict[str, str] = {}
    for number, record in plan.interactions:
        for name in ("org_id", "user_id", "agent_id"):
            if getattr(record, name) is None:
                flag = "--" + name.removesuffix("_id")
                problems.append(f"line {number}: no {name} (put it in the record or pass {flag})")
        if not record.is_restore:
            continue
        if record.interaction_id is None:
            problems.append(f"line {number}: a record with memories needs its interaction_id")
        created, updated = record.created_at, record.updated_at
        if created is not None and updated is not None and updated < created:
            problems.append(f"line {number}: updated_at is before created_at")
        size = len(record.messages)
        try:
            build_write(record, list(record.memories or []), record.updated_at)
        except (ValidationError, InvalidInputError) as exc:
            problems.append(f"line {number}: {_explain(exc)}")
        for memory in record.memories or []:
            bad = [p for p in memory.sources if p >= size]
            if bad:
                problems.append(
                    f"line {number}: memory {memory.memory_id} has sources {bad} outside the "
                    f"{size} messages"
                )
            if memory.memory_id in owner_of:
                problems.append(f"line {number}: memory_id {memory.memory_id} appears twice")
            owner_of[memory.memory_id] = (record.org_id, record.user_id)
            if memory.supersedes is not None:
                supersedes[memory.memory_id] = memory.supersedes
    for newer, older in supersedes.items():
        if older in owner_of and owner_of[older] != owner_of[newer]:
            problems.append(f"memory {newer} supersedes {older} of another user")
    problems.extend(_cycles(supersedes))
    return problems


def _check_unique(name: str, keys: Sequence[tuple[int | None, Any]], problems: list[str]) -> None:
    seen: set[Any] = set()
    for number, key in keys:
        if key in seen:
            where = f"line {number}: " if number is not None else ""
            problems.append(f"{where}{name} {key!r} is defined twice")
        seen.add(key)


def _cycles(supersedes: dict[str, str]) -> list[str]:
    """Memories whose ``supersedes`` chain loops (each chain is walked once)."""
    problems: list[str] = []
    finished: set[str] = set()
    for start in supersedes:
        path: list[str] = []
        on_path: set[str] = set()
        current: str | None = start
        while current is not None and current not in finished:
            if current in on_path:
                problems.append(f"memory {current} is part of a history cycle")
                break
            path.append(current)
            on_path.add(current)
            current = supersedes.get(current)
        finished.update(path)
    return problems


def build_write(
    record: InteractionRecord, memories: list[MemoryRecord], when: datetime | None
) -> MemoriesAndInteraction:
    """The exact write object of a restored interaction with ``memories`` (validated).

    Raises:
        pydantic.ValidationError: a value the engine would refuse.
    """
    plain = [
        MemoryToStore(
            memory=m.memory,
            source_msg_block_pos=m.sources,
            memory_id=m.memory_id,
            obtained_at=m.obtained_at,
            agent_id=m.agent_id,
            metadata=dict(m.metadata),
        )
        for m in memories
        if m.supersedes is None
    ]
    contrary = [
        ContraryMemoryToStore(
            memory=m.memory,
            source_msg_block_pos=m.sources,
            memory_id=m.memory_id,
            obtained_at=m.obtained_at,
            agent_id=m.agent_id,
            existing_contrary_memory_id=m.supersedes,
            metadata=dict(m.metadata),  # exactly as exported: {} must not inherit
        )
        for m in memories
        if m.supersedes is not None
    ]
    data: dict[str, object] = {
        "interaction": record.messages_as_dicts(),
        "memories": plain,
        "contrary_memories": contrary,
    }
    if when is not None:
        data["interaction_date"] = when
    return MemoriesAndInteraction.model_validate(data)
