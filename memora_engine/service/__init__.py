"""``memora serve``: the Memora engine over HTTP (and MCP), one process owning the store.

The web framework is imported only with :func:`create_app` / :class:`MemoraService`, so the
client (which shares :mod:`~memora_engine.service.wire`) needs httpx alone.

Examples:
    >>> from memora_engine.service import ApiKeyStore, create_app
    >>> app = create_app(lambda: Memora.embedded(".memora"), ApiKeyStore.load("keys.json"))
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from memora_engine.service.keys import ApiKeyStore, KeyRecord, Principal
from memora_engine.service.wire import (
    ROUTES,
    AuthenticationError,
    PayloadTooLargeError,
    PermissionDeniedError,
)

if TYPE_CHECKING:
    from memora_engine.service.app import MemoraService, create_app

__all__ = [
    "ROUTES",
    "ApiKeyStore",
    "AuthenticationError",
    "KeyRecord",
    "MemoraService",
    "PayloadTooLargeError",
    "PermissionDeniedError",
    "Principal",
    "create_app",
]


def __getattr__(name: str) -> Any:
    if name in {"create_app", "MemoraService"}:
        from memora_engine.service import app

        return getattr(app, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
