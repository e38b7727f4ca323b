"""Where Memora's async core runs when LlamaIndex calls us sync or async, and tracing (internal).

LlamaIndex calls memory and tools both ways: ``get`` / ``aget``, ``call`` / ``acall``. Every
adapter method is written once, as a coroutine over the async core, and run by the engine's
:class:`~memora_engine.MemoraRunner` (sync callers block on the portal; async callers await on
the loop the core belongs to).

Tracing: LlamaIndex's own instrumentation has no LangChain run Memora's model calls could nest
under, so each adapter takes a ``run_config`` (a LangChain ``RunnableConfig``: callbacks, tags,
metadata) that is forwarded to every model call it makes; when a call happens inside a
LangChain / LangGraph run (e.g. a LlamaIndex memory used in a LangGraph node), that run's config
is used instead, so the calls nest in the surrounding trace.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from langchain_core.runnables.config import var_child_runnable_config

from memora_engine import Memora, MemoraRunner, SyncMemora
from memora_engine.tracing import RunnableConfig

__all__ = ["CoreRunner", "MemoraLike", "run_config_for"]

#: What every LlamaIndex adapter accepts: the async core or its sync facade.
MemoraLike = Memora | SyncMemora

#: The engine's runner: sync callers block on the portal, async callers await on the core's loop.
CoreRunner = MemoraRunner


def run_config_for(fixed: Mapping[str, Any] | None) -> RunnableConfig | None:
    """The config Memora's model calls get: the surrounding LangChain run's, else ``fixed``.

    Call it in the caller's thread and task (context variables do not follow a coroutine onto
    the portal's loop).
    """
    config = var_child_runnable_config.get() or fixed
    if config is None:
        return None
    trimmed = dict(config)  # run_id / run_name name one run, not each of Memora's calls
    trimmed.pop("run_id", None)
    trimmed.pop("run_name", None)
    return cast(RunnableConfig, trimmed)
