"""Tracing: carry the caller's LangChain ``RunnableConfig`` to every model call of one engine call.

Every public ``Memora`` method that may call a model takes ``config=`` (callbacks, tags, metadata,
run name). The method enters :func:`run_config_scope`; the LLM layer reads
:func:`current_run_config` and passes it to the chat model, so Memora's extraction, comparison
and recall calls show up nested inside the caller's own trace (LangSmith or any callback
handler). A context variable keeps the config out of every internal signature and is safe under
concurrency (each task has its own context).

Examples:
    >>> with run_config_scope({"tags": ["memora"]}):
    ...     current_run_config()
    {'tags': ['memora']}
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from typing import Any

from langchain_core.runnables import RunnableConfig

from memora_engine.errors import InvalidInputError

__all__ = ["RunnableConfig", "current_run_config", "run_config_scope"]

_PER_RUN_KEYS = frozenset({"run_id", "run_name"})
_RUN_CONFIG: ContextVar[RunnableConfig | None] = ContextVar("memora_run_config", default=None)


def current_run_config() -> RunnableConfig | None:
    """The config of the engine call being served, if its caller gave one."""
    return _RUN_CONFIG.get()


@contextlib.contextmanager
def run_config_scope(config: Mapping[str, Any] | None) -> Iterator[None]:
    """Make ``config`` the current run config for the ``with`` body (``None``: keep the outer one).

    Raises:
        InvalidInputError: ``config`` is not a mapping.
    """
    if config is None:
        yield
        return
    if not isinstance(config, Mapping):
        raise InvalidInputError(
            f"config must be a LangChain RunnableConfig (a dict), got {type(config).__name__}."
        )
    # One engine call makes several model calls: each gets its own run, so the caller's
    # ``run_id`` / ``run_name`` (which name ONE run) are not handed to every one of them.
    shared = {k: v for k, v in config.items() if k not in _PER_RUN_KEYS}
    token = _RUN_CONFIG.set(RunnableConfig(**shared))  # type: ignore[typeddict-item]
    try:
        yield
    finally:
        _RUN_CONFIG.reset(token)
