"""The one sync portal: outside a loop, inside a running loop (Jupyter), and misuse."""

from __future__ import annotations

import asyncio
import threading

import pytest

from memora_engine.errors import UsageError
from memora_engine.sync import EventLoopPortal


async def _thread_name() -> str:
    await asyncio.sleep(0)
    return threading.current_thread().name


async def _fail() -> None:
    raise KeyError("boom")


def test_runs_on_the_private_thread_outside_any_loop() -> None:
    portal = EventLoopPortal(name="test-portal")
    try:
        assert portal.run(_thread_name()) == "test-portal"
        with pytest.raises(KeyError, match="boom"):
            portal.run(_fail())
    finally:
        portal.close()


def test_works_inside_a_running_event_loop_like_jupyter() -> None:
    portal = EventLoopPortal()

    async def notebook_cell() -> str:
        return portal.run(_thread_name())  # sync call while this loop is running

    try:
        assert asyncio.run(notebook_cell()) == "memora-portal"
    finally:
        portal.close()


def test_calling_from_the_portals_own_loop_is_a_clear_error() -> None:
    portal = EventLoopPortal()

    async def reentrant() -> None:
        portal.run(_thread_name())

    try:
        with pytest.raises(UsageError, match="await the async method"):
            portal.run(reentrant())
    finally:
        portal.close()


def test_close_is_idempotent_and_portal_restarts() -> None:
    portal = EventLoopPortal()
    portal.run(_thread_name())
    portal.close()
    portal.close()
    assert portal.run(_thread_name()) == "memora-portal"
    portal.close()


def test_system_exit_inside_a_coroutine_reaches_the_caller_and_portal_survives() -> None:
    portal = EventLoopPortal()

    async def exits() -> None:
        raise SystemExit(3)

    try:
        with pytest.raises(SystemExit) as raised:
            portal.run(exits(), timeout=10)
        assert raised.value.code == 3
        assert portal.run(_thread_name(), timeout=10) == "memora-portal"
    finally:
        portal.close()
