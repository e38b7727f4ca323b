"""``memora mcp``: Memora's MCP tools over stdio, for desktop agents (Claude, Cursor, ...).

The tenant is fixed for the process (settings / ``MEMORA_ORG_ID``, ``MEMORA_USER_ID``,
``MEMORA_AGENT_ID`` or flags). The engine is either the embedded store opened by this process,
or a ``memora serve`` reached through :class:`~memora_engine.client.MemoraClient` (so the
desktop agent and other clients share one store).
"""

from __future__ import annotations

from typing import Any

from mcp.server.mcpserver import Context

from memora_engine.errors import OrganizationNotFoundError
from memora_engine.mcp_server.tools import Tenant, build_mcp_server

__all__ = ["run_stdio"]


async def run_stdio(memora: Any, org_id: str, user_id: str, agent_id: str) -> None:
    """Serve the tools on stdin/stdout until the client disconnects.

    The organization, user and agent are created if missing (named by their ids).

    Args:
        memora: A ``Memora`` or a ``MemoraClient`` (the caller closes it).
    """
    try:
        await memora.get_organization(org_id)  # an org key through a server may not create orgs
    except OrganizationNotFoundError:
        await memora.create_organization(org_id, org_id=org_id)
    await memora.get_or_create_user(org_id, user_id)
    await memora.get_or_create_agent(org_id, agent_id, agent_label=agent_id)
    tenant = Tenant(memora, org_id, user_id, agent_id)

    async def fixed(_: Context) -> Tenant:
        return tenant

    await build_mcp_server(fixed).run_stdio_async()
