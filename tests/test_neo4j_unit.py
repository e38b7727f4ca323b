"""Neo4j backend, pure parts and the driver boundary (no server needed).

Result mapping, write planning, diff planning, placeholder resolution and error translation are
plain functions tested on plain data and on the real driver's own types (``neo4j.time``,
``neo4j.exceptions``). Driver-facing behaviour that needs no server (construction, ownership,
unreachable server, validation before any I/O) runs against a real driver pointed at a closed
local port.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import neo4j
import pytest
from neo4j import exceptions as nx

from memora_engine.errors import (
    AgentNotFoundError,
    BackendAuthError,
    BackendError,
    BackendUnavailableError,
    ConfigurationError,
    ConflictError,
    InteractionNotFoundError,
    InvalidInputError,
    OrganizationNotFoundError,
    UsageError,
    UserNotFoundError,
)
from memora_engine.graph_db.neo4j import Neo4jGraphInterface, cypher, mapping
from memora_engine.graph_db.neo4j.errors import is_equivalent_schema_error, translate_error
from memora_engine.graph_db.write_plan import Names, NewMemory
from memora_engine.message_diff import MessageDiff

PACKAGE_DIR = Path(mapping.__file__).parent
#: Modules that hold Cypher text (statements too many for one small module are split).
CYPHER_MODULES = {"cypher.py", "cypher_edits.py", "cypher_fragments.py", "cypher_memories.py"}
T = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)


def _row(statement: cypher.Statement, **values: Any) -> dict[str, Any]:
    """A result row of ``statement``: exactly its declared columns, in order."""
    assert set(values) == set(statement.columns), statement.name
    return {column: values[column] for column in statement.columns}


def _projected(fields: tuple[str, ...], **values: Any) -> dict[str, Any]:
    """A map projection with exactly ``fields`` (plus nested extras such as message_sources)."""
    assert set(fields) <= set(values), set(fields) - set(values)
    return dict(values)


def _message(position: int, content: str, role: str = "user") -> dict[str, Any]:
    return _projected(cypher.MESSAGE_FIELDS, msg_position=position, role=role, content=content)


def _memory_row(memory_id: str, text: str = "fact", **extra: Any) -> dict[str, Any]:
    """A memory map as the ``_MEMORY`` projection returns it."""
    values: dict[str, Any] = {
        "org_id": "o1",
        "user_id": "u1",
        "agent_id": "a1",
        "interaction_id": "ix",
        "memory_id": memory_id,
        "memory": text,
        "obtained_at": T,
        "metadata": None,
        "message_sources": [],
    }
    values.update(extra)
    assert set(values) == {*cypher.MEMORY_FIELDS, "message_sources"}
    return values


def _server_error(code: str, message: str = "server says no") -> nx.Neo4jError:
    """An error exactly as the driver builds it from a server failure message."""
    return nx.Neo4jError._hydrate_neo4j(code=code, message=message)


# ---------------------------------------------------------------------------------- cypher
def test_every_statement_declares_exactly_the_parameters_it_uses() -> None:
    for statement in cypher.ALL_STATEMENTS:
        used = set(re.findall(r"\$([A-Za-z_][A-Za-z0-9_]*)", statement.text))
        assert used == set(statement.params), statement.name


def _return_columns(text: str) -> tuple[str, ...]:
    """The column names of a statement's final RETURN (each UNION arm must agree)."""
    found: list[tuple[str, ...]] = []
    for arm in text.split(" UNION "):
        if "RETURN " not in arm:
            return ()
        clause = re.split(r" ORDER BY | SKIP | LIMIT ", arm[arm.rindex("RETURN ") + 7 :])[0]
        items, depth, current = [], 0, ""
        for char in clause:
            depth += (char in "([{") - (char in ")]}")
            if char == "," and depth == 0:
                items.append(current)
                current = ""
            else:
                current += char
        items.append(current)
        found.append(
            tuple(
                match.group(1) if (match := re.search(r" AS (\w+)\s*$", item)) else item.strip()
                for item in items
            )
        )
    assert all(arm == found[0] for arm in found), found
    return found[0]


def test_declared_columns_match_the_return_clause() -> None:
    for statement in cypher.ALL_STATEMENTS:
        assert _return_columns(statement.text) == statement.columns, statement.name


def test_projections_return_the_declared_fields() -> None:
    assert "o {.org_id, .org_name, .created_at} AS org" in cypher.GET_ORG.text
    memory_keys = ", ".join(f".{f}" for f in cypher.MEMORY_FIELDS)
    assert f"m {{{memory_keys}, message_sources: [" in cypher.GET_MEMORY.text
    message_keys = ", ".join(f".{f}" for f in cypher.MESSAGE_FIELDS)
    assert f"s {{{message_keys}}}" in cypher.GET_MEMORY.text


def test_statement_names_are_unique_and_match_their_constants() -> None:
    names = [s.name for s in cypher.ALL_STATEMENTS]
    assert len(names) == len(set(names))
    for attribute, value in vars(cypher).items():
        if isinstance(value, cypher.Statement):
            assert value.name == attribute


def test_statements_use_only_the_declared_vocabulary() -> None:
    vocabulary = set(cypher.LABELS) | set(cypher.RELATIONSHIP_TYPES)
    for statement in cypher.ALL_STATEMENTS:
        used = set(re.findall(r"[(\[][a-z_]*:([A-Z][A-Za-z_]*)", statement.text))
        assert used <= vocabulary, (statement.name, used - vocabulary)
        assert "apoc." not in statement.text.lower()


def test_schema_statements_are_idempotent_and_community_compatible() -> None:
    for statement in cypher.SCHEMA_STATEMENTS:
        assert "IF NOT EXISTS" in statement.text
        assert not statement.params
        # Enterprise-only: node keys and property existence constraints.
        assert "NODE KEY" not in statement.text
        assert "IS NOT NULL" not in statement.text
    constraints = [s for s in cypher.SCHEMA_STATEMENTS if "CONSTRAINT" in s.text]
    assert all(s.text.endswith("IS UNIQUE") for s in constraints)
    # One single-property key per node type (composite uniqueness lives in one property).
    assert all("(" not in s.text.split("REQUIRE")[1] for s in constraints)


def test_check_params_rejects_missing_and_unexpected() -> None:
    cypher.check_params(cypher.GET_ORG, {"org_id": "o"})
    with pytest.raises(TypeError, match="missing params \\['org_id'\\]"):
        cypher.check_params(cypher.GET_ORG, {})
    with pytest.raises(TypeError, match="unexpected \\['name'\\]"):
        cypher.check_params(cypher.GET_ORG, {"org_id": "o", "name": "x"})


def test_all_cypher_lives_in_the_cypher_module() -> None:
    """No module but the Cypher modules holds Cypher text or calls the driver's run()."""
    keywords = re.compile(r"\b(MATCH|MERGE|DETACH DELETE|UNWIND|CREATE \(|RETURN)\b")
    for path in PACKAGE_DIR.glob("*.py"):
        if path.name in CYPHER_MODULES:
            continue
        source = path.read_text()
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                assert not keywords.search(node.value), (path.name, node.value[:80])
        if path.name != "core.py":
            assert ".run(" not in source, path.name


def test_every_statement_is_used_by_the_backend() -> None:
    sources = "".join(
        p.read_text() for p in PACKAGE_DIR.glob("*.py") if p.name not in CYPHER_MODULES
    )
    groups = ("SCHEMA_STATEMENTS", "DELETE_ORG_STEPS", "DELETE_USER_STEPS")
    grouped = {s.name for g in groups for s in getattr(cypher, g)}
    grouped |= {s.name for s in cypher.DELETE_USER_HISTORY_STEPS}
    for statement in cypher.ALL_STATEMENTS:
        used = {f"cypher.{statement.name}", f"cypher_edits.{statement.name}"}
        assert statement.name in grouped or any(u in sources for u in used), statement.name
    for group in (*groups, "DELETE_USER_HISTORY_STEPS"):
        assert f"cypher.{group}" in sources, group


# ---------------------------------------------------------------------------------- values
def test_to_datetime_keeps_instant_microseconds_and_offset_of_driver_values() -> None:
    india = timezone(timedelta(hours=5, minutes=30))
    original = datetime(2023, 7, 14, 22, 5, 1, 123456, tzinfo=india)
    from_driver = neo4j.time.DateTime.from_native(original)
    converted = mapping.to_datetime(from_driver)
    assert converted == original
    assert converted.utcoffset() == timedelta(hours=5, minutes=30)
    assert converted.microsecond == 123456
    assert mapping.to_datetime(original) is original
    naive = mapping.to_datetime(datetime(2024, 1, 1, 8, 0))
    assert naive.utcoffset() == timedelta(0)
    with pytest.raises(TypeError, match="date-time"):
        mapping.to_datetime("2024-01-01")
    with pytest.raises(TypeError):
        mapping.to_datetime(neo4j.time.Date(2024, 1, 1))


def test_tenant_rows_map_to_models() -> None:
    created = neo4j.time.DateTime.from_native(T)
    org_map = _projected(cypher.ORG_FIELDS, org_id="o1", org_name="Acme", created_at=created)
    org = mapping.to_organization(_row(cypher.GET_ORG, org=org_map)["org"])
    assert (org.org_id, org.org_name, org.created_at) == ("o1", "Acme", T)
    user_map = _projected(
        cypher.USER_FIELDS, org_id="o1", user_id="u1", user_name="Jake", created_at=created
    )
    user = mapping.to_user(_row(cypher.GET_USER, user=user_map)["user"])
    assert (user.user_id, user.user_name) == ("u1", "Jake")
    # A projection of an absent property (an org-level agent's user_id) is null.
    agent_map = _projected(
        cypher.AGENT_FIELDS,
        org_id="o1",
        agent_id="a1",
        agent_label="Bot",
        user_id=None,
        created_at=created,
    )
    assert mapping.to_agent(_row(cypher.GET_AGENT, agent=agent_map)["agent"]).user_id is None
    assert mapping.to_agent({**agent_map, "user_id": "u1"}).user_id == "u1"


def test_keys_are_unambiguous_per_tenant() -> None:
    assert mapping.user_key("o1", "u1") == "o1:u1"
    assert mapping.agent_key("o1", "a1") == "o1:a1"
    assert mapping.interaction_key("o1", "u1", "ix") == "o1:u1:ix"
    # Ids cannot hold ":", so two different tenants never share a key.
    assert mapping.user_key("o1", "u1-x") != mapping.user_key("o1-u1", "x")


def test_messages_come_back_in_position_order() -> None:
    rows = [_message(2, "c"), _message(0, "a"), _message(1, "b", "assistant")]
    touched = _row(cypher.TOUCH_INTERACTION, messages=rows)
    assert [m.content for m in mapping.to_messages(touched["messages"])] == ["a", "b", "c"]
    assert mapping.to_messages(None) == []


def test_memory_rows_resolve_names_of_their_own_org() -> None:
    names = {"o1": Names(users={"u1": "Jake"}, agents={"a1": "Helper"})}
    row = _memory_row(
        str(uuid.uuid4()),
        "user_u1's dog met agent_a1 and user_u9",
        message_sources=[_message(3, "late"), _message(1, "early")],
    )
    memory = mapping.to_memory(row, names)
    assert memory.memory == "Jake's dog met Helper and user_u9"
    assert [s.msg_position for s in memory.message_sources] == [1, 3]
    other_org = mapping.to_memory({**row, "org_id": "o2"}, names)
    assert other_org.memory == row["memory"]


def test_memory_metadata_is_one_json_string_property() -> None:
    """Metadata travels as a JSON string (Neo4j has no map properties); a memory stored before
    metadata existed (property missing, read as null) has {}; types survive the round trip."""
    meta = {"topic": "food", "n": 3, "x": 1.5, "ok": True, "tags": ["a", 1, False]}
    stored = mapping.memory_params([replace(_planned("m1", ()), metadata=meta)])[0]["metadata"]
    assert isinstance(stored, str)
    memory = mapping.to_memory(_memory_row(str(uuid.uuid4()), metadata=stored), {})
    assert memory.metadata == meta
    assert type(memory.metadata["n"]) is int
    assert memory.metadata["ok"] is True
    assert mapping.to_memory(_memory_row(str(uuid.uuid4())), {}).metadata == {}


def test_interaction_row_maps_and_orders_memories_newest_first() -> None:
    ids = sorted(str(uuid.uuid4()) for _ in range(3))
    head = _projected(
        cypher.INTERACTION_FIELDS,
        org_id="o1",
        user_id="u1",
        agent_id="a1",
        interaction_id="ix",
        created_at=neo4j.time.DateTime.from_native(T),
        updated_at=neo4j.time.DateTime.from_native(T + timedelta(minutes=5)),
    )
    row = _row(
        cypher.GET_INTERACTION,
        interaction=head,
        messages=[_message(0, "hi")],
        memories=[
            _memory_row(ids[0], "older", obtained_at=T - timedelta(days=1)),
            _memory_row(ids[1], "tie low"),
            _memory_row(ids[2], "tie high"),
        ],
    )
    interaction = mapping.to_interaction(row, {})
    assert interaction.updated_at == T + timedelta(minutes=5)
    assert [m.content for m in interaction.messages] == ["hi"]
    assert [m.memory for m in interaction.memories] == ["tie high", "tie low", "older"]


# ---------------------------------------------------------------------------------- names
def test_name_keys_are_per_org_and_include_prefix_candidates() -> None:
    rows = [
        {"org_id": "o1", "memory": "user_ab_s car and agent_x1"},
        {"org_id": "o2", "memory": "user_zz likes tea"},
        {"org_id": "o2", "memory": "no placeholders"},
    ]
    users, agents = mapping.name_keys(rows)
    assert users == ["o1:ab", "o1:ab_s", "o2:zz"]
    assert agents == ["o1:x1"]
    assert mapping.name_keys([{"org_id": "o1", "memory": "plain"}]) == ([], [])


def test_names_by_org_groups_rows() -> None:
    rows = [
        _row(cypher.NAMES, kind="user", org_id="o1", id="u1", name="Jake"),
        _row(cypher.NAMES, kind="agent", org_id="o1", id="a1", name="Helper"),
        _row(cypher.NAMES, kind="user", org_id="o2", id="u1", name="Bob"),
    ]
    names = mapping.names_by_org(rows)
    text = "user_u1 and agent_a1"
    assert names["o1"].resolve(text, user_id="u1", agent_id="a1") == "Jake and Helper"
    assert names["o2"].resolve(text, user_id="u1", agent_id="a1") == "Bob and agent_a1"
    # Only the memory's own user and agent are resolved, never another user named in the text.
    assert names["o1"].resolve(text, user_id="u9", agent_id="a1") == "user_u1 and Helper"


# ---------------------------------------------------------------------------------- writes
def _check_row(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "org_found": True,
        "user_found": True,
        "agent_found": True,
        "interaction_found": False,
        "taken_ids": [],
        "linkable_ids": [],
    }
    values.update(overrides)
    return _row(cypher.CHECK_WRITE, **values)


def _check(row: dict[str, Any] | None, *, new: bool = True) -> frozenset[str]:
    return mapping.check_write(
        row, org_id="o1", user_id="u1", agent_id="a1", interaction_id="ix", new=new
    )


def test_check_write_names_the_first_missing_owner() -> None:
    with pytest.raises(OrganizationNotFoundError):
        _check(None)
    with pytest.raises(OrganizationNotFoundError):
        _check(_check_row(org_found=False, user_found=False, agent_found=False))
    with pytest.raises(UserNotFoundError) as user_error:
        _check(_check_row(user_found=False, agent_found=False))
    assert user_error.value.ids == {"org_id": "o1", "user_id": "u1"}
    with pytest.raises(AgentNotFoundError):
        _check(_check_row(agent_found=False))


def test_check_write_interaction_and_memory_ids() -> None:
    with pytest.raises(ConflictError, match="'ix' already exists"):
        _check(_check_row(interaction_found=True), new=True)
    with pytest.raises(InteractionNotFoundError):
        _check(_check_row(interaction_found=False), new=False)
    with pytest.raises(ConflictError, match="Memory id"):
        _check(_check_row(taken_ids=["m-1"]))
    linkable = _check(_check_row(interaction_found=True, linkable_ids=["old"]), new=False)
    assert linkable == frozenset({"old"})


def test_plan_update_diffs_unordered_stored_blocks() -> None:
    stored = [_message(1, "b", "assistant"), _message(0, "a")]
    assert mapping.plan_update(stored, [("user", "a"), ("assistant", "b"), ("user", "c")]) == (
        MessageDiff(truncate_from=None, append_from=2)
    )
    assert mapping.plan_update(stored, [("user", "a"), ("user", "b")]) == MessageDiff(1, 1)
    assert mapping.plan_update(stored, []) == MessageDiff(0, 0)
    assert mapping.plan_update(None, [("user", "a")]) == MessageDiff(None, 0)


def _planned(
    memory_id: str, positions: tuple[int, ...] = (), contradicts: str | None = None
) -> NewMemory:
    return NewMemory(
        memory_id=memory_id,
        text=f"text of {memory_id}",
        obtained_at=T,
        agent_id="a1",
        positions=positions,
        contradicts=contradicts,
    )


def test_write_parameters() -> None:
    planned = [_planned("m1", (0, 2)), _planned("m2", (), "old"), _planned("m3", (1,), "gone")]
    assert mapping.message_params([("user", "a"), ("assistant", "b")], range(1, 2)) == [
        {"msg_position": 1, "role": "assistant", "content": "b"}
    ]
    assert mapping.memory_params(planned[:1]) == [
        {
            "memory_id": "m1",
            "agent_id": "a1",
            "memory": "text of m1",
            "obtained_at": T,
            "metadata": "{}",
            "index_text": None,
        }
    ]
    assert mapping.source_params(planned) == [
        {"memory_id": "m1", "msg_position": 0},
        {"memory_id": "m1", "msg_position": 2},
        {"memory_id": "m3", "msg_position": 1},
    ]
    # Only contradictions of memories stored before this write are linked; never a self-link.
    assert mapping.link_params(planned, frozenset({"old"})) == [["old", "m2"]]
    assert mapping.link_params([_planned("m4", (), "m4")], frozenset({"m4"})) == []


@pytest.mark.parametrize(
    ("links", "doomed", "expected"),
    [
        ([("a", "b"), ("b", "c")], {"b"}, [["a", "c"]]),
        ([("a", "b"), ("b", "c"), ("c", "d")], {"b", "c"}, [["a", "d"]]),
        ([("r", "m"), ("m", "l"), ("m", "x")], {"m"}, [["r", "l"], ["r", "x"]]),
        ([("a", "b"), ("b", "c")], {"c"}, []),
        ([("a", "b"), ("b", "c")], {"a"}, []),
        ([("a", "b")], {"a", "b"}, []),
        ([], {"a"}, []),
    ],
)
def test_relink_keeps_chains_connected(
    links: list[tuple[str, str]], doomed: set[str], expected: list[list[str]]
) -> None:
    assert mapping.relink(links, doomed) == expected


# ---------------------------------------------------------------------------------- resolution
def _resolved_row(hit: tuple[str, str, str], memory: dict[str, Any]) -> dict[str, Any]:
    return _row(
        cypher.RESOLVE_HITS,
        hit_org_id=hit[0],
        hit_user_id=hit[1],
        hit_memory_id=hit[2],
        memory=memory,
    )


def test_assemble_resolved_keeps_order_dedupes_and_forks_newest_first() -> None:
    a, b, root, left, right = (str(uuid.uuid4()) for _ in range(5))
    hit = {k: ("o1", "u1", k) for k in (a, b, root)}
    rows = [
        _resolved_row(hit[a], _memory_row(a, "alpha")),
        _resolved_row(hit[b], _memory_row(b, "beta")),
        _resolved_row(hit[root], _memory_row(left, "left", obtained_at=T)),
        _resolved_row(hit[root], _memory_row(right, "right", obtained_at=T + timedelta(1))),
    ]
    unknown = ("o1", "u1", str(uuid.uuid4()))
    batch = [[hit[b], hit[a], hit[b]], [], [unknown, hit[root], hit[a]]]
    result = mapping.assemble_resolved(batch, rows, {})
    assert [[m.memory for m in group] for group in result] == [
        ["beta", "alpha"],
        [],
        ["right", "left", "alpha"],
    ]


def test_assemble_resolved_never_hands_a_memory_to_another_tenant() -> None:
    memory_id = str(uuid.uuid4())
    mine = ("o1", "u1", memory_id)
    spoofed = ("o2", "u1", memory_id)  # same memory id claimed for another org
    rows = [_resolved_row(mine, _memory_row(memory_id, "secret"))]
    assert mapping.assemble_resolved([[spoofed], [mine]], rows, {})[0] == []
    assert [m.memory for m in mapping.assemble_resolved([[mine]], rows, {})[0]] == ["secret"]


# ---------------------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    ("error", "expected", "hint"),
    [
        (_server_error("Neo.ClientError.Security.Unauthorized"), BackendAuthError, "password"),
        (_server_error("Neo.ClientError.Security.Forbidden"), BackendAuthError, "privilege"),
        (
            _server_error("Neo.ClientError.Schema.ConstraintValidationFailed"),
            ConflictError,
            "already exists",
        ),
        (
            _server_error("Neo.ClientError.Database.DatabaseNotFound"),
            ConfigurationError,
            "database name",
        ),
        (nx.ServiceUnavailable("connection refused"), BackendUnavailableError, "running"),
        (nx.SessionExpired("gone"), BackendUnavailableError, "running"),
        (
            _server_error("Neo.TransientError.General.DatabaseUnavailable"),
            BackendUnavailableError,
            "status",
        ),
        (
            _server_error("Neo.TransientError.Transaction.DeadlockDetected"),
            ConflictError,
            "retry",
        ),
        (_server_error("Neo.TransientError.General.OutOfMemoryError"), BackendError, "OutOfMemory"),
        (_server_error("Neo.ClientError.Statement.SyntaxError"), BackendError, "SyntaxError"),
        (nx.ConfigurationError("bad option"), ConfigurationError, "bad option"),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, BaseException) else None,
)
def test_driver_errors_translate_with_a_hint(
    error: BaseException, expected: type[Exception], hint: str
) -> None:
    translated = translate_error(error, uri="neo4j://db:7687", database="neo4j")
    assert type(translated) is expected
    assert hint in str(translated)
    assert "neo4j://db:7687" in str(translated) or expected is ConfigurationError


def test_non_driver_errors_are_not_translated() -> None:
    assert translate_error(ValueError("x"), uri=None, database="neo4j") is None
    given = translate_error(nx.ServiceUnavailable("down"), uri=None, database="neo4j")
    assert "driver passed in" in str(given)


def test_equivalent_schema_errors_are_recognised() -> None:
    assert is_equivalent_schema_error(
        _server_error("Neo.ClientError.Schema.EquivalentSchemaRuleAlreadyExists")
    )
    assert is_equivalent_schema_error(_server_error("Neo.ClientError.Schema.IndexAlreadyExists"))
    assert not is_equivalent_schema_error(_server_error("Neo.ClientError.Statement.SyntaxError"))
    assert not is_equivalent_schema_error(ValueError("x"))


# ---------------------------------------------------------------------------------- the store
@pytest.fixture
async def unreachable_driver() -> AsyncIterator[neo4j.AsyncDriver]:
    """A real driver pointed at a closed local port, failing fast (no retries)."""
    driver = neo4j.AsyncGraphDatabase.driver(
        "bolt://127.0.0.1:9",
        auth=("neo4j", "secret"),
        max_transaction_retry_time=0,
        connection_timeout=2,
    )
    try:
        yield driver
    finally:
        await driver.close()


def test_constructor_needs_a_uri_or_driver_and_does_no_io() -> None:
    with pytest.raises(ConfigurationError, match="uri="):
        Neo4jGraphInterface()
    with pytest.raises(ConfigurationError, match="URI scheme"):
        Neo4jGraphInterface(uri="nonsense", username="neo4j", password="x")
    with pytest.raises(InvalidInputError):
        Neo4jGraphInterface(uri="neo4j://localhost:7687", database=" ")
    store = Neo4jGraphInterface(uri="neo4j://localhost:1", username="neo4j", password="x")
    assert "neo4j://localhost:1" in repr(store)


def test_missing_driver_package_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "neo4j", None)  # what an uninstalled package looks like
    with pytest.raises(ConfigurationError, match=re.escape('pip install "memora-engine[neo4j]"')):
        Neo4jGraphInterface(uri="neo4j://localhost:7687")


def test_graph_db_package_imports_without_the_driver() -> None:
    code = (
        "import sys; sys.modules['neo4j'] = None\n"
        "import memora_engine.graph_db as g\n"
        "from memora_engine.graph_db import Neo4jGraphInterface\n"
        "from memora_engine.errors import ConfigurationError\n"
        "try:\n    Neo4jGraphInterface(uri='neo4j://x')\n"
        "except ConfigurationError as e:\n    print('ok', e)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("ok")
    assert "memora-engine[neo4j]" in done.stdout


async def test_unreachable_server_is_backend_unavailable(
    unreachable_driver: neo4j.AsyncDriver,
) -> None:
    store = Neo4jGraphInterface(driver=unreachable_driver)
    with pytest.raises(BackendUnavailableError, match="Check that the server is running") as info:
        await store.get_all_organizations()
    assert isinstance(info.value.__cause__, nx.ServiceUnavailable)
    with pytest.raises(BackendUnavailableError):
        await store.setup()
    with pytest.raises(BackendUnavailableError):
        await store.create_organization("Acme")


async def test_bad_input_is_rejected_before_any_io(unreachable_driver: neo4j.AsyncDriver) -> None:
    """Validation errors (not connection errors) prove nothing reached the driver."""
    store = Neo4jGraphInterface(driver=unreachable_driver)
    with pytest.raises(InvalidInputError):
        await store.create_organization("  ")
    with pytest.raises(InvalidInputError):
        await store.get_user("o1", "has space")
    with pytest.raises(InvalidInputError):
        await store.get_user_memory("o1", "u1", "not-a-uuid")
    with pytest.raises(InvalidInputError):
        await store.get_all_user_memories("o1", "u1", limit=0)
    with pytest.raises(InvalidInputError):
        await store.save_interaction_with_memories("o1", "a1", "u1", {"interaction": "nope"})  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError):
        await store.fetch_user_memories_resolved([{"memory_id": str(uuid.uuid4())}])
    assert await store.fetch_user_memories_resolved_batch([[], []]) == [[], []]
    # The restore options are checked before any I/O too.
    with pytest.raises(InvalidInputError, match="created_at"):
        await store.create_organization("Acme", created_at="2024-01-01")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="created_at"):
        await store.create_user("o1", "Jake", created_at=1)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="created_at"):
        await store.create_agent("o1", "Bot", created_at="now")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="resolve_names"):
        await store.get_interaction("o1", "u1", "i1", resolve_names="no")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="resolve_names"):
        await store.get_all_user_interactions("o1", "u1", resolve_names=0)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="resolve_names"):
        await store.get_user_memory("o1", "u1", str(uuid.uuid4()), resolve_names=None)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="resolve_names"):
        await store.get_all_user_memories("o1", "u1", resolve_names="x")  # type: ignore[arg-type]


async def test_close_releases_only_what_the_store_created(
    unreachable_driver: neo4j.AsyncDriver,
) -> None:
    given = Neo4jGraphInterface(driver=unreachable_driver)
    await given.close()
    await given.close()  # idempotent
    with pytest.raises(UsageError, match="closed"):
        await given.get_all_organizations()
    # The driver passed in still works: it reaches the network (and finds no server).
    with pytest.raises(BackendUnavailableError):
        await Neo4jGraphInterface(driver=unreachable_driver).get_all_organizations()

    owned = Neo4jGraphInterface(uri="bolt://127.0.0.1:9", username="neo4j", password="x")
    driver = owned.driver
    await owned.close()
    # The store's own driver is closed: using it fails without touching the network.
    with pytest.raises(BackendError) as info:
        await Neo4jGraphInterface(driver=driver).get_all_organizations()
    assert not isinstance(info.value, BackendUnavailableError)
