"""Request body limit of ``memora serve`` (a pure ASGI middleware).

The engine checks every field against :mod:`memora_engine.limits` (422). This cap stops a body
before it is read into memory: larger than the largest request the engine could accept with
the default settings is refused with 413 and nothing is written.
"""

from __future__ import annotations

import json
from typing import Any

from memora_engine.limits import MAX_MESSAGE_CHARS
from memora_engine.service.wire import PayloadTooLargeError, error_body

__all__ = ["DEFAULT_MAX_BODY_BYTES", "BodyLimitMiddleware"]

#: Default cap: 64 messages of the largest size, UTF-8 worst case (4 bytes a character).
DEFAULT_MAX_BODY_BYTES = 64 * MAX_MESSAGE_CHARS * 4

Scope = dict[str, Any]
Message = dict[str, Any]


class BodyLimitMiddleware:
    """Answer 413 to any HTTP request whose body exceeds ``max_bytes``.

    Examples:
        >>> app = BodyLimitMiddleware(inner_app, max_bytes=1_000_000)  # doctest: +SKIP
    """

    def __init__(self, app: Any, max_bytes: int = DEFAULT_MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(send)
            return
        seen = 0
        responded = refused = False

        async def limited_receive() -> Message:
            nonlocal seen, refused
            if refused:
                return {"type": "http.disconnect"}
            message: Message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    # Answer now; the app sees a disconnect and stops reading (writes nothing).
                    refused = True
                    if not responded:
                        await self._refuse(send)
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal responded
            if refused:
                return
            if message["type"] == "http.response.start":
                responded = True
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except Exception:
            if not refused:
                raise

    def _error(self) -> PayloadTooLargeError:
        return PayloadTooLargeError(f"The request body is larger than {self.max_bytes} bytes.")

    async def _refuse(self, send: Any) -> None:
        body = json.dumps(error_body(self._error())).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
