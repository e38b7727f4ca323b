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
memory text as the stores accept them, the exact write objects); references to the store are
checked by :mod:`memora_engine.transfer.importer`. Every problem names its line.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from memora_engine.errors import InvalidInputError
from memora_engine.filters import Metadata, validate_metadata
from memora_engine.ids import ensure_aware, require_id, require_memory_id, require_text
from memora_engine.limits import MAX_MEMORY_CHARS, MAX_MESSAGES_PER_INTERACTION, MAX_NAME_CHARS
from memora_engine.schema.storage import (
    ContraryMemoryToStore,
    MemoriesAndInteraction,
    MemoryToStore,
    MessageIn,
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


def _aware(value: Any) -> Any:
    return ensure_aware(value) if isinstance(value, datetime) else value


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_label(value: str, name: str) -> str:
    """A name or label exactly as the stores accept it (no NUL, bounded, not blank)."""
    return require_text(value, name, max_chars=MAX_NAME_CHARS)


class _IdCheck:
    @staticmethod
    def check(value: str | None, name: str) -> str | None:
        return None if value is None else require_id(value, name)


class OrgRecord(_Record):
    """An organization to create (kept as is when the id exists)."""

    type: Literal["organization"]
    org_id: str
    org_name: str = Field(min_length=1, max_length=MAX_NAME_CHARS)
    created_at: datetime | None = None

    @field_validator("org_id")
    @classmethod
    def _id(cls, v: str) -> str:
        return require_id(v, "org_id")

    @field_validator("org_name")
    @classmethod
    def _name(cls, v: str) -> str:
        return _check_label(v, "org_name")


class UserRecord(_Record):
    """A user to create."""

    type: Literal["user"]
    org_id: str
    user_id: str
    user_name: str = Field(min_length=1, max_length=MAX_NAME_CHARS)
    created_at: datetime | None = None

    @field_validator("org_id", "user_id")
    @classmethod
    def _id(cls, v: str) -> str:
        return require_id(v, "id")

    @field_validator("user_name")
    @classmethod
    def _name(cls, v: str) -> str:
        return _check_label(v, "user_name")


class AgentRecord(_Record):
    """An agent to create (org-level, or owned by ``user_id``)."""

    type: Literal["agent"]
    org_id: str
    agent_id: str
    agent_label: str = Field(min_length=1, max_length=MAX_NAME_CHARS)
    user_id: str | None = None
    created_at: datetime | None = None

    @field_validator("org_id", "agent_id", "user_id")
    @classmethod
    def _id(cls, v: str | None) -> str | None:
        return _IdCheck.check(v, "id")

    @field_validator("agent_label")
    @classmethod
    def _name(cls, v: str) -> str:
        return _check_label(v, "agent_label")


class MemoryRecord(_Record):
    """A memory of a restored interaction."""

    memory_id: str
    memory: str = Field(min_length=1, max_length=MAX_MEMORY_CHARS)
    obtained_at: datetime
    agent_id: str | None = None
    sources: list[int] = Field(default_factory=list)
    supersedes: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)

    @field_validator("metadata", mode="plain")
    @classmethod
    def _metadata(cls, v: object) -> Metadata:
        return {} if v is None else validate_metadata(v)

    @field_validator("memory_id", "supersedes")
    @classmethod
    def _memory_id(cls, v: str | None) -> str | None:
        return None if v is None else require_memory_id(v)

    @field_validator("agent_id")
    @classmethod
    def _agent(cls, v: str | None) -> str | None:
        return _IdCheck.check(v, "agent_id")

    @field_validator("memory")
    @classmethod
    def _text(cls, v: str) -> str:
        return require_text(v, "memory", max_chars=MAX_MEMORY_CHARS)

    @field_validator("obtained_at")
    @classmethod
    def _time(cls, v: datetime) -> datetime:
        return ensure_aware(v, name="obtained_at")

    @field_validator("sources")
    @classmethod
    def _sources(cls, v: list[int]) -> list[int]:
        if any(p < 0 for p in v):
            raise ValueError("sources must be message positions >= 0")
        return sorted(set(v))


class InteractionRecord(_Record):
    """A conversation (``memories is None``) or an exact restore (``memories`` given)."""

    type: Literal["interaction"] = "interaction"
    org_id: str | None = None
    user_id: str | None = None
    agent_id: str | None = None
    interaction_id: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    messages: list[MessageIn] = Field(max_length=MAX_MESSAGES_PER_INTERACTION)
    metadata: dict[str, Any] | None = None
    memories: list[MemoryRecord] | None = None

    @field_validator("metadata", mode="plain")
    @classmethod
    def _metadata(cls, v: object) -> Metadata | None:
        return None if v is None else validate_metadata(v)

    @model_validator(mode="after")
    def _metadata_of_conversations_only(self) -> InteractionRecord:
        if self.metadata is not None and self.memories is not None:
            raise ValueError(
                "metadata of an interaction is for conversations (memories extracted on "
                "import); in a restore, give each memory its own metadata"
            )
        return self

    @field_validator("org_id", "user_id", "agent_id", "interaction_id")
    @classmethod
    def _id(cls, v: str | None) -> str | None:
        return _IdCheck.check(v, "id")

    @field_validator("created_at", "updated_at")
    @classmethod
    def _time(cls, v: datetime | None) -> datetime | None:
        return None if v is None else ensure_aware(v)

    @property
    def is_restore(self) -> bool:
        """Whether memories are given (written exactly) rather than extracted."""
        return self.memories is not None

    def messages_as_dicts(self) -> list[dict[str, str]]:
        """The messages as ``{"role", "content"}`` dicts."""
        return [{"role": m.role, "content": m.content} for m in self.messages]


_MODELS: dict[str, type[_Record]] = {
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
) -> _Record | None:
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
