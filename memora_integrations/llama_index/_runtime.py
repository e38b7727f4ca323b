"""Where Memora's async core runs when LlamaIndex calls us sync or async (internal).

LlamaIndex calls memory and tools both ways: ``get`` / ``aget``, ``call`` / ``acall``. Every
adapter method is written once, as a coroutine over the async core, and run by the engine's
:class:`~memora_engine.MemoraRunner` (sync callers block on the portal; async callers await on
the loop the core belongs to).
"""

from __future__ import annotations

from memora_engine import Memora, MemoraRunner, SyncMemora

__all__ = ["CoreRunner", "MemoraLike"]

#: What every LlamaIndex adapter accepts: the async core or its sync facade.
MemoraLike = Memora | SyncMemora

#: The engine's runner: sync callers block on the portal, async callers await on the core's loop.
CoreRunner = MemoraRunner
