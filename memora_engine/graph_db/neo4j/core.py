"""The Neo4j store's plumbing: the driver, managed transactions, setup, names, error translation.

Every public operation is one managed transaction (``execute_read`` / ``execute_write``, which
retry transient failures) whose body is a plain coroutine ``work(tx, ...)``. All sessions share
the driver's bookmark manager, so reads (routed to secondaries on a cluster) see earlier writes. Statements are only
run through :func:`fetch`, which takes a :class:`~.cypher.Statement` and checks its parameters.
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable, Iterable
from types import ModuleType
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar

from memora_engine.errors import ConfigurationError, InvalidInputError, MemoraError, UsageError
from memora_engine.graph_db.base import BaseGraphDB
from memora_engine.graph_db.neo4j import cypher
from memora_engine.graph_db.neo4j.errors import is_equivalent_schema_error, translate_error
from memora_engine.graph_db.neo4j.mapping import Row, name_keys, names_by_org
from memora_engine.graph_db.write_plan import Names
from memora_engine.install import install_hint

if TYPE_CHECKING:
    from neo4j import AsyncDriver, AsyncManagedTransaction

__all__ = ["Neo4jCore", "fetch", "fetch_one", "load_driver_module", "lookup_names"]

P = ParamSpec("P")
T = TypeVar("T")

_INSTALL_HINT = install_hint("neo4j")


def load_driver_module() -> ModuleType:
    """Import the optional ``neo4j`` driver.

    Raises:
        ConfigurationError: the driver is not installed (names the extra to install).
    """
    try:
        return importlib.import_module("neo4j")
    except ImportError as exc:
        raise ConfigurationError(
            f"The Neo4j graph store needs the neo4j driver: {_INSTALL_HINT}"
        ) from exc


async def fetch(
    tx: AsyncManagedTransaction, statement: cypher.Statement, **params: Any
) -> list[dict[str, Any]]:
    """Run one statement in ``tx`` and return its rows as dicts (keyed by its columns)."""
    cypher.check_params(statement, params)
    result = await tx.run(statement.text, params)
    rows = await result.data()
    if rows and tuple(rows[0]) != statement.columns:
        raise TypeError(
            f"Cypher {statement.name} returned {list(rows[0])}, not the declared columns"
        )
    return rows


async def fetch_one(
    tx: AsyncManagedTransaction, statement: cypher.Statement, **params: Any
) -> dict[str, Any] | None:
    """The first row of a statement, or ``None``."""
    rows = await fetch(tx, statement, **params)
    return rows[0] if rows else None


async def lookup_names(tx: AsyncManagedTransaction, memory_rows: Iterable[Row]) -> dict[str, Names]:
    """Current names for the placeholders in ``memory_rows``, per organization."""
    user_keys, agent_keys = name_keys(memory_rows)
    if not user_keys and not agent_keys:
        return {}
    rows = await fetch(tx, cypher.NAMES, user_keys=user_keys, agent_keys=agent_keys)
    return names_by_org(rows)


class Neo4jCore(BaseGraphDB):
    """Driver ownership, transactions and setup shared by the entity mixins."""

    def __init__(
        self,
        uri: str | None = None,
        username: str | None = None,
        password: str | None = None,
        database: str = "neo4j",
        *,
        driver: AsyncDriver | None = None,
    ) -> None:
        neo4j = load_driver_module()
        if not isinstance(database, str) or not database.strip():
            raise InvalidInputError("database must be a non-empty database name.")
        self._database = database
        self._closed = False
        self._read_mode = neo4j.READ_ACCESS
        self._write_mode = neo4j.WRITE_ACCESS
        if driver is not None:
            self._driver: AsyncDriver = driver
            self._owns_driver = False
            self._uri: str | None = uri
            return
        if not uri or not isinstance(uri, str):
            raise ConfigurationError(
                "Neo4jGraphInterface needs uri= (e.g. 'neo4j://localhost:7687') or driver=."
            )
        # No password: a server without authentication. A password alone: user "neo4j".
        auth = None if password is None else (username or "neo4j", password)
        try:
            self._driver = neo4j.AsyncGraphDatabase.driver(uri, auth=auth)
        except (ValueError, neo4j.exceptions.DriverError) as exc:
            raise ConfigurationError(
                f"Cannot create a Neo4j driver for {uri!r}: {exc}. Use a URI like "
                "'neo4j://host:7687', 'neo4j+s://<id>.databases.neo4j.io' or 'bolt://host:7687'."
            ) from exc
        self._owns_driver = True
        self._uri = uri

    def __repr__(self) -> str:
        where = "driver=<given>" if self._uri is None else repr(self._uri)
        return f"Neo4jGraphInterface({where}, database={self._database!r})"

    @property
    def driver(self) -> AsyncDriver:
        """The async driver in use (created here, or the one passed in)."""
        return self._driver

    # ------------------------------------------------------------------ infrastructure
    async def setup(self) -> None:
        """Create the constraints and indexes (idempotent; safe to run concurrently).

        Each statement runs in its own transaction; "an equivalent rule already exists", which
        concurrent runs can hit, counts as success.
        """
        for statement in cypher.SCHEMA_STATEMENTS:
            try:
                await self._write(_run_schema, statement)
            except MemoraError as exc:
                if not is_equivalent_schema_error(exc.__cause__ or exc):
                    raise

    async def close(self) -> None:
        """Close the driver if this object created it (a driver passed in stays open).

        The store cannot be used afterwards; closing twice is harmless.
        """
        if self._closed:
            return
        self._closed = True
        if self._owns_driver:
            await self._driver.close()

    # ------------------------------------------------------------------ transactions
    async def _read(
        self,
        work: Callable[Concatenate[AsyncManagedTransaction, P], Awaitable[T]],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        """Run ``work(tx, ...)`` in one managed read transaction."""
        return await self._execute(self._read_mode, work, *args, **kwargs)

    async def _write(
        self,
        work: Callable[Concatenate[AsyncManagedTransaction, P], Awaitable[T]],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        """Run ``work(tx, ...)`` in one managed write transaction."""
        return await self._execute(self._write_mode, work, *args, **kwargs)

    async def _execute(
        self,
        mode: str,
        work: Callable[Concatenate[AsyncManagedTransaction, P], Awaitable[T]],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        if self._closed:
            raise UsageError(
                "This Neo4jGraphInterface is closed; create a new one to keep working."
            )
        try:
            async with self._driver.session(
                database=self._database,
                default_access_mode=mode,
                # Causal consistency across this store's sessions (and the driver's
                # execute_query): on a cluster a read routed to a secondary still sees every
                # write acknowledged before it.
                bookmark_manager=self._driver.execute_query_bookmark_manager,
            ) as session:
                if mode == self._read_mode:
                    return await session.execute_read(work, *args, **kwargs)
                return await session.execute_write(work, *args, **kwargs)
        except MemoraError:
            raise
        except Exception as exc:
            translated = translate_error(exc, uri=self._uri, database=self._database)
            if translated is None:
                raise
            raise translated from exc


async def _run_schema(tx: AsyncManagedTransaction, statement: cypher.Statement) -> None:
    await fetch(tx, statement)
