"""Crash-consistency harness: a forking writer killed with SIGKILL, and the checker after each kill.

A *zygote* process imports Memora and loads the real embedding model once, then forks one
writer child per kill point (fork keeps the kill real and the child's startup cheap). The child
opens ``Memora.embedded`` on the store, then saves / updates / deletes interactions in a loop on
one organization with two users, appending to a journal with fsync before each call (``begin``)
and after each returned call (``done``). The driver kills the child at a random moment, then the
checker reopens the store and verifies:

* every returned operation is fully present in the graph (messages and memories) and search;
* the one operation in flight is either fully applied or fully absent (never half-written);
* every graph memory has its vector point (the write protocol, before any recovery);
* search never returns a memory the graph lacks, even while stray points exist;
* after recovery the index holds exactly the graph's memories.

Used by ``tests/reliability/test_crash_consistency.py`` and ``bench/soak.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import time
import traceback
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ORG = "crash-org"
USERS = {"u1": "Alice", "u2": "Bob"}
AGENT = "a1"
WORDS = [
    "apple",
    "harbor",
    "violin",
    "quartz",
    "meadow",
    "falcon",
    "lantern",
    "pepper",
    "canyon",
    "velvet",
    "walnut",
    "glacier",
    "saffron",
    "tundra",
    "marble",
    "orchid",
    "beacon",
    "copper",
    "thistle",
    "lagoon",
    "ember",
    "nutmeg",
    "prairie",
    "cobalt",
    "juniper",
    "basalt",
    "mango",
    "willow",
    "sparrow",
    "tangerine",
    "crimson",
    "pebble",
    "summit",
    "cedar",
    "rhubarb",
    "plankton",
    "sapphire",
    "dune",
    "kettle",
    "mosaic",
    "nectar",
    "oyster",
    "parsley",
    "quill",
    "raven",
    "sorrel",
    "tulip",
]
Msg = list[str]  # [role, content]


# ---------------------------------------------------------------------- journal and model
def append_line(handle: Any, entry: dict[str, Any]) -> None:
    """Append one JSON line and make it durable."""
    handle.write(json.dumps({**entry, "ts": round(time.time(), 4)}) + "\n")
    handle.flush()
    os.fsync(handle.fileno())


def read_journal(path: Path, *, compact: bool = False) -> list[dict[str, Any]]:
    """Complete journal lines; a line torn by the kill is dropped (and removed if ``compact``)."""
    if not path.exists():
        return []
    entries: list[dict[str, Any]] = []
    raw = path.read_text(encoding="utf-8")
    for line in raw.split("\n"):
        try:
            entries.append(json.loads(line))
        except ValueError:
            continue
    if compact:
        path.write_text("".join(json.dumps(e) + "\n" for e in entries), encoding="utf-8")
    return entries


@dataclass
class Ix:
    """The expected state of one interaction."""

    messages: list[Msg]
    memories: list[str]
    born: int


@dataclass
class State:
    """The expected store, replayed from applied operations."""

    interactions: dict[tuple[str, str], Ix] = field(default_factory=dict)
    next_k: int = 0

    @classmethod
    def replay(cls, entries: Iterable[dict[str, Any]]) -> tuple[State, dict[str, Any] | None]:
        """Apply every done / resolved-applied op; return the state and the op in flight."""
        state = cls()
        begun: dict[int, dict[str, Any]] = {}
        for entry in entries:
            kind = entry["t"]
            if kind == "begin":
                begun[entry["k"]] = entry
                state.next_k = max(state.next_k, entry["k"] + 1)
            elif kind == "done" or (kind == "resolved" and entry["applied"]):
                state.apply(begun.pop(entry["k"]), entry["iid"])
            elif kind == "resolved":
                begun.pop(entry["k"])
        assert len(begun) <= 1, f"more than one operation in flight: {sorted(begun)}"
        return state, next(iter(begun.values()), None)

    def apply(self, op: dict[str, Any], iid: str) -> None:
        key = (op["user"], iid)
        if op["kind"] == "delete":
            del self.interactions[key]
        elif op["kind"] == "new":
            self.interactions[key] = Ix(op["messages"], list(op["expect"]), op["k"])
        else:
            ix = self.interactions[key]
            ix.messages = op["messages"]
            ix.memories.extend(op["expect"])


def next_op(rng: random.Random, state: State, mode: str) -> dict[str, Any]:
    """The next operation: a new interaction, an append, a diverging update or a delete."""
    k = state.next_k
    live = sorted(state.interactions)
    roll = rng.random()
    user_msg = ["user", f"op{k} user " + " ".join(rng.sample(WORDS, 5))]
    bot_msg = ["assistant", f"op{k} assistant " + " ".join(rng.sample(WORDS, 5))]
    if not live or roll < 0.35:
        user, iid, kind = rng.choice(sorted(USERS)), None, "new"
        prefix: list[Msg] = [["system", "You are terse."]] if rng.random() < 0.5 else []
    else:
        user, iid = rng.choice(live)
        current = state.interactions[(user, iid)].messages
        if roll < 0.75 or len(current) < 2:
            kind, prefix = "append", list(current)
        elif roll < 0.9:
            kind, prefix = "diverge", current[: rng.randrange(1, len(current))]
        else:
            return {"k": k, "kind": "delete", "user": user, "iid": iid, "messages": [],
                    "expect": []}  # fmt: skip
    expect = [f"{USERS[user]} {user_msg[1]}"] if mode == "llm" else [user_msg[1], bot_msg[1]]
    return {
        "k": k,
        "kind": kind,
        "user": user,
        "iid": iid,
        "messages": [*prefix, user_msg, bot_msg],
        "expect": expect,
        "contradict": rng.random() < 0.5,
    }


# ---------------------------------------------------------------------- the writer (child)
async def run_writer(
    store: Path, journal: Path, seed: int, mode: str, dense: Any, sparse: Any, max_ops: int
) -> None:
    """Perform operations until ``max_ops`` or the kill, journaling each one."""
    from memora_engine import Memora
    from tests.scripted_provider import ScriptedProvider, all_new, extraction

    state, in_flight = State.replay(read_journal(journal))
    assert in_flight is None, "the checker must resolve the previous kill first"
    provider = ScriptedProvider()
    model = provider.model() if mode == "llm" else None
    rng = random.Random(seed)
    memora = await Memora.embedded(
        store, extraction_model=model, dense_encoder=dense, sparse_encoder=sparse
    )
    with journal.open("a", encoding="utf-8") as handle:
        for _ in range(max_ops):
            op = next_op(rng, state, mode)
            if mode == "llm" and op["kind"] != "delete":
                position = len(op["messages"]) - 2
                provider.extractions.append(
                    extraction((f"#user_#id# {op['messages'][position][1]}", [position]))
                )
                provider.compare = _contradict_first if op["contradict"] else all_new
            append_line(handle, {"t": "begin", **op})
            if op["kind"] == "delete":
                await memora.delete_interaction(ORG, op["user"], op["iid"])
                iid = op["iid"]
            else:
                iid, _ = await memora.save_or_update_interaction_and_memories(
                    ORG, op["user"], AGENT, [{"role": r, "content": c} for r, c in op["messages"]],
                    interaction_id=op["iid"],
                )  # fmt: skip
            append_line(handle, {"t": "done", "k": op["k"], "iid": iid})
            state.apply(op, iid)
            state.next_k += 1
    await memora.close()


def _contradict_first(
    stored: list[dict[str, Any]], candidates: list[dict[str, Any]]
) -> dict[str, Any]:
    """A comparison answer that makes the first candidate supersede the first shown memory."""
    if not stored:
        return {"new_memories": [{"memory": candidates[0]["memory"], "source_candidate_pos_id": 0}],
                "contrary_memories": []}  # fmt: skip
    return {
        "new_memories": [],
        "contrary_memories": [
            {
                "memory": candidates[0]["memory"],
                "source_candidate_pos_id": 0,
                "contradicted_memory_id": stored[0]["memory_id"],
            }
        ],
    }


def zygote_main() -> None:
    """Load the model once, then fork a writer per ``run`` command read from stdin."""
    from memora_engine.embeddings import Bm25SparseEncoder, default_dense_encoder

    dense = default_dense_encoder(threads=1)  # no ONNX thread pool: safe to fork after loading
    sparse = Bm25SparseEncoder()
    asyncio.run(dense.embed_documents(["warm up"]))
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        command = json.loads(line)
        if command["cmd"] == "quit":
            return
        pid = os.fork()
        if pid == 0:  # the writer child
            os.dup2(2, 1)
            code = 0
            try:
                asyncio.run(
                    run_writer(Path(command["store"]), Path(command["journal"]), command["seed"],
                               command["mode"], dense, sparse, command["max_ops"])
                )  # fmt: skip
            except BaseException:
                traceback.print_exc()
                code = 3
            os._exit(code)
        print(json.dumps({"pid": pid}), flush=True)
        _, status = os.waitpid(pid, 0)
        print(json.dumps({"exit": os.waitstatus_to_exitcode(status)}), flush=True)


def _new_lines(journal: Path, size: int) -> list[dict[str, Any]]:
    """Complete journal lines written after byte ``size``."""
    if not journal.exists():
        return []
    with journal.open("rb") as handle:
        handle.seek(size)
        raw = handle.read().decode("utf-8", "replace")
    return [json.loads(line) for line in raw.split("\n")[:-1]]


class Zygote:
    """The driver's handle on a zygote process."""

    def __init__(self, repo_root: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.reliability._crash_harness"],
            cwd=repo_root,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._read() == {"ready": True}

    def _read(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"zygote died (exit {self.proc.wait()})")
        return dict(json.loads(line))

    def run_and_kill(self, command: dict[str, Any], *, after_ops: int | None, phase: float) -> int:
        """Fork a writer and SIGKILL it; return its exit code (-9 when the kill landed).

        ``after_ops=None`` kills ``phase * 0.3`` s after the fork (during startup); otherwise
        the kill lands at fraction ``phase`` of the writer's operation number ``after_ops + 1``
        (measured by the duration of its previous operation, or 0.2 s for the first one).
        """
        assert self.proc.stdin is not None
        journal = Path(command["journal"])
        size = journal.stat().st_size if journal.exists() else 0
        self.proc.stdin.write(json.dumps({"cmd": "run", **command}) + "\n")
        self.proc.stdin.flush()
        pid = self._read()["pid"]
        delay = phase * 0.3
        deadline = time.monotonic() + 30
        while after_ops is not None and time.monotonic() < deadline:
            lines = _new_lines(journal, size)
            done = [i for i, e in enumerate(lines) if e["t"] == "done"]
            if len(done) >= after_ops and len(lines) > (
                done[after_ops - 1] + 1 if after_ops else 0
            ):
                last = done[after_ops - 1] if after_ops else None
                took = lines[last]["ts"] - lines[last - 1]["ts"] if last else 0.2
                delay = phase * max(took, 0.005) * 1.1
                break
            time.sleep(0.001)
        time.sleep(delay)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        return int(self._read()["exit"])

    def close(self) -> None:
        if self.proc.poll() is None:
            assert self.proc.stdin is not None
            self.proc.stdin.write(json.dumps({"cmd": "quit"}) + "\n")
            self.proc.stdin.flush()
            self.proc.wait(timeout=30)


if __name__ == "__main__":
    zygote_main()
