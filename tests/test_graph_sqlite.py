"""SqliteGraphDB passes the graph conformance suite (in memory and in a file), plus
SQLite-specific checks: persistence, two stores on one file, locks, schema version."""

from __future__ import annotations

import asyncio
import sqlite3
import sys
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from memora_engine.errors import (
    BackendError,
    BackendUnavailableError,
    ConfigurationError,
    ConflictError,
    InvalidInputError,
    UsageError,
)
from memora_engine.filters import parse_filter
from memora_engine.graph_db.sqlite import SqliteGraphDB
from memora_engine.graph_db.sqlite.codec import decode_time, encode_time, epoch_micros
from memora_engine.graph_db.sqlite.connection import translate_error
from memora_engine.graph_db.sqlite.ddl import SCHEMA_VERSION
from memora_engine.graph_db.sqlite.filter_sql import filter_sql
from memora_engine.graph_db.write_plan import relink_around
from memora_engine.sync import EventLoopPortal
from memora_engine.testing import GraphDBConformanceTests
from memora_engine.testing.graph_suite.support import at, dto, snapshot


class TestSqliteGraphDBInMemory(GraphDBConformanceTests):
    @pytest.fixture
    async def graph_db(self) -> AsyncIterator[SqliteGraphDB]:
        async with SqliteGraphDB(":memory:") as store:
            yield store


class TestSqliteGraphDBFile(GraphDBConformanceTests):
    @pytest.fixture
    async def graph_db(self, tmp_path: Path) -> AsyncIterator[SqliteGraphDB]:
        async with SqliteGraphDB(tmp_path / "memora.db") as store:
            yield store


# ---------------------------------------------------------------------- SQLite-specific behaviour
async def _fill(store: SqliteGraphDB, org_id: str = "org") -> None:
    await store.create_organization("Acme", org_id=org_id)
    await store.create_user(org_id, "Jake", user_id="u1")
    await store.create_agent(org_id, "Helper", agent_id="a1")
    await store.save_interaction_with_memories(
        org_id, "a1", "u1", dto(["hi", "hello"], [("user_u1 says hi", [0])]), interaction_id="ix"
    )


async def test_file_store_persists_across_reopen(tmp_path: Path) -> None:
    """A file store keeps everything after close and reopen, byte for byte."""
    path = tmp_path / "memora.db"
    async with SqliteGraphDB(path) as store:
        await _fill(store)
        before = await snapshot(store)
    async with SqliteGraphDB(path) as reopened:
        assert await snapshot(reopened) == before
        assert before["org"]["users"]["u1"]["memories"][0]["memory"] == "Jake says hi"


async def test_file_uses_wal_foreign_keys_and_schema_version(tmp_path: Path) -> None:
    """The file is in WAL mode and records its schema version."""
    path = tmp_path / "memora.db"
    async with SqliteGraphDB(path) as store:
        await _fill(store)
    raw = sqlite3.connect(path)
    try:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert raw.execute("SELECT version FROM memora_schema").fetchall() == [(SCHEMA_VERSION,)]
    finally:
        raw.close()


async def test_setup_is_idempotent_and_concurrent(tmp_path: Path) -> None:
    """Several stores opening one new file at once all succeed (setup runs in BEGIN IMMEDIATE)."""
    path = tmp_path / "memora.db"
    stores = [SqliteGraphDB(path) for _ in range(4)]
    try:
        await asyncio.gather(*(s.setup() for s in stores))
        await asyncio.gather(*(s.setup() for s in stores))
        await _fill(stores[0])
        assert [o.org_id for o in await stores[3].get_all_organizations()] == ["org"]
    finally:
        await asyncio.gather(*(s.close() for s in stores))


async def test_two_stores_on_one_file_write_concurrently(tmp_path: Path) -> None:
    """Two connections to one file interleave writes safely (WAL + busy_timeout)."""
    path = tmp_path / "memora.db"
    async with SqliteGraphDB(path) as first, SqliteGraphDB(path) as second:
        await _fill(first)

        async def save(store: SqliteGraphDB, i: int) -> None:
            await store.save_interaction_with_memories(
                "org", "a1", "u1", dto([f"m{i}"], [f"fact {i}"], date=at(i))
            )

        await asyncio.gather(*(save(first if i % 2 else second, i) for i in range(30)))
        assert len(await first.get_all_user_memories("org", "u1")) == 31
        assert len(await second.get_all_user_interactions("org", "u1", limit=100)) == 31


_CHILD = """
import asyncio, sys
from memora_engine.graph_db.sqlite import SqliteGraphDB
from memora_engine.schema import MemoriesAndInteraction, MemoryToStore

async def main() -> None:
    async with SqliteGraphDB(sys.argv[1]) as store:
        for i in range(20):
            await store.save_interaction_with_memories("org", "a1", "u1", MemoriesAndInteraction(
                interaction=[{"role": "user", "content": f"child {i}"}],
                memories=[MemoryToStore(memory=f"child fact {i}", source_msg_block_pos=[0])]))

asyncio.run(main())
"""


async def test_two_processes_write_one_file(tmp_path: Path) -> None:
    """Another process writing the same file at the same time loses nothing."""
    path = tmp_path / "memora.db"
    async with SqliteGraphDB(path) as store:
        await _fill(store)
        child = await asyncio.create_subprocess_exec(
            sys.executable, "-c", _CHILD, str(path), stderr=asyncio.subprocess.PIPE
        )
        for i in range(20):
            await store.save_interaction_with_memories(
                "org", "a1", "u1", dto([f"parent {i}"], [f"parent fact {i}"])
            )
        _, stderr = await child.communicate()
        assert child.returncode == 0, stderr.decode()
        texts = {m.memory for m in await store.get_all_user_memories("org", "u1")}
        assert {f"child fact {i}" for i in range(20)} <= texts
        assert {f"parent fact {i}" for i in range(20)} <= texts
        assert len(texts) == 41


async def test_locked_file_raises_backend_unavailable(tmp_path: Path) -> None:
    """A write lock held past busy_timeout becomes BackendUnavailableError; nothing written."""
    path = tmp_path / "memora.db"
    async with SqliteGraphDB(path, busy_timeout_ms=50) as store:
        await _fill(store)
        blocker = sqlite3.connect(path, isolation_level=None)
        try:
            blocker.execute("BEGIN IMMEDIATE")
            with pytest.raises(BackendUnavailableError, match="locked"):
                await store.create_user("org", "Mary", user_id="u2")
            blocker.execute("ROLLBACK")
        finally:
            blocker.close()
        assert [u.user_id for u in await store.get_all_org_users("org")] == ["u1"]
        await store.create_user("org", "Mary", user_id="u2")


async def test_not_a_database_and_missing_folder(tmp_path: Path) -> None:
    """A garbage file or a missing folder is BackendUnavailableError, not a raw sqlite3 error."""
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"this is not a sqlite file at all" * 100)
    store = SqliteGraphDB(garbage)
    with pytest.raises(BackendUnavailableError):
        await store.get_all_organizations()
    await store.close()
    missing = SqliteGraphDB(tmp_path / "no" / "such" / "dir.db")
    with pytest.raises(BackendUnavailableError):
        await missing.setup()
    await missing.close()


async def test_newer_schema_version_is_refused(tmp_path: Path) -> None:
    """A file written by a newer schema version is refused with a clear ConfigurationError."""
    path = tmp_path / "memora.db"
    async with SqliteGraphDB(path) as store:
        await _fill(store)
    raw = sqlite3.connect(path)
    raw.execute("UPDATE memora_schema SET version = ?", (SCHEMA_VERSION + 1,))
    raw.commit()
    raw.close()
    store = SqliteGraphDB(path)
    with pytest.raises(ConfigurationError, match="upgrade Memora"):
        await store.setup()
    await store.close()


async def test_failed_transaction_rolls_back_everything() -> None:
    """An error in the middle of a write transaction leaves no partial write."""
    async with SqliteGraphDB(":memory:") as store:
        await _fill(store)
        before = await snapshot(store)

        def half_write(conn: sqlite3.Connection) -> None:
            conn.execute("UPDATE users SET user_name = 'Half' WHERE user_id = 'u1'")
            conn.execute("DELETE FROM memories")
            raise RuntimeError("boom")

        with pytest.raises(RuntimeError, match="boom"):
            await store._worker.write(half_write)
        assert await snapshot(store) == before


async def test_closed_store_refuses_work() -> None:
    """After close() every call raises UsageError; close() is idempotent."""
    store = SqliteGraphDB(":memory:")
    await store.setup()
    await store.close()
    await store.close()
    with pytest.raises(UsageError):
        await store.get_all_organizations()


def test_constructor_validates_and_does_no_io(tmp_path: Path) -> None:
    """Bad constructor arguments raise InvalidInputError; a good one touches no file."""
    with pytest.raises(InvalidInputError):
        SqliteGraphDB("")
    with pytest.raises(InvalidInputError):
        SqliteGraphDB(":memory:", busy_timeout_ms=-1)
    with pytest.raises(InvalidInputError):
        SqliteGraphDB(":memory:", synchronous="OFF")  # type: ignore[arg-type]
    SqliteGraphDB(tmp_path / "lazy.db")
    assert not (tmp_path / "lazy.db").exists()


def test_sync_callers_use_the_portal(tmp_path: Path) -> None:
    """The store works from sync code through the one sync portal (no second event loop)."""
    portal = EventLoopPortal("graph-test")
    try:
        store = SqliteGraphDB(tmp_path / "memora.db")
        portal.run(_fill(store))
        assert portal.run(store.get_user("org", "u1")).user_name == "Jake"
        portal.run(store.close())
    finally:
        portal.close()


def test_relink_around_pure() -> None:
    """The pure re-linking rule bridges doomed runs, forks and joins, never self-links."""
    assert relink_around([(1, 2), (2, 3)], {2}) == {(1, 3)}
    assert relink_around([(1, 2), (2, 3), (2, 4)], {2}) == {(1, 3), (1, 4)}
    assert relink_around([(1, 3), (2, 3), (3, 4)], {3}) == {(1, 4), (2, 4)}
    assert relink_around([(1, 2), (2, 3), (3, 4)], {2, 3}) == {(1, 4)}
    assert relink_around([(1, 2)], {2}) == set()
    assert relink_around([(1, 2), (2, 1)], {2}) == set()


def test_time_codec_orders_instants_across_offsets() -> None:
    """Stored sort keys follow the instant, whatever the offset; the text keeps the offset."""
    plus2 = datetime(2024, 1, 1, 10, 0, tzinfo=timezone(timedelta(hours=2)))
    utc = datetime(2024, 1, 1, 9, 0, tzinfo=timezone.utc)
    assert epoch_micros(plus2) < epoch_micros(utc)
    text, _ = encode_time(plus2)
    assert decode_time(text) == plus2
    assert decode_time(text).utcoffset() == timedelta(hours=2)
    assert epoch_micros(datetime(1970, 1, 1, 0, 0, 0, 1, tzinfo=timezone.utc)) == 1


def test_translate_error_maps_driver_errors() -> None:
    """sqlite3 errors map onto the Memora tree."""
    assert isinstance(translate_error(sqlite3.OperationalError("database is locked"), "f"),
                      BackendUnavailableError)  # fmt: skip
    assert isinstance(translate_error(sqlite3.IntegrityError("UNIQUE failed"), "f"), ConflictError)
    other = translate_error(sqlite3.OperationalError("no such column: x"), "f")
    assert type(other) is BackendError


# ---------------------------------------------------------------------- metadata (schema v2)
async def test_version_1_file_gains_metadata_column(tmp_path: Path) -> None:
    """A file of schema version 1 (no metadata column) is migrated on open: its memories read
    with metadata {} and can be given metadata and filtered; the version becomes current."""
    path = tmp_path / "memora.db"
    async with SqliteGraphDB(path) as store:
        await _fill(store)
        before = await snapshot(store)
    raw = sqlite3.connect(path)
    raw.execute("ALTER TABLE memories DROP COLUMN metadata")
    raw.execute("UPDATE memora_schema SET version = 1")
    raw.commit()
    raw.close()
    async with SqliteGraphDB(path) as store:
        assert await snapshot(store) == before
        (memory,) = await store.get_all_user_memories("org", "u1")
        assert memory.metadata == {}
        await store.update_user_memory_metadata("org", "u1", memory.memory_id, {"k": "v"})
        found = await store.get_all_user_memories("org", "u1", filter=parse_filter({"k": "v"}))
        assert [m.memory_id for m in found] == [memory.memory_id]
    raw = sqlite3.connect(path)
    try:
        assert raw.execute("SELECT version FROM memora_schema").fetchall() == [(SCHEMA_VERSION,)]
    finally:
        raw.close()


def test_filter_sql_binds_every_value() -> None:
    """The SQL text holds only fixed fragments: keys travel as JSON-path parameters, values as
    parameters, whatever they contain."""
    hostile = "x' OR 1=1 --"
    sql, params = filter_sql(
        parse_filter(
            {
                "$or": [{"k-1": hostile}, {"agent_id": {"$nin": [hostile]}}],
                "n": {"$gte": 2**70},
                "b": {"$in": [True, 1, "1"]},
                "obtained_at": {"$lt": "2024-01-01T00:00:00Z"},
            }
        )
    )
    assert hostile not in sql
    assert "k-1" not in sql
    assert sql.count("?") == len(params)
    assert '$."k-1"' in params
    assert float(2**70) in params
    assert "true" in params  # a bool is a JSON type test, never the number 1
    assert not [p for p in params if isinstance(p, bool)]


async def test_hostile_filter_values_match_only_equal_text() -> None:
    """A value that looks like SQL is compared as text (no match, no error, nothing changed)."""
    async with SqliteGraphDB(":memory:") as store:
        await _fill(store)
        before = await snapshot(store)
        for spec in ({"k": "x' OR 1=1 --"}, {"interaction_id": "ix' OR '1'='1"}):
            assert await store.get_all_user_memories("org", "u1", filter=parse_filter(spec)) == []
        assert await snapshot(store) == before


async def test_short_reads_run_inline_unless_the_connection_is_busy(tmp_path: Path) -> None:
    """A short read runs on the caller's thread when the connection is idle; while another
    thread uses the connection it waits for the worker (one user of the connection at a time)."""
    import threading

    from memora_engine.graph_db.sqlite.connection import SqliteWorker

    worker = SqliteWorker(str(tmp_path / "g.sqlite3"), busy_timeout_ms=5000)

    def reading_thread(conn: sqlite3.Connection) -> tuple[str, int]:
        return threading.current_thread().name, conn.execute("SELECT 1").fetchone()[0]

    # Not open yet: the worker opens the connection (and the schema) first.
    first, _ = await worker.read_short(reading_thread)
    assert first.startswith("memora-sqlite")
    here, one = await worker.read_short(reading_thread)
    assert (here, one) == (threading.current_thread().name, 1)

    held, release = threading.Event(), threading.Event()

    def busy_user() -> None:
        with worker._conn_lock:
            held.set()
            release.wait(10)

    holder = threading.Thread(target=busy_user)
    holder.start()
    held.wait(10)
    pending = asyncio.ensure_future(worker.read_short(reading_thread))
    await asyncio.sleep(0.2)
    assert not pending.done()
    release.set()
    name, _ = await pending
    holder.join()
    assert name.startswith("memora-sqlite")
    await worker.close()
