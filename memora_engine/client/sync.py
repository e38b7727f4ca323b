"""``SyncMemoraClient``: the blocking twin of :class:`MemoraClient`, on the one portal."""

from __future__ import annotations

from types import TracebackType
from typing import Any

from typing_extensions import Self

from memora_engine.client._methods import SyncClientMethods
from memora_engine.client.core import MemoraClient
from memora_engine.sync import EventLoopPortal, default_portal

__all__ = ["SyncMemoraClient"]


class SyncMemoraClient(SyncClientMethods):
    """Blocking ``Memora`` over HTTP: every method runs :class:`MemoraClient`'s on the portal.

    Args:
        base_url: The service URL (default ``$MEMORA_URL``, else ``http://127.0.0.1:8765``).
        api_key: The API key (default ``$MEMORA_API_KEY``).
        portal: The event-loop portal (default: the process-wide one ``SyncMemora`` uses).
        **kwargs: More :class:`MemoraClient` options (``timeout``).

    Examples:
        >>> with SyncMemoraClient("http://127.0.0.1:8765", api_key="mem_...") as memora:
        ...     memora.list_memories(org_id, user_id)
    """

    def __init__(
        self,
        base_url: str | None = None,
        api_key: str | None = None,
        *,
        portal: EventLoopPortal | None = None,
        **kwargs: Any,
    ) -> None:
        self.aio: MemoraClient = MemoraClient(base_url, api_key, **kwargs)
        self._portal = portal or default_portal()

    @property
    def portal(self) -> EventLoopPortal:
        """The portal the async client runs on."""
        return self._portal

    def setup(self) -> None:
        """See :meth:`MemoraClient.setup`."""
        self._portal.run(self.aio.setup())

    def close(self) -> None:
        """See :meth:`MemoraClient.close`."""
        self._portal.run(self.aio.close())

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
