"""``memora serve``: the Memora engine over HTTP (and MCP), one process owning the store.

Examples:
    >>> from memora_engine.service import ApiKeyStore, create_app
    >>> app = create_app(lambda: Memora.embedded(".memora"), ApiKeyStore.load("keys.json"))
"""

from memora_engine.service.app import MemoraService, create_app
from memora_engine.service.keys import ApiKeyStore, KeyRecord, Principal
from memora_engine.service.wire import (
    ROUTES,
    AuthenticationError,
    PayloadTooLargeError,
    PermissionDeniedError,
)

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
