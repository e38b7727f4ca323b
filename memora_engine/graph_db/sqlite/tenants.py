"""Organizations, users and agents: transaction bodies run on the SQLite worker thread.

Each function takes the open connection (already inside a transaction) and plain, validated
arguments. Existence checks raise the specific ``*NotFoundError`` / ``ConflictError``.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime

from memora_engine.errors import (
    AgentNotFoundError,
    ConflictError,
    OrganizationNotFoundError,
    UserNotFoundError,
)
from memora_engine.graph_db.hooks import Deleted
from memora_engine.graph_db.sqlite.codec import decode_time, encode_time
from memora_engine.schema.models import Agent, Organization, User

__all__ = [
    "delete_org",
    "delete_user",
    "get_agent",
    "get_org",
    "get_user",
    "insert_agent",
    "insert_org",
    "insert_user",
    "list_org_agents",
    "list_org_users",
    "list_orgs",
    "list_user_agents",
    "rename_agent",
    "rename_org",
    "rename_user",
    "require_agent",
    "require_org",
    "require_user",
]


# ---------------------------------------------------------------------- existence checks
def require_org(conn: sqlite3.Connection, org_id: str) -> None:
    """Raise :class:`OrganizationNotFoundError` unless the org exists."""
    if conn.execute("SELECT 1 FROM orgs WHERE org_id = ?", (org_id,)).fetchone() is None:
        raise OrganizationNotFoundError(org_id=org_id)


def require_user(conn: sqlite3.Connection, org_id: str, user_id: str) -> None:
    """Raise :class:`UserNotFoundError` (or the org's error) unless the user exists."""
    row = conn.execute(
        "SELECT 1 FROM users WHERE org_id = ? AND user_id = ?", (org_id, user_id)
    ).fetchone()
    if row is None:
        require_org(conn, org_id)
        raise UserNotFoundError(org_id=org_id, user_id=user_id)


def require_agent(conn: sqlite3.Connection, org_id: str, agent_id: str) -> None:
    """Raise :class:`AgentNotFoundError` (or the org's error) unless the agent exists."""
    row = conn.execute(
        "SELECT 1 FROM agents WHERE org_id = ? AND agent_id = ?", (org_id, agent_id)
    ).fetchone()
    if row is None:
        require_org(conn, org_id)
        raise AgentNotFoundError(org_id=org_id, agent_id=agent_id)


# ---------------------------------------------------------------------- organizations
def _org(row: sqlite3.Row | tuple[str, str, str]) -> Organization:
    return Organization(org_id=row[0], org_name=row[1], created_at=decode_time(row[2]))


def insert_org(conn: sqlite3.Connection, org_id: str, org_name: str, now: datetime) -> Organization:
    """Create an org; :class:`ConflictError` if the id is taken."""
    if conn.execute("SELECT 1 FROM orgs WHERE org_id = ?", (org_id,)).fetchone() is not None:
        raise ConflictError(f"Organization {org_id!r} already exists.")
    iso, micros = encode_time(now)
    conn.execute(
        "INSERT INTO orgs (org_id, org_name, created_at, created_us) VALUES (?, ?, ?, ?)",
        (org_id, org_name, iso, micros),
    )
    return Organization(org_id=org_id, org_name=org_name, created_at=now)


def rename_org(conn: sqlite3.Connection, org_id: str, org_name: str) -> Organization:
    """Rename an org."""
    conn.execute("UPDATE orgs SET org_name = ? WHERE org_id = ?", (org_name, org_id))
    return get_org(conn, org_id)


def get_org(conn: sqlite3.Connection, org_id: str) -> Organization:
    """One org, or :class:`OrganizationNotFoundError`."""
    row = conn.execute(
        "SELECT org_id, org_name, created_at FROM orgs WHERE org_id = ?", (org_id,)
    ).fetchone()
    if row is None:
        raise OrganizationNotFoundError(org_id=org_id)
    return _org(row)


def list_orgs(conn: sqlite3.Connection) -> list[Organization]:
    """Every org, newest first."""
    rows = conn.execute(
        "SELECT org_id, org_name, created_at FROM orgs ORDER BY created_us DESC, org_id DESC"
    ).fetchall()
    return [_org(row) for row in rows]


def delete_org(conn: sqlite3.Connection, org_id: str) -> Deleted:
    """Delete an org; foreign keys cascade to everything below it (memories reported)."""
    ids = [r[0] for r in conn.execute("SELECT memory_id FROM memories WHERE org_id = ?", (org_id,))]
    cursor = conn.execute("DELETE FROM orgs WHERE org_id = ?", (org_id,))
    return Deleted(found=cursor.rowcount > 0, memory_ids=tuple(ids))


# ---------------------------------------------------------------------- users
def _user(row: sqlite3.Row | tuple[str, str, str, str]) -> User:
    return User(org_id=row[0], user_id=row[1], user_name=row[2], created_at=decode_time(row[3]))


def insert_user(
    conn: sqlite3.Connection, org_id: str, user_id: str, user_name: str, now: datetime
) -> User:
    """Create a user of an existing org; :class:`ConflictError` if the id is taken there."""
    require_org(conn, org_id)
    row = conn.execute(
        "SELECT 1 FROM users WHERE org_id = ? AND user_id = ?", (org_id, user_id)
    ).fetchone()
    if row is not None:
        raise ConflictError(f"User {user_id!r} already exists in organization {org_id!r}.")
    iso, micros = encode_time(now)
    conn.execute(
        "INSERT INTO users (org_id, user_id, user_name, created_at, created_us) "
        "VALUES (?, ?, ?, ?, ?)",
        (org_id, user_id, user_name, iso, micros),
    )
    return User(org_id=org_id, user_id=user_id, user_name=user_name, created_at=now)


def rename_user(conn: sqlite3.Connection, org_id: str, user_id: str, user_name: str) -> User:
    """Rename a user."""
    conn.execute(
        "UPDATE users SET user_name = ? WHERE org_id = ? AND user_id = ?",
        (user_name, org_id, user_id),
    )
    return get_user(conn, org_id, user_id)


def get_user(conn: sqlite3.Connection, org_id: str, user_id: str) -> User:
    """One user of the org, or :class:`UserNotFoundError`."""
    row = conn.execute(
        "SELECT org_id, user_id, user_name, created_at FROM users WHERE org_id = ? AND user_id = ?",
        (org_id, user_id),
    ).fetchone()
    if row is None:
        raise UserNotFoundError(org_id=org_id, user_id=user_id)
    return _user(row)


def list_org_users(conn: sqlite3.Connection, org_id: str) -> list[User]:
    """Every user of the org, newest first."""
    require_org(conn, org_id)
    rows = conn.execute(
        "SELECT org_id, user_id, user_name, created_at FROM users "
        "WHERE org_id = ? ORDER BY created_us DESC, user_id DESC",
        (org_id,),
    ).fetchall()
    return [_user(row) for row in rows]


def delete_user(conn: sqlite3.Connection, org_id: str, user_id: str) -> Deleted:
    """Delete a user (cascading to interactions, messages, memories); their agents stay."""
    ids = [
        r[0]
        for r in conn.execute(
            "SELECT memory_id FROM memories WHERE org_id = ? AND user_id = ?", (org_id, user_id)
        )
    ]
    conn.execute(
        "UPDATE agents SET user_id = NULL WHERE org_id = ? AND user_id = ?", (org_id, user_id)
    )
    cursor = conn.execute("DELETE FROM users WHERE org_id = ? AND user_id = ?", (org_id, user_id))
    return Deleted(found=cursor.rowcount > 0, memory_ids=tuple(ids))


# ---------------------------------------------------------------------- agents
def _agent(row: sqlite3.Row | tuple[str, str, str, str | None, str]) -> Agent:
    return Agent(
        org_id=row[0],
        agent_id=row[1],
        agent_label=row[2],
        user_id=row[3],
        created_at=decode_time(row[4]),
    )


def insert_agent(
    conn: sqlite3.Connection,
    org_id: str,
    agent_id: str,
    agent_label: str,
    user_id: str | None,
    now: datetime,
) -> Agent:
    """Create an org-level agent, or one that also belongs to ``user_id``."""
    require_org(conn, org_id)
    if user_id is not None:
        require_user(conn, org_id, user_id)
    row = conn.execute(
        "SELECT 1 FROM agents WHERE org_id = ? AND agent_id = ?", (org_id, agent_id)
    ).fetchone()
    if row is not None:
        raise ConflictError(f"Agent {agent_id!r} already exists in organization {org_id!r}.")
    iso, micros = encode_time(now)
    conn.execute(
        "INSERT INTO agents (org_id, agent_id, agent_label, user_id, created_at, created_us) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (org_id, agent_id, agent_label, user_id, iso, micros),
    )
    return Agent(
        org_id=org_id, agent_id=agent_id, agent_label=agent_label, user_id=user_id, created_at=now
    )


def rename_agent(conn: sqlite3.Connection, org_id: str, agent_id: str, agent_label: str) -> Agent:
    """Change an agent's label."""
    conn.execute(
        "UPDATE agents SET agent_label = ? WHERE org_id = ? AND agent_id = ?",
        (agent_label, org_id, agent_id),
    )
    return get_agent(conn, org_id, agent_id)


def get_agent(conn: sqlite3.Connection, org_id: str, agent_id: str) -> Agent:
    """One agent of the org, or :class:`AgentNotFoundError`."""
    row = conn.execute(
        "SELECT org_id, agent_id, agent_label, user_id, created_at FROM agents "
        "WHERE org_id = ? AND agent_id = ?",
        (org_id, agent_id),
    ).fetchone()
    if row is None:
        raise AgentNotFoundError(org_id=org_id, agent_id=agent_id)
    return _agent(row)


def list_org_agents(conn: sqlite3.Connection, org_id: str) -> list[Agent]:
    """Every agent of the org, newest first."""
    require_org(conn, org_id)
    rows = conn.execute(
        "SELECT org_id, agent_id, agent_label, user_id, created_at FROM agents "
        "WHERE org_id = ? ORDER BY created_us DESC, agent_id DESC",
        (org_id,),
    ).fetchall()
    return [_agent(row) for row in rows]


def list_user_agents(conn: sqlite3.Connection, org_id: str, user_id: str) -> list[Agent]:
    """The agents that belong to one user, newest first."""
    require_user(conn, org_id, user_id)
    rows = conn.execute(
        "SELECT org_id, agent_id, agent_label, user_id, created_at FROM agents "
        "WHERE org_id = ? AND user_id = ? ORDER BY created_us DESC, agent_id DESC",
        (org_id, user_id),
    ).fetchall()
    return [_agent(row) for row in rows]
