"""The wire contract shared by ``memora serve`` and :class:`~memora_engine.client.MemoraClient`.

Pure data and functions (no web framework, no I/O):

* :data:`ROUTES`: one HTTP route per public ``Memora`` coroutine. Arguments named in the path
  template travel in the path; the others travel as query parameters (``GET`` / ``DELETE``) or
  as a JSON body (``POST`` / ``PUT`` / ``PATCH``). Request and response shapes are derived from
  ``Memora``'s own signatures, so a parameter added to the engine (metadata, filters) appears on
  the API and in the client without a second definition. A query parameter that is not a
  plain value (a ``filter`` object on ``GET .../memories``) travels as JSON text
  (:func:`travels_as_json`, :func:`decode_json_query`).
* the error mapping, both ways: each :class:`~memora_engine.errors.MemoraError` class has an
  HTTP status and a JSON body ``{"error": {"type": ..., "message": ..., "ids": {...}}}``; the
  client turns that body back into the same class.

Examples:
    >>> ROUTES["get_memory"].path
    '/v1/orgs/{org_id}/users/{user_id}/memories/{memory_id}'
    >>> status_for(errors.MemoryNotFoundError())
    404
"""

from __future__ import annotations

import enum
import json
import re
import types
from dataclasses import dataclass
from typing import Any, Union, get_args, get_origin

from memora_engine import errors
from memora_engine.errors import (
    BackendAuthError,
    BackendError,
    BackendUnavailableError,
    ConfigurationError,
    ConflictError,
    InvalidInputError,
    LLMError,
    MemoraError,
    NotFoundError,
    UsageError,
)

__all__ = [
    "API_PREFIX",
    "ROUTES",
    "AuthenticationError",
    "PayloadTooLargeError",
    "PermissionDeniedError",
    "Route",
    "decode_json_query",
    "error_body",
    "error_from_body",
    "status_for",
    "travels_as_json",
]

API_PREFIX = "/v1"


class AuthenticationError(MemoraError):
    """The service refused the API key (missing, unknown or revoked): HTTP 401."""


class PermissionDeniedError(MemoraError):
    """The API key is valid but may not make this call (e.g. tenant management): HTTP 403."""


class PayloadTooLargeError(InvalidInputError):
    """The request body is larger than the service accepts: HTTP 413. Nothing was written."""


@dataclass(frozen=True)
class Route:
    """How one ``Memora`` method travels over HTTP.

    Attributes:
        method: The ``Memora`` method name.
        http: ``GET``, ``POST``, ``PUT``, ``PATCH`` or ``DELETE``.
        path: The path template; ``{name}`` segments are the method's arguments of that name.
        tag: The OpenAPI tag (groups the routes in the docs).
    """

    method: str
    http: str
    path: str
    tag: str

    @property
    def path_params(self) -> tuple[str, ...]:
        """The argument names carried in the path, in order."""
        return tuple(re.findall(r"{(\w+)}", self.path))

    @property
    def has_body(self) -> bool:
        """Whether the remaining arguments travel as a JSON body (else as query parameters)."""
        return self.http in {"POST", "PUT", "PATCH"}


_ORG = API_PREFIX + "/orgs/{org_id}"
_USER = _ORG + "/users/{user_id}"

_TABLE: tuple[tuple[str, str, str, str], ...] = (
    # organizations
    ("create_organization", "POST", API_PREFIX + "/orgs", "tenants"),
    ("list_organizations", "GET", API_PREFIX + "/orgs", "tenants"),
    ("get_organization", "GET", _ORG, "tenants"),
    ("update_organization", "PATCH", _ORG, "tenants"),
    ("delete_organization", "DELETE", _ORG, "tenants"),
    ("get_or_create_organization", "PUT", _ORG, "tenants"),
    # users
    ("create_user", "POST", _ORG + "/users", "tenants"),
    ("list_users", "GET", _ORG + "/users", "tenants"),
    ("get_user", "GET", _USER, "tenants"),
    ("update_user", "PATCH", _USER, "tenants"),
    ("delete_user", "DELETE", _USER, "tenants"),
    ("get_or_create_user", "PUT", _USER, "tenants"),
    # agents
    ("create_agent", "POST", _ORG + "/agents", "tenants"),
    ("list_agents", "GET", _ORG + "/agents", "tenants"),
    ("get_agent", "GET", _ORG + "/agents/{agent_id}", "tenants"),
    ("update_agent", "PATCH", _ORG + "/agents/{agent_id}", "tenants"),
    ("delete_agent", "DELETE", _ORG + "/agents/{agent_id}", "tenants"),
    ("get_or_create_agent", "PUT", _ORG + "/agents/{agent_id}", "tenants"),
    # interactions
    ("save_or_update_interaction_and_memories", "POST", _USER + "/interactions", "interactions"),
    ("restore_interaction", "POST", _USER + "/interactions/restore", "interactions"),
    ("list_interactions", "GET", _USER + "/interactions", "interactions"),
    ("get_interaction", "GET", _USER + "/interactions/{interaction_id}", "interactions"),
    ("delete_interaction", "DELETE", _USER + "/interactions/{interaction_id}", "interactions"),
    ("delete_all_interactions", "DELETE", _USER + "/interactions", "interactions"),
    # memories
    ("list_memories", "GET", _USER + "/memories", "memories"),
    ("get_memory", "GET", _USER + "/memories/{memory_id}", "memories"),
    ("get_memory_history", "GET", _USER + "/memories/{memory_id}/history", "memories"),
    ("get_memory_context", "GET", _USER + "/memories/{memory_id}/context", "memories"),
    ("get_current_memories", "POST", _USER + "/memories/current", "memories"),
    ("list_memory_links", "GET", _USER + "/memory-links", "memories"),
    ("delete_memory", "DELETE", _USER + "/memories/{memory_id}", "memories"),
    ("delete_all_memories", "DELETE", _USER + "/memories", "memories"),
    # facts and edits (a filtered delete travels as POST: its filter is a JSON body)
    ("add_memories", "POST", _USER + "/memories", "memories"),
    ("edit_memory", "PATCH", _USER + "/memories/{memory_id}", "memories"),
    ("delete_memories", "POST", _USER + "/memories/delete", "memories"),
    # maintenance (admin keys only: these look across tenants)
    ("index_status", "GET", API_PREFIX + "/admin/index-status", "admin"),
    ("memory_ids_in_use", "POST", API_PREFIX + "/admin/memory-ids-in-use", "admin"),
    ("reindex", "POST", API_PREFIX + "/admin/reindex", "admin"),
    ("restore_interactions", "POST", API_PREFIX + "/admin/restore", "admin"),
    # search and recall
    ("search_memories_as_one", "POST", _USER + "/search", "search"),
    ("search_memories_with_scores", "POST", _USER + "/search/scores", "search"),
    ("search_memories_as_batch", "POST", _ORG + "/search/batch", "search"),
    ("recall_memories_for_message", "POST", _USER + "/recall", "search"),
    ("generate_memory_search_queries", "POST", API_PREFIX + "/model/search-queries", "model"),
    (
        "filter_retrieved_memories_with_model",
        "POST",
        API_PREFIX + "/model/filter-memories",
        "model",
    ),
)

#: Every routed ``Memora`` method, by name.
ROUTES: dict[str, Route] = {name: Route(name, http, path, tag) for name, http, path, tag in _TABLE}

# ---------------------------------------------------------------------- query parameters
#: Types a query parameter carries as itself (anything else travels as JSON text).
_PLAIN_QUERY_TYPES: frozenset[Any] = frozenset({str, int, float, bool, type(None)})


def travels_as_json(hint: Any) -> bool:
    """Whether a query parameter of type ``hint`` travels as JSON text (objects, lists).

    Examples:
        >>> travels_as_json(str | None), travels_as_json(dict[str, int] | None)
        (False, True)
    """
    members = get_args(hint) if get_origin(hint) in (Union, types.UnionType) else (hint,)
    return any(
        member not in _PLAIN_QUERY_TYPES
        and not (isinstance(member, type) and issubclass(member, enum.Enum))
        for member in members
    )


def decode_json_query(name: str, text: str | None) -> Any:
    """The value of a JSON query parameter (``None`` when absent).

    Raises:
        InvalidInputError: the text is not JSON (the service answers 422).

    Examples:
        >>> decode_json_query("filter", '{"topic": "food"}')
        {'topic': 'food'}
    """
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        example = '{"topic": "food"}'
        raise InvalidInputError(f"{name} must be JSON text, e.g. {name}={example}.") from None


# ---------------------------------------------------------------------- errors both ways
_STATUS: tuple[tuple[type[MemoraError], int], ...] = (
    (PayloadTooLargeError, 413),
    (InvalidInputError, 422),
    (NotFoundError, 404),
    (ConflictError, 409),
    (AuthenticationError, 401),
    (PermissionDeniedError, 403),
    (UsageError, 400),
    (ConfigurationError, 501),
    (BackendUnavailableError, 503),
    (BackendAuthError, 502),
    (BackendError, 502),
    (LLMError, 502),
)

_BY_NAME: dict[str, type[MemoraError]] = {
    cls.__name__: cls
    for cls in (
        *(getattr(errors, name) for name in errors.__all__),
        AuthenticationError,
        PermissionDeniedError,
        PayloadTooLargeError,
    )
}


def status_for(error: MemoraError) -> int:
    """The HTTP status of an engine error (500 for a class with no mapping)."""
    for cls, status in _STATUS:
        if isinstance(error, cls):
            return status
    return 500


def error_body(error: MemoraError) -> dict[str, Any]:
    """The JSON body sent for ``error``: its class name, message and (for not-found) its ids."""
    detail: dict[str, Any] = {"type": type(error).__name__, "message": str(error)}
    if isinstance(error, NotFoundError):
        detail["ids"] = dict(error.ids)
    return {"error": detail}


def error_from_body(status: int, body: Any) -> MemoraError:
    """Rebuild the error a service answered with (same class as raised on the server)."""
    detail = body.get("error") if isinstance(body, dict) else None
    if not isinstance(detail, dict):
        return _fallback(status)(f"HTTP {status} from the Memora service.")
    cls = _BY_NAME.get(str(detail.get("type")), _fallback(status))
    message = str(detail.get("message", f"HTTP {status}"))
    if issubclass(cls, NotFoundError):
        ids = detail.get("ids")
        found = cls(message)
        found.ids = {str(k): str(v) for k, v in ids.items()} if isinstance(ids, dict) else {}
        return found
    return cls(message)


def _fallback(status: int) -> type[MemoraError]:
    """The class for an answer that carries no Memora error body (e.g. a proxy's page)."""
    if status in _GENERIC_BY_STATUS:
        return _GENERIC_BY_STATUS[status]
    return BackendUnavailableError if status >= 500 else MemoraError


#: The most general class of each status, for answers without a Memora error body.
_GENERIC_BY_STATUS: dict[int, type[MemoraError]] = {
    400: UsageError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    413: PayloadTooLargeError,
    422: InvalidInputError,
    501: ConfigurationError,
    502: BackendError,
    503: BackendUnavailableError,
}
