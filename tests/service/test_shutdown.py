"""Graceful shutdown: a SIGTERM during saves loses nothing that was acknowledged."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

from memora_engine import Memora
from memora_engine.client import MemoraClient
from memora_engine.errors import BackendUnavailableError
from tests.service.server import RunningServer, make_keys

WRITERS = 8


async def _writer(
    url: str, key: str, number: int, acknowledged: list[str], under_way: asyncio.Event
) -> None:
    async with MemoraClient(url, key, timeout=30.0) as memora:
        for turn in range(10_000):
            try:
                iid, _ = await memora.save_or_update_interaction_and_memories(
                    "org",
                    "user",
                    "agent",
                    [{"role": "user", "content": f"writer {number} fact {turn}: I like tea."}],
                )
            except BackendUnavailableError:
                return  # the server stopped taking requests
            acknowledged.append(iid)
            if len(acknowledged) >= 40:
                under_way.set()


async def test_sigterm_during_saves_loses_no_acknowledged_write(tmp_path: Path) -> None:
    async with await Memora.embedded(tmp_path / "data") as memora:
        await memora.create_organization("Org", org_id="org")
        await memora.create_user("org", "User", user_id="user")
        await memora.create_agent("org", "Agent", agent_id="agent")
    keys = make_keys(tmp_path / "keys.json", "org", "user", "other")
    server = RunningServer(tmp_path / "data", tmp_path / "keys.json").start("--no-mcp")
    acknowledged: list[str] = []
    under_way = asyncio.Event()
    try:
        writers = [
            asyncio.create_task(_writer(server.url, keys.org_a, n, acknowledged, under_way))
            for n in range(WRITERS)
        ]
        await asyncio.wait_for(under_way.wait(), 60)  # the writers are well under way
        assert server.process is not None
        server.process.send_signal(signal.SIGTERM)
        at_signal = len(acknowledged)
        await asyncio.wait_for(asyncio.gather(*writers), 60)
        exit_code = await asyncio.to_thread(server.process.wait, 60)
    finally:
        server.stop()
    # uvicorn re-raises the signal once it has shut down cleanly (the log shows the steps).
    assert exit_code in (0, -signal.SIGTERM)
    assert len(acknowledged) > at_signal  # requests in flight at the signal were finished
    async with await Memora.embedded(tmp_path / "data") as memora:
        stored = await memora.list_interactions(
            "org", "user", with_messages=False, with_memories=False, limit=10_000
        )
        stored_ids = {i.interaction_id for i in stored}
        assert set(acknowledged) <= stored_ids
        memories = await memora.list_memories("org", "user", limit=10_000)
        assert {m.interaction_id for m in memories} >= set(acknowledged)
    log = server.log.read_text() if server.log else ""
    assert "Finished server process" in log
    assert "Traceback" not in log
