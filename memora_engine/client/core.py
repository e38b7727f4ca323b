"""``MemoraClient``: the ``Memora`` API over HTTP, against a ``memora serve`` process.

Same methods, same signatures, same return types and same error classes as the engine, so code
written for ``Memora`` (and the adapters) runs against a shared server. ``config=`` (a
LangChain ``RunnableConfig``) holds live callbacks and stays on the client side: the server's
model calls are traced by the server.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from types import TracebackType
from typing import Any
from urllib.parse import quote

import httpx
from pydantic_core import to_jsonable_python
from typing_extensions import Self

from memora_engine.client._methods import AsyncClientMethods
from memora_engine.errors import BackendUnavailableError, InvalidInputError
from memora_engine.ids import require_id, require_memory_id
from memora_engine.service.shapes import call_shape
from memora_engine.service.wire import ROUTES, error_from_body

__all__ = ["API_KEY_ENV", "DEFAULT_URL", "URL_ENV", "MemoraClient"]

#: Environment variable read when no ``api_key`` is given.
API_KEY_ENV = "MEMORA_API_KEY"
#: Environment variable read when no ``base_url`` is given.
URL_ENV = "MEMORA_URL"
#: Where ``memora serve`` listens by default.
DEFAULT_URL = "http://127.0.0.1:8765"


class MemoraClient(AsyncClientMethods):
    """Async ``Memora`` over HTTP (httpx): the same public coroutines as the engine.

    Args:
        base_url: The service URL (default ``$MEMORA_URL``, else ``http://127.0.0.1:8765``).
        api_key: The API key (default ``$MEMORA_API_KEY``).
        timeout: Seconds per request (saves with a model can take a while).
        http_client: An ``httpx.AsyncClient`` to use (not closed by :meth:`close`).

    Examples:
        >>> async with MemoraClient("http://127.0.0.1:8765", api_key="mem_...") as memora:
        ...     await memora.setup()  # waits for nothing; checks the service is ready
        ...     await memora.search_memories_as_one(org_id, user_id, ["allergies"])
    """

    def __init__(
        self,
        base_url: str | None = None,
        api_key: str | None = None,
        *,
        timeout: float = 120.0,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        self.base_url = (base_url or os.environ.get(URL_ENV) or DEFAULT_URL).rstrip("/")
        key = api_key if api_key is not None else os.environ.get(API_KEY_ENV)
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        self._owns_http = http_client is None
        self._http = http_client or httpx.AsyncClient(timeout=timeout)
        self._headers = headers

    async def setup(self) -> None:
        """Check that the service is ready (the server owns the stores' setup).

        Raises:
            BackendUnavailableError: the service cannot be reached or is not ready.
        """
        response = await self._send("GET", "/readyz")
        if response.status_code != 200:
            raise BackendUnavailableError(f"The Memora service at {self.base_url} is not ready.")

    async def close(self) -> None:
        """Close the HTTP connections this client opened (safe to call twice)."""
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def _call(self, method: str, **arguments: Any) -> Any:
        """Send one engine call and decode its answer (or raise the engine's error)."""
        if arguments.get("reranker") is not None:
            raise InvalidInputError(
                "reranker= runs in the engine's process and cannot be sent to memora serve: "
                "rerank the returned memories on the client instead."
            )
        route = ROUTES[method]
        shape = call_shape(getattr(AsyncClientMethods, method))
        path = route.path.format(
            **{name: _path_segment(name, arguments[name]) for name in route.path_params}
        )
        rest = {p.name: arguments[p.name] for p in shape.params if p.name not in route.path_params}
        if route.has_body:
            response = await self._send(route.http, path, json=to_jsonable_python(rest))
        else:
            response = await self._send(route.http, path, params=_query(rest))
        if response.status_code >= 400:
            try:
                body = response.json()
            except ValueError:
                body = None
            raise error_from_body(response.status_code, body)
        return shape.result_adapter.validate_json(response.content)

    async def _send(self, http: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            return await self._http.request(
                http, self.base_url + path, headers=self._headers, **kwargs
            )
        except httpx.TransportError as exc:
            raise BackendUnavailableError(
                f"Cannot reach the Memora service at {self.base_url}: {type(exc).__name__}."
            ) from exc


def _path_segment(name: str, value: Any) -> str:
    """An id for the path, checked as the engine checks it (so ``..`` never travels)."""
    checked = require_memory_id(value, name) if name == "memory_id" else require_id(value, name)
    return quote(checked, safe="")


def _query(arguments: Mapping[str, Any]) -> dict[str, str | int | float]:
    """Query parameters: ``None`` left out (the server's default is ``None``), bools as text,
    objects and lists (a ``filter``) as JSON text (datetimes in them as ISO 8601)."""
    query: dict[str, str | int | float] = {}
    for name, value in arguments.items():
        if value is None:
            continue
        if isinstance(value, bool):
            query[name] = "true" if value else "false"
        elif isinstance(value, (str, int, float)):
            query[name] = value
        elif isinstance(value, (Mapping, list, tuple)):
            query[name] = _json_text(name, value)
        else:
            raise InvalidInputError(f"{name} must be a str, int, float, bool, dict or list.")
    return query


def _json_text(name: str, value: Any) -> str:
    """``value`` as compact JSON (``InvalidInputError`` for what JSON cannot carry)."""
    try:
        return json.dumps(to_jsonable_python(value), separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"{name} cannot be sent as JSON: {exc}") from None
