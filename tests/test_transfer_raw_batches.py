"""Raw-mode conversation import in batches (``memora_engine.transfer.raw_batches``).

Real embedded stores and the real MiniLM model (wrapped only to record its calls); no model
calls. A batched import must store exactly what one raw save per conversation stores, embed a
batch in one encoder call, and resume exactly after a crash in the middle of a batch.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from memora_engine import Memora
from memora_engine.embeddings import DenseEncoder
from memora_engine.testing import RecordingEncoder
from memora_engine.transfer import Defaults, import_jsonl, read_import_file
from memora_engine.transfer.raw_batches import message_batches
from memora_engine.transfer.record_types import InteractionRecord
from memora_engine.transfer.resume_log import ResumeLog

DEFAULTS = Defaults("acme", None, "bot")


def _conversation(user: str, day: int, *texts: str, **extra: Any) -> dict[str, Any]:
    roles = ["user", "assistant"]
    messages = [{"role": roles[n % 2], "content": text} for n, text in enumerate(texts)]
    when = datetime(2024, 3, day, 10, 0, tzinfo=timezone.utc).isoformat()
    return {"user_id": user, "messages": messages, "created_at": when, **extra}


CONVERSATIONS = [
    _conversation("jake", 1, "I love hiking in the Alps.", "Which trail do you like best?"),
    _conversation("anna", 1, "My cat is called Miso.", "Cute name!", "She is three years old."),
    _conversation("jake", 2, "I moved to Lyon last spring.", metadata={"topic": "home"}),
    _conversation(
        "anna",
        3,
        "I started learning the cello.",
        "How is it going?",
        "Slowly, but I practise daily.",
    ),
    {
        "user_id": "jake",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "I am allergic to peanuts."},
        ],
        "created_at": datetime(2024, 3, 4, 9, 0, tzinfo=timezone.utc).isoformat(),
    },
]
MESSAGES = sum(len(c["messages"]) for c in CONVERSATIONS)
RAW_MEMORIES = MESSAGES - 1  # the system message is not a memory


def _write_file(path: Path) -> Path:
    records: list[dict[str, Any]] = [
        {"type": "organization", "org_id": "acme", "org_name": "Acme"},
        {"type": "user", "org_id": "acme", "user_id": "jake", "user_name": "Jake"},
        {"type": "user", "org_id": "acme", "user_id": "anna", "user_name": "Anna"},
        {"type": "agent", "org_id": "acme", "agent_id": "bot", "agent_label": "Bot"},
        *CONVERSATIONS,
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def _shape(interactions: Sequence[Any]) -> list[Any]:
    """What a save stores, without the ids it draws."""
    return sorted(
        (
            i.created_at,
            [(m.role, m.content) for m in i.messages],
            sorted(
                json.dumps(
                    m.model_dump(mode="json", exclude={"memory_id", "interaction_id"}),
                    sort_keys=True,
                )
                for m in i.memories
            ),
        )
        for i in interactions
    )


async def _stored(memora: Memora) -> dict[str, list[Any]]:
    return {u: _shape(await memora.list_interactions("acme", u)) for u in ("jake", "anna")}


async def test_batched_import_stores_what_one_raw_save_per_conversation_stores(
    tmp_path: Path, dense_encoder: DenseEncoder
) -> None:
    file = _write_file(tmp_path / "chats.jsonl")
    counting = RecordingEncoder(dense_encoder)
    async with await Memora.embedded(tmp_path / "batched", dense_encoder=counting) as memora:
        counts = await import_jsonl(
            memora, file, defaults=DEFAULTS, infer=False, state_dir=tmp_path / "state"
        )
        assert counts.conversations_saved == len(CONVERSATIONS)
        assert counts.memories_extracted == RAW_MEMORIES
        # Every conversation's memories in one encoder call (no searches in raw mode).
        assert [len(texts) for kind, texts in counting.calls if kind == "documents"] == [
            RAW_MEMORIES
        ]
        batched = await _stored(memora)
        [hit, *_] = await memora.search_memories_as_one("acme", "jake", ["food allergy"])
        assert hit.memory == "I am allergic to peanuts."
        [home] = await memora.list_memories("acme", "jake", filter={"topic": "home"})
        assert home.memory == "I moved to Lyon last spring."

    async with await Memora.embedded(tmp_path / "one_by_one") as memora:
        await memora.create_organization("Acme", org_id="acme")
        for user in ("jake", "anna"):
            await memora.create_user("acme", user.title(), user_id=user)
        await memora.create_agent("acme", "Bot", agent_id="bot")
        for conversation in CONVERSATIONS:
            await memora.save_or_update_interaction_and_memories(
                "acme",
                conversation["user_id"],
                "bot",
                conversation["messages"],
                current_datetime=datetime.fromisoformat(conversation["created_at"]),
                metadata=conversation.get("metadata"),
                infer=False,
            )
        assert await _stored(memora) == batched


async def test_a_crash_inside_a_batch_resumes_exactly(tmp_path: Path) -> None:
    """Pending ids are logged before the batch is written: committed ones are adopted, the
    others written under the same id; nothing is saved twice."""
    file = _write_file(tmp_path / "chats.jsonl")
    state_dir = tmp_path / "state"
    read = read_import_file(file, "jsonl", DEFAULTS)
    numbers = [number for number, _ in read.plan.conversations]
    state = state_dir / f"{read.digest}.jsonl"
    # A run that chose ids for the batch and died before writing any of it.
    chosen = {number: f"chosen{number}" for number in numbers}
    ResumeLog(state).load()
    ResumeLog(state).append(sorted(chosen.items()), pending=True)
    async with await Memora.embedded(tmp_path / "store") as memora:
        counts = await import_jsonl(
            memora, file, defaults=DEFAULTS, infer=False, state_dir=state_dir
        )
        assert counts.conversations_saved == len(CONVERSATIONS)
        ids = {
            i.interaction_id
            for u in ("jake", "anna")
            for i in await memora.list_interactions("acme", u)
        }
        assert ids == set(chosen.values())
        before = await _stored(memora)

        # A run that wrote the batch and died before logging it done: keep the pending lines.
        lines = state.read_text(encoding="utf-8").splitlines(keepends=True)
        state.write_text("".join(line for line in lines if '"pending"' in line), encoding="utf-8")
        again = await import_jsonl(
            memora, file, defaults=DEFAULTS, infer=False, state_dir=state_dir
        )
        assert again.conversations_already_imported == len(CONVERSATIONS)
        assert again.conversations_saved == 0
        assert await _stored(memora) == before
        stored = [await memora.list_memories("acme", u) for u in ("jake", "anna")]
        assert sum(len(memories) for memories in stored) == RAW_MEMORIES


def test_message_batches_fill_up_to_the_limit_in_order() -> None:
    def record(size: int) -> InteractionRecord:
        return InteractionRecord(messages=[{"role": "user", "content": "x"}] * size)  # type: ignore[list-item]

    numbered = [(n, record(size)) for n, size in enumerate([3, 4, 2, 9, 1], start=1)]
    batches = [[n for n, _ in batch] for batch in message_batches(numbered, limit=8)]
    # 3+4 fit, +2 would not; the 9-message conversation is a batch of its own.
    assert batches == [[1, 2], [3], [4], [5]]
    assert list(message_batches([], limit=8)) == []


def test_sigkill_during_a_batched_import_then_resume_saves_each_conversation_once(
    tmp_path: Path,
) -> None:
    """A real `memora import --raw` killed (SIGKILL) while its batches are written, then run
    again: every conversation is stored exactly once, with all its memories."""
    import signal
    import subprocess
    import sys
    import time

    conversations = [
        {
            "user_id": f"u{n % 3}",
            "messages": [
                {"role": "user", "content": f"Conversation {n}, fact {k}: I keep {k} plants."}
                for k in range(40)
            ],
        }
        for n in range(24)
    ]
    records: list[dict[str, Any]] = [
        {"type": "organization", "org_id": "acme", "org_name": "Acme"},
        *(
            {"type": "user", "org_id": "acme", "user_id": f"u{n}", "user_name": f"U{n}"}
            for n in range(3)
        ),
        {"type": "agent", "org_id": "acme", "agent_id": "bot", "agent_label": "Bot"},
        *conversations,
    ]
    file = tmp_path / "chats.jsonl"
    file.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    data = tmp_path / "data"
    command = [sys.executable, "-m", "memora_engine.cli", "import", str(file), "--raw"]
    command += ["--org", "acme", "--agent", "bot", "--path", str(data), "--json"]

    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    state = data / "imports"
    while time.monotonic() < deadline and process.poll() is None:
        logs = list(state.glob("*.jsonl")) if state.is_dir() else []
        if logs and logs[0].read_text(encoding="utf-8").count('"pending"') >= 12:
            break  # the second batch has its ids; the first may or may not be committed
        time.sleep(0.02)
    assert process.poll() is None, process.communicate()
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=60)
    [log] = state.glob("*.jsonl")
    entries = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    chosen = {e["interaction_id"] for e in entries if e.get("pending")}

    done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    counts = json.loads(done.stdout)
    assert counts["conversations_saved"] + counts["conversations_already_imported"] == 24
    assert counts["conversations_already_imported"] >= 1  # the kill came after a commit

    async def stored() -> list[tuple[str, str, int]]:
        async with await Memora.embedded(data) as memora:
            return [
                (i.messages[0].content.split(",")[0], i.interaction_id, len(i.memories))
                for u in ("u0", "u1", "u2")
                for i in await memora.list_interactions("acme", u, limit=100)
            ]

    import asyncio

    found = asyncio.run(stored())
    assert sorted((c, n) for c, _, n in found) == sorted(
        (f"Conversation {n}", 40) for n in range(24)
    )
    # The batch cut short was written again under the ids chosen before the kill.
    assert chosen <= {iid for _, iid, _ in found}
