"""Shared plumbing for the LangChain and LangGraph adapters (private).

* :class:`MemoraBridge` runs the engine's async core from sync code (through the one portal,
  :class:`memora_engine.MemoraRunner`) and from async code (awaiting directly, or on the
  portal's loop when the core lives there, as it does behind a ``SyncMemora``).
* Pure conversions between LangChain messages, Memora message dicts and memory dicts.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Coroutine, Iterable, Iterator, Mapping, Sequence
from typing import Any, TypeVar, cast

from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    ChatMessage,
    HumanMessage,
    SystemMessage,
)
from langchain_core.runnables import RunnableConfig
from langchain_core.runnables.config import var_child_runnable_config
from pydantic import ValidationError

from memora_engine import Memora, MemoraRunner, SyncMemora
from memora_engine.errors import InteractionNotFoundError, InvalidInputError
from memora_engine.filters import parse_optional_filter, validate_metadata
from memora_engine.schema import Interaction, Memory

__all__ = [
    "VALID_ID",
    "MemoraBridge",
    "MemoraLike",
    "ambient_config",
    "checked_filter",
    "checked_metadata",
    "combined_filter",
    "ensure_tenant",
    "forwardable",
    "from_memora_messages",
    "invalid_settings",
    "memory_to_dict",
    "message_role",
    "message_text",
    "optional_kwargs",
    "save_conversation",
    "stored_interaction",
    "to_memora_messages",
]

T = TypeVar("T")

#: The id alphabet Memora accepts (1-64 letters, digits, ``_``, ``-``), used to decide whether a
#: framework id (thread id, key) can be used as a Memora id as is. The engine validates again.
VALID_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")

#: What every adapter accepts: the async core or its sync facade.
MemoraLike = Memora | SyncMemora


class MemoraBridge:
    """Run coroutines of one Memora core from sync and async callers.

    Given a ``SyncMemora``, the core lives on the facade's portal loop: async callers on
    another loop hand their coroutine to that loop and await the result. Given a ``Memora``,
    async callers await directly and sync callers use the default portal.
    """

    def __init__(self, memora: MemoraLike) -> None:
        self._runner = MemoraRunner(memora)
        self.core: Memora = self._runner.core

    def run(self, make: Callable[[Memora], Coroutine[Any, Any, T]]) -> T:
        """Block until ``make(core)`` finishes on the portal loop; return its result."""
        return self._runner.run(make(self.core))

    async def arun(self, make: Callable[[Memora], Coroutine[Any, Any, T]]) -> T:
        """Await ``make(core)`` on the loop the core belongs to."""
        return await self._runner.arun(make(self.core))


@contextlib.contextmanager
def invalid_settings(what: str) -> Iterator[None]:
    """Turn pydantic validation errors of an adapter's settings into ``InvalidInputError``."""
    try:
        yield
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or what}: {err['msg']}" for err in exc.errors()
        )
        raise InvalidInputError(f"Invalid {what} settings: {problems}") from None


async def ensure_tenant(
    core: Memora, org_id: str, user_id: str, agent_id: str | None = None
) -> None:
    """Create the organization, user and agent when missing (ids double as names)."""
    await core.get_or_create_organization(org_id)
    await core.get_or_create_user(org_id, user_id)
    if agent_id is not None:
        await core.get_or_create_agent(org_id, agent_id)


async def stored_interaction(
    core: Memora,
    org_id: str,
    user_id: str,
    interaction_id: str | None,
    *,
    messages: bool = True,
    memories: bool = False,
) -> Interaction | None:
    """The stored interaction, or ``None`` if there is none yet."""
    if interaction_id is None:
        return None
    try:
        return await core.get_interaction(
            org_id, user_id, interaction_id, with_messages=messages, with_memories=memories
        )
    except InteractionNotFoundError:
        return None


async def save_conversation(
    core: Memora,
    org_id: str,
    user_id: str,
    agent_id: str,
    conversation: Sequence[dict[str, str]],
    interaction_id: str | None,
    *,
    infer: bool | None,
    config: RunnableConfig | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> str:
    """Save the full ``conversation`` as ``interaction_id`` (created with that id if missing).

    ``config`` is the caller's run config (tracing); ``metadata`` goes to every memory the save
    creates. Returns the interaction id.
    """
    saved_id, _ = await core.save_or_update_interaction_and_memories(
        org_id,
        user_id,
        agent_id,
        conversation,
        interaction_id=interaction_id,
        infer=infer,
        create_if_missing=interaction_id is not None,
        config=config,
        **optional_kwargs(metadata=metadata),
    )
    return saved_id


def optional_kwargs(**kwargs: Any) -> dict[str, Any]:
    """The keyword arguments that are not ``None``.

    Adapters pass ``filter=`` / ``metadata=`` only when set, so they keep working with a
    ``Memora``-like object (an older HTTP client) that does not take them yet.
    """
    return {name: value for name, value in kwargs.items() if value is not None}


def checked_metadata(metadata: object, what: str) -> dict[str, Any] | None:
    """``metadata`` checked against Memora's limits now (``None`` stays ``None``).

    Raises:
        InvalidInputError: not a flat JSON object within the limits (the message says why).
    """
    if metadata is None:
        return None
    return dict(validate_metadata(metadata, what=what))


def checked_filter(filter: object, what: str) -> dict[str, Any] | None:
    """``filter`` checked against Memora's filter language now (``None`` stays ``None``).

    Raises:
        InvalidInputError: not a dict, or not a valid filter (the message says why).
    """
    if filter is None:
        return None
    if not isinstance(filter, Mapping):
        raise InvalidInputError(f"{what} must be a dict, got {type(filter).__name__}.")
    try:
        parse_optional_filter(filter)
    except InvalidInputError as exc:
        raise InvalidInputError(f"{what}: {exc}") from None
    return dict(filter)


def combined_filter(*filters: Any) -> Any:
    """The AND of the non-empty filters; ``None`` when there is none.

    Filters are passed on as given: the engine validates them (``InvalidInputError``).

    Examples:
        >>> combined_filter({"topic": "food"}, None, {"score": {"$gte": 3}})
        {'$and': [{'topic': 'food'}, {'score': {'$gte': 3}}]}
    """
    present = [f for f in filters if f is not None and not (isinstance(f, Mapping) and not f)]
    if not present:
        return None
    return present[0] if len(present) == 1 else {"$and": present}


def ambient_config() -> RunnableConfig | None:
    """The config of the LangChain / LangGraph run the caller is inside, if any.

    Inside a run this is the run's child config (its callbacks are the run's child manager),
    so model calls made with it nest under that run. Read it in the caller's thread and task
    (before handing work to the portal): context variables do not follow a coroutine onto
    another event loop.
    """
    return var_child_runnable_config.get()


def forwardable(config: RunnableConfig | None) -> RunnableConfig | None:
    """``config`` without ``run_id`` / ``run_name``, which name one run, not Memora's calls."""
    if config is None:
        return None
    trimmed = dict(config)
    trimmed.pop("run_id", None)
    trimmed.pop("run_name", None)
    return cast(RunnableConfig, trimmed)


# ---------------------------------------------------------------------- pure conversions
_ROLE_BY_TYPE = {"human": "user", "ai": "assistant", "system": "system", "tool": "tool"}


def message_role(message: BaseMessage) -> str:
    """The Memora role of a LangChain message (``user``, ``assistant``, ``system``, ...)."""
    if isinstance(message, ChatMessage):
        return message.role
    return _ROLE_BY_TYPE.get(message.type, message.type)


def message_text(message: BaseMessage) -> str:
    """The plain text of a message (text content blocks joined; other blocks dropped)."""
    return str(message.text)


def to_memora_messages(messages: Iterable[BaseMessage]) -> list[dict[str, str]]:
    """LangChain messages -> ``[{"role", "content"}]`` (roles and text only)."""
    return [{"role": message_role(m), "content": message_text(m)} for m in messages]


def from_memora_messages(messages: Sequence[Any]) -> list[BaseMessage]:
    """Stored message blocks (``role`` / ``content`` attributes or keys) -> LangChain messages."""
    out: list[BaseMessage] = []
    for block in messages:
        role = block["role"] if isinstance(block, dict) else block.role
        content = block["content"] if isinstance(block, dict) else block.content
        lowered = role.lower()
        if lowered in ("user", "human"):
            out.append(HumanMessage(content=content))
        elif lowered in ("assistant", "ai"):
            out.append(AIMessage(content=content))
        elif lowered == "system":
            out.append(SystemMessage(content=content))
        else:
            out.append(ChatMessage(role=role, content=content))
    return out


def memory_to_dict(memory: Memory, score: float | None = None) -> dict[str, Any]:
    """A JSON-ready view of a memory: text, ids, ``obtained_at`` (ISO), sources, metadata,
    score."""
    data: dict[str, Any] = {
        "memory_id": memory.memory_id,
        "memory": memory.memory,
        "obtained_at": memory.obtained_at.isoformat(),
        "org_id": memory.org_id,
        "user_id": memory.user_id,
        "agent_id": memory.agent_id,
        "interaction_id": memory.interaction_id,
        "message_sources": [
            {"role": s.role, "content": s.content, "msg_position": s.msg_position}
            for s in memory.message_sources
        ],
        "metadata": dict(memory.metadata),
    }
    if score is not None:
        data["score"] = score
    return data
