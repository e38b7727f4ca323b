"""Memora as an MCP server: ``memora mcp`` (stdio) and ``/mcp`` in ``memora serve``.

Examples:
    >>> from memora_engine.mcp_server import TOOL_NAMES
    >>> TOOL_NAMES[0]
    'save_memory'
"""

from memora_engine.mcp_server.tools import TOOL_NAMES, Tenant, TenantResolver, build_mcp_server

__all__ = ["TOOL_NAMES", "Tenant", "TenantResolver", "build_mcp_server"]
