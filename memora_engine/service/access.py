"""Who may call what: the tenancy rules of ``memora serve`` (pure, no I/O).

* An admin key may call everything.
* An organization key may call every method on its own organization; another organization's
  ids behave as missing (``OrganizationNotFoundError``, 404), exactly as in the engine.
  Creating, listing, renaming and deleting organizations, and the maintenance calls that look
  across tenants (``index_status``, ``memory_ids_in_use``, ``reindex``,
  ``restore_interactions``), are for admin keys (403); ``get_or_create_organization`` of the
  key's own organization is allowed (the framework adapters call it on first use).
* A key bound to one user also sees only that user: another user's ids behave as missing
  (``UserNotFoundError``); listing or creating users and changing org-level agents is refused.

Examples:
    >>> authorize(Principal("k", "acme", None, False), "get_user",
    ...           {"org_id": "other", "user_id": "u"})
    Traceback (most recent call last):
    ...
    memora_engine.errors.OrganizationNotFoundError: Organization (org_id='other') does not exist.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from memora_engine.errors import OrganizationNotFoundError, UserNotFoundError
from memora_engine.service.keys import Principal
from memora_engine.service.wire import PermissionDeniedError
from memora_engine.vector_db.base import MemorySearchScope

__all__ = ["authorize"]

_ADMIN_ONLY = frozenset(
    {
        "create_organization",
        "list_organizations",
        "update_organization",
        "delete_organization",
        "get_or_create_organization",
        "index_status",
        "memory_ids_in_use",
        "reindex",
        "restore_interactions",
    }
)
_NOT_FOR_USER_KEYS = frozenset({"create_user", "list_users", "update_agent", "delete_agent"})
#: Methods where ``user_id=None`` means "not about a user" (allowed for a user's key).
_USER_OPTIONAL = frozenset({"list_agents", "get_or_create_agent"})


def authorize(principal: Principal, method: str, args: Mapping[str, Any]) -> None:
    """Raise unless ``principal`` may call ``method`` with ``args``.

    Raises:
        PermissionDeniedError: the key may not make this kind of call (403).
        OrganizationNotFoundError / UserNotFoundError: the ids belong to another tenant (404).
    """
    if principal.admin:
        return
    if method == "get_or_create_organization" and args.get("org_id") == principal.org_id:
        return  # its own organization (what the adapters call on first use); creates no other
    if method in _ADMIN_ONLY:
        raise PermissionDeniedError(f"{method} needs an admin key.")
    if "org_id" in args and args["org_id"] != principal.org_id:
        raise OrganizationNotFoundError(org_id=str(args["org_id"]))
    if principal.user_id is None:
        return
    if method in _NOT_FOR_USER_KEYS:
        raise PermissionDeniedError(f"{method} is not allowed with a key bound to one user.")
    if (
        method == "search_memories_as_batch"
        and args.get("memory_search_scope", MemorySearchScope.USER) != MemorySearchScope.USER
    ):
        raise PermissionDeniedError("A key bound to one user searches in USER scope only.")
    if "user_id" in args:
        user_id = args["user_id"]
        if user_id is None and method in _USER_OPTIONAL:
            return
        if user_id != principal.user_id:
            raise UserNotFoundError(org_id=principal.org_id, user_id=str(user_id))
