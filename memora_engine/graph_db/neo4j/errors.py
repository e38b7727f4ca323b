"""Neo4j driver errors -> the Memora error tree, with messages that say what to check (pure).

The ``neo4j`` package is optional, so it is imported only when an error is translated (which
can only happen once a driver exists).
"""

from __future__ import annotations

from memora_engine.errors import (
    BackendAuthError,
    BackendError,
    BackendUnavailableError,
    ConfigurationError,
    ConflictError,
    MemoraError,
)

__all__ = ["is_equivalent_schema_error", "translate_error"]

#: Codes a concurrent ``setup()`` may hit although every statement says IF NOT EXISTS.
_SCHEMA_ALREADY_THERE = frozenset(
    {
        "Neo.ClientError.Schema.EquivalentSchemaRuleAlreadyExists",
        "Neo.ClientError.Schema.ConstraintAlreadyExists",
        "Neo.ClientError.Schema.IndexAlreadyExists",
    }
)
#: Transient codes that mean "another transaction won" once the driver's retries ran out.
_CONCURRENCY_CODES = frozenset(
    {
        "Neo.TransientError.Transaction.DeadlockDetected",
        "Neo.TransientError.Transaction.LockClientStopped",
        "Neo.TransientError.Transaction.Outdated",
        "Neo.TransientError.Transaction.ConstraintsChanged",
    }
)
_DATABASE_NOT_FOUND = "Neo.ClientError.Database.DatabaseNotFound"


def is_equivalent_schema_error(exc: BaseException) -> bool:
    """Whether ``exc`` says the constraint / index being created already exists."""
    return getattr(exc, "code", None) in _SCHEMA_ALREADY_THERE


def translate_error(exc: BaseException, *, uri: str | None, database: str) -> MemoraError | None:
    """Map a ``neo4j`` driver exception to a :class:`MemoraError` (``None``: not a driver error).

    Args:
        exc: The exception raised by the driver.
        uri: The server address, for the message (``None``: a driver passed in).
        database: The database name, for the message.
    """
    from neo4j import exceptions as nx

    server = "Neo4j (through the driver passed in)" if uri is None else f"Neo4j at {uri}"
    where = f"{server} (database {database!r})"
    code = getattr(exc, "code", None) or "no code"
    server_message = exc.message if isinstance(exc, nx.Neo4jError) else None
    detail = server_message or str(exc) or type(exc).__name__
    if isinstance(exc, nx.AuthError | nx.AuthConfigurationError):
        return BackendAuthError(
            f"{where} rejected the credentials ({detail}). Check the username and password "
            "(MEMORA_NEO4J_USER / MEMORA_NEO4J_PASSWORD) or the auth token."
        )
    if isinstance(exc, nx.Forbidden):
        return BackendAuthError(
            f"{where} refused the operation ({detail}). The user lacks a privilege: grant it "
            "read/write access (and, for setup(), the right to create constraints and indexes)."
        )
    if isinstance(exc, nx.ConstraintError):
        return ConflictError(f"{where}: an id already exists ({detail}).")
    if code == _DATABASE_NOT_FOUND:
        return ConfigurationError(
            f"{where}: the database does not exist ({detail}). Check the database name; Neo4j "
            "Community has only the default database 'neo4j'."
        )
    if isinstance(exc, nx.ServiceUnavailable | nx.SessionExpired | nx.ConnectionPoolError):
        return BackendUnavailableError(
            f"Cannot reach {where} ({detail}). Check that the server is running, the URI "
            "scheme and port (neo4j:// or bolt://, default 7687), TLS (+s / +ssc) and the network."
        )
    if isinstance(exc, nx.DatabaseUnavailable | nx.NotALeader | nx.ForbiddenOnReadOnlyDatabase):
        return BackendUnavailableError(
            f"{where} is not available for this operation right now ({detail}); "
            "check the database status (it may be starting, stopped or read-only) and retry."
        )
    if isinstance(exc, nx.TransientError) and code in _CONCURRENCY_CODES:
        return ConflictError(
            f"{where}: a concurrent transaction kept winning ({detail}); retry the call."
        )
    if isinstance(exc, nx.ConfigurationError):
        return ConfigurationError(f"Neo4j driver configuration is invalid: {detail}")
    if isinstance(exc, nx.Neo4jError | nx.DriverError):
        return BackendError(f"{where} failed with {code}: {detail}")
    return None
