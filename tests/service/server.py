"""A real ``memora serve`` process on 127.0.0.1 (a free port), for the service tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from memora_engine.service import ApiKeyStore

REPO_ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 90.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ServerKeys:
    admin: str
    org_a: str
    user_a1: str
    org_b: str


@dataclass
class RunningServer:
    """One uvicorn process serving an embedded store under ``path``."""

    path: Path
    keys_file: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    log: Path | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, *extra: str) -> RunningServer:
        env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
        self.log = self.path.parent / f"server-{self.port}.log"
        command = [sys.executable, "-m", "memora_engine.cli", "serve", "--path", str(self.path)]
        command += ["--keys-file", str(self.keys_file), "--port", str(self.port), "--raw"]
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                [*command, *extra], stdout=out, stderr=subprocess.STDOUT, env=env, cwd=REPO_ROOT
            )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"memora serve exited: {self.log.read_text()[-2000:]}")
            try:
                if httpx.get(self.url + "/readyz", timeout=1.0).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"memora serve did not get ready: {self.log.read_text()[-2000:]}")

    def stop(self, timeout: float = 60.0) -> int | None:
        """SIGTERM, then wait (bounded); kill if it does not stop. Returns the exit code."""
        if self.process is None or self.process.poll() is not None:
            return None if self.process is None else self.process.returncode
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
            raise


def make_keys(keys_file: Path, org_a: str, user_a1: str, org_b: str) -> ServerKeys:
    store = ApiKeyStore()
    admin, _ = store.create(admin=True, name="admin")
    a, _ = store.create(org_id=org_a, name="org a")
    a1, _ = store.create(org_id=org_a, user_id=user_a1, name="user a1")
    b, _ = store.create(org_id=org_b, name="org b")
    store.save(keys_file)
    return ServerKeys(admin, a, a1, b)
