"""One real ``memora serve`` (uvicorn on 127.0.0.1) per test session of this package."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from memora_engine import Memora
from tests.service.server import RunningServer, ServerKeys, make_keys

ORG_A, USER_A1, USER_A2, AGENT_A = "orgA", "userA1", "userA2", "agentA"
ORG_B, USER_B1, AGENT_B = "orgB", "userB1", "agentB"


@dataclass
class Served:
    server: RunningServer
    keys: ServerKeys

    @property
    def url(self) -> str:
        return self.server.url


async def _create_tenants(path: Path) -> None:
    async with await Memora.embedded(path) as memora:
        for org in (ORG_A, ORG_B):
            await memora.create_organization(org, org_id=org)
        await memora.create_user(ORG_A, "Jake", user_id=USER_A1)
        await memora.create_user(ORG_A, "Mia", user_id=USER_A2)
        await memora.create_user(ORG_B, "Bo", user_id=USER_B1)
        await memora.create_agent(ORG_A, "Jarvis", agent_id=AGENT_A)
        await memora.create_agent(ORG_B, "Hal", agent_id=AGENT_B)


@pytest.fixture(scope="session")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """A running server with two orgs (A: two users and an agent; B: one user) and keys."""
    root: Path = tmp_path_factory.mktemp("serve")
    keys = make_keys(root / "keys.json", ORG_A, USER_A1, ORG_B)
    # Tenants are created before the server opens the store (the store has one owner).
    asyncio.run(_create_tenants(root / "data"))
    server = RunningServer(root / "data", root / "keys.json").start()
    try:
        yield Served(server, keys)
    finally:
        server.stop()
