"""The ``memora serve`` HTTP application: one process owns the store, many clients share it.

Every route is a thin door over one public ``Memora`` coroutine (:data:`~.wire.ROUTES`); its
request model and response encoding are read from that coroutine's signature. The app opens
the engine at startup and closes it at shutdown, after the in-flight requests are done, so a
SIGTERM during a save loses nothing that was acknowledged.

Paths: ``/v1/...`` (the API), ``/openapi.json`` (the schema), ``/docs`` (its viewer),
``/healthz`` (the process is up), ``/readyz`` (the store is open), ``/mcp`` (MCP over
streamable HTTP, when enabled).

Examples:
    >>> app = create_app(lambda: Memora.embedded(".memora"), ApiKeyStore.load("keys.json"))
    >>> # uvicorn.run(app, host="127.0.0.1", port=8765)
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated, Any

from fastapi import Body, Depends, FastAPI, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import ConfigDict, create_model
from starlette.routing import Route as StarletteRoute

from memora_engine import __version__
from memora_engine.errors import BackendUnavailableError, InvalidInputError, MemoraError
from memora_engine.memora import Memora
from memora_engine.service.access import authorize
from memora_engine.service.keys import ApiKeyStore, Principal
from memora_engine.service.limits import DEFAULT_MAX_BODY_BYTES, BodyLimitMiddleware
from memora_engine.service.shapes import call_shape
from memora_engine.service.wire import (
    ROUTES,
    Route,
    decode_json_query,
    error_body,
    status_for,
    travels_as_json,
)

__all__ = ["MemoraService", "create_app"]

logger = logging.getLogger("memora_engine.service")

MemoraOpener = Callable[[], Awaitable[Memora]]


class MemoraService:
    """The state behind the app: the engine, the keys, and the in-flight request count.

    Examples:
        >>> service = MemoraService(opener, keys)  # doctest: +SKIP
        >>> memora = service.memora  # while the app runs
    """

    def __init__(self, opener: MemoraOpener, keys: ApiKeyStore) -> None:
        self._opener = opener
        self.keys = keys
        self._memora: Memora | None = None
        self._in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self.draining = False

    @property
    def memora(self) -> Memora:
        """The open engine (``BackendUnavailableError`` before startup or after shutdown)."""
        if self._memora is None or self.draining:
            raise BackendUnavailableError("The Memora service is not ready.")
        return self._memora

    @property
    def ready(self) -> bool:
        """Whether the store is open and requests are accepted."""
        return self._memora is not None and not self.draining

    async def open(self) -> None:
        """Open the engine (the app's startup)."""
        self._memora = await self._opener()

    async def close(self, grace_seconds: float = 30.0) -> None:
        """Stop taking calls, wait (bounded) for the in-flight ones, then close the engine."""
        self.draining = True
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._idle.wait(), grace_seconds)
        if self._memora is not None:
            memora, self._memora = self._memora, None
            await memora.close()

    @contextlib.asynccontextmanager
    async def call(self) -> AsyncIterator[Memora]:
        """Count one engine call as in flight while it runs."""
        memora = self.memora
        self._in_flight += 1
        self._idle.clear()
        try:
            yield memora
        finally:
            self._in_flight -= 1
            if self._in_flight == 0:
                self._idle.set()


def create_app(
    opener: MemoraOpener,
    keys: ApiKeyStore,
    *,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    mcp: bool = True,
    host: str = "127.0.0.1",
) -> FastAPI:
    """Build the service app over the engine that ``opener`` opens (at startup).

    Args:
        opener: Opens the engine the app owns, e.g. ``lambda: Memora.embedded(path)``.
        keys: The API keys (see :class:`~memora_engine.service.keys.ApiKeyStore`).
        max_body_bytes: Largest request body accepted (larger gets 413).
        mcp: Mount the MCP streamable-HTTP endpoint at ``/mcp``.
        host: The address the server binds; on a loopback address the MCP endpoint accepts
            only loopback ``Host`` / ``Origin`` headers (DNS-rebinding protection).
    """
    service = MemoraService(opener, keys)
    mcp_app: Any = None
    if mcp:
        from memora_engine.mcp_server.http import build_http_mcp

        mcp_app = build_http_mcp(service, host=host)

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await service.open()
        try:
            if mcp_app is not None:
                async with mcp_app.lifespan_context():
                    yield
            else:
                yield
        finally:
            await service.close()

    app = FastAPI(
        title="Memora",
        version=__version__,
        summary="Long-term memory for LLM agents: the Memora engine over HTTP.",
        lifespan=lifespan,
    )
    app.state.service = service
    _install_error_handlers(app)
    _install_probes(app, service)

    async def principal(request: Request) -> Principal:
        header = request.headers.get("authorization", "")
        key = header[7:].strip() if header.lower().startswith("bearer ") else None
        return service.keys.authenticate(key or request.headers.get("x-api-key"))

    for route in ROUTES.values():
        _add_route(app, route, service, principal)
    if mcp_app is not None:
        app.router.routes.append(StarletteRoute("/mcp", endpoint=mcp_app))
    app.add_middleware(BodyLimitMiddleware, max_bytes=max_body_bytes)
    return app


def _install_error_handlers(app: FastAPI) -> None:
    async def on_memora_error(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, MemoraError)
        return JSONResponse(error_body(exc), status_code=status_for(exc))

    async def on_validation_error(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        # Locations and reasons only: the offending input may be message text.
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err.get('loc', ()))}: {err.get('msg', '')}"
            for err in exc.errors()[:5]
        )
        error = InvalidInputError(f"Invalid request: {problems}")
        return JSONResponse(error_body(error), status_code=422)

    async def on_unexpected(_: Request, exc: Exception) -> Response:
        logger.error("memora.service: unexpected %s", type(exc).__name__)
        body = {"error": {"type": "MemoraError", "message": "Internal server error."}}
        return JSONResponse(body, status_code=500)

    app.add_exception_handler(MemoraError, on_memora_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(Exception, on_unexpected)


def _install_probes(app: FastAPI, service: MemoraService) -> None:
    @app.get("/healthz", tags=["operations"])
    async def healthz() -> dict[str, str]:
        """The process is up."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["operations"])
    async def readyz() -> Response:
        """The store is open and calls are accepted (503 while starting or draining)."""
        if service.ready:
            return JSONResponse({"status": "ready"})
        return JSONResponse({"status": "unavailable"}, status_code=503)


def _query_param(name: str, hint: Any, default: Any) -> inspect.Parameter:
    """A query parameter; an object or list travels as JSON text (``?filter={...}``)."""
    if travels_as_json(hint):
        annotation: Any = Annotated[
            str | None, Query(description='JSON text, e.g. {"topic": "food"}')
        ]
    else:
        annotation = Annotated[hint, Query()]
    return inspect.Parameter(
        name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation, default=default
    )


def _add_route(
    app: FastAPI,
    route: Route,
    service: MemoraService,
    principal: Callable[[Request], Awaitable[Principal]],
) -> None:
    """Register one ``Memora`` method as an HTTP route with a signature FastAPI can read."""
    engine_method = getattr(Memora, route.method)
    shape = call_shape(engine_method)
    in_path = set(route.path_params)
    rest = [p for p in shape.params if p.name not in in_path]
    params = [
        inspect.Parameter(
            "caller",
            inspect.Parameter.KEYWORD_ONLY,
            annotation=Annotated[Principal, Depends(principal)],
        )
    ]
    params += [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=Annotated[str, Path()])
        for name in route.path_params
    ]
    body_model: Any = None
    if route.has_body:
        fields: dict[str, Any] = {p.name: (p.hint, ... if p.required else p.default) for p in rest}
        body_model = create_model(
            "".join(w.title() for w in route.method.split("_")) + "Request",
            __config__=ConfigDict(extra="forbid", arbitrary_types_allowed=True),
            **fields,
        )
        params.append(
            inspect.Parameter(
                "body", inspect.Parameter.KEYWORD_ONLY, annotation=Annotated[body_model, Body()]
            )
        )
    else:
        params += [_query_param(p.name, p.hint, p.default) for p in rest]
    as_json = [p.name for p in rest if not route.has_body and travels_as_json(p.hint)]
    adapter = shape.result_adapter

    async def endpoint(**kwargs: Any) -> Response:
        caller: Principal = kwargs.pop("caller")
        body = kwargs.pop("body", None)
        if body is not None:
            kwargs.update({name: getattr(body, name) for name in type(body).model_fields})
        for name in as_json:
            kwargs[name] = decode_json_query(name, kwargs[name])
        authorize(caller, route.method, kwargs)
        async with service.call() as memora:
            result = await getattr(memora, route.method)(**kwargs)
        return Response(adapter.dump_json(result), media_type="application/json")

    endpoint.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    endpoint.__name__ = route.method
    doc = inspect.getdoc(engine_method) or ""
    app.add_api_route(
        route.path,
        endpoint,
        methods=[route.http],
        response_model=shape.result,
        tags=[route.tag],
        summary=doc.splitlines()[0] if doc else route.method,
        description=f"`Memora.{route.method}`: {doc}",
        operation_id=route.method,
    )
