"""MCP over streamable HTTP inside ``memora serve`` (at ``/mcp``), behind the service's keys.

Every request needs an API key (401 otherwise). The key gives the tenant: its organization and,
for a key bound to one user, that user; an organization key names the user with the
``X-Memora-User`` header (an admin key also names the organization with ``X-Memora-Org``).
``X-Memora-Agent`` names the agent (default ``mcp``, created on first use).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError

from memora_engine.errors import MemoraError
from memora_engine.mcp_server.tools import Tenant, build_mcp_server
from memora_engine.service.access import authorize
from memora_engine.service.wire import AuthenticationError, error_body

if TYPE_CHECKING:
    from memora_engine.service.app import MemoraService

__all__ = ["DEFAULT_AGENT_ID", "HttpMcp", "build_http_mcp"]

#: The agent MCP clients save as when they name none.
DEFAULT_AGENT_ID = "mcp"


def _bearer(headers: Any) -> str | None:
    value = str(headers.get("authorization") or "")
    if value.lower().startswith("bearer "):
        return value[7:].strip() or None
    return headers.get("x-api-key") or None


class HttpMcp:
    """The MCP endpoint of the service: an ASGI app plus the lifespan its sessions need."""

    def __init__(self, service: MemoraService, *, host: str = "127.0.0.1") -> None:
        self._service = service
        self._agents_ready: set[tuple[str, str]] = set()
        self.server = build_mcp_server(self._tenant)
        # Builds the session manager; on a loopback host it also turns on the SDK's
        # DNS-rebinding protection (loopback Host / Origin headers only).
        self.server.streamable_http_app(streamable_http_path="/mcp", host=host)

    @contextlib.asynccontextmanager
    async def lifespan_context(self) -> AsyncIterator[None]:
        """Run the MCP session manager while the service runs."""
        async with self.server.session_manager.run():
            yield

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        """Refuse requests without a valid key; hand the rest to the MCP session manager."""
        if scope["type"] == "http":
            headers = {
                k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]
            }
            try:
                self._service.keys.authenticate(_bearer(headers))
            except AuthenticationError as exc:
                body = json.dumps(error_body(exc)).encode()
                await send(
                    {
                        "type": "http.response.start",
                        "status": 401,
                        "headers": [(b"content-type", b"application/json")],
                    }
                )
                await send({"type": "http.response.body", "body": body})
                return
        await self.server.session_manager.handle_request(scope, receive, send)

    async def _tenant(self, ctx: Context) -> Tenant:
        headers = ctx.headers or {}
        try:
            principal = self._service.keys.authenticate(_bearer(headers))
            org_id = principal.org_id or headers.get("x-memora-org")
            user_id = principal.user_id or headers.get("x-memora-user")
            if not org_id or not user_id:
                raise ToolError(
                    "This MCP connection names no user: use a key bound to one user, or send "
                    "the X-Memora-User header (and X-Memora-Org with an admin key)."
                )
            agent_id = headers.get("x-memora-agent") or DEFAULT_AGENT_ID
            authorize(
                principal,
                "save_or_update_interaction_and_memories",
                {"org_id": org_id, "user_id": user_id},
            )
            memora = self._service.memora
            if (org_id, agent_id) not in self._agents_ready:
                await memora.get_or_create_agent(org_id, agent_id, agent_label="MCP client")
                self._agents_ready.add((org_id, agent_id))
        except MemoraError as exc:
            raise ToolError(f"{type(exc).__name__}: {exc}") from exc
        return Tenant(memora, org_id, user_id, agent_id)


def build_http_mcp(service: MemoraService, *, host: str = "127.0.0.1") -> HttpMcp:
    """The MCP endpoint over ``service``'s engine and keys (``host``: the bind address)."""
    return HttpMcp(service, host=host)
