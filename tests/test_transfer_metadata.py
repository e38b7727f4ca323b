"""Export / import carries memory metadata exactly (issue #14), and old exports still import.

Real embedded stores and the real MiniLM model; no model calls (facts stored verbatim, restores).
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from memora_engine import Memora
from memora_engine.transfer import Defaults, ImportFileError, export_jsonl, import_jsonl

WHEN = datetime(2024, 5, 1, 9, 0, tzinfo=timezone.utc)
RICH = {"pinned": True, "count": 1, "weight": 1.0, "ratio": 0.25, "tags": ["b", "a", "c"]}


def _typed(value: Any) -> Any:
    """A value with its exact JSON type spelled out (``1``, ``1.0`` and ``True`` differ)."""
    if isinstance(value, dict):
        return {k: _typed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_typed(v) for v in value]
    return (type(value).__name__, value)


async def _seed(path: Path) -> dict[str, str]:
    """jake of acme: a 3-version chain (inherited, then replaced metadata), a memory with rich
    metadata and one with none."""
    async with await Memora.embedded(path) as memora:
        await memora.create_organization("Acme", org_id="acme")
        await memora.create_user("acme", "Jake", user_id="jake")
        await memora.create_agent("acme", "Helper", agent_id="helper")
        first, rich, bare = await memora.add_memories(
            "acme",
            "jake",
            "helper",
            [
                {"memory": "Jake lives in Oslo", "metadata": {"topic": "home", "since": 2019}},
                {"memory": "Jake plays chess", "metadata": RICH},
                "Jake has a cat",
            ],
            current_datetime=WHEN,
        )
        v2 = await memora.edit_memory("acme", "jake", first.memory_id, memory="Jake lives in Rome")
        v3 = await memora.edit_memory(
            "acme", "jake", v2.memory_id, memory="Jake lives in Lyon", metadata={}
        )
        return {
            "v1": first.memory_id,
            "v2": v2.memory_id,
            "v3": v3.memory_id,
            "rich": rich.memory_id,
            "bare": bare.memory_id,
        }


def _memories_of(path: Path) -> dict[str, dict[str, Any]]:
    """Every exported memory by id, from an export file."""
    out: dict[str, dict[str, Any]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        for memory in record.get("memories") or []:
            out[memory["memory_id"]] = memory
    return out


async def test_metadata_round_trips_exactly_through_export_and_import(tmp_path: Path) -> None:
    """If this fails, check export writes ``metadata`` per memory and import passes it on every
    restored version explicitly (``{}`` must not inherit the replaced version's metadata)."""
    source, target = tmp_path / "source", tmp_path / "target"
    ids = await _seed(source)
    backup = tmp_path / "backup.jsonl"
    async with await Memora.embedded(source) as memora:
        await export_jsonl(memora, backup)
    header = json.loads(backup.read_text(encoding="utf-8").splitlines()[0])
    assert header["version"] == 2
    exported = _memories_of(backup)
    assert _typed(exported[ids["rich"]]["metadata"]) == _typed(RICH)
    assert exported[ids["v1"]]["metadata"] == {"topic": "home", "since": 2019}
    assert exported[ids["v2"]]["metadata"] == {"topic": "home", "since": 2019}  # inherited
    assert exported[ids["v2"]]["supersedes"] == ids["v1"]
    assert exported[ids["v3"]]["metadata"] == {}  # replaced by an empty set
    assert exported[ids["v3"]]["supersedes"] == ids["v2"]
    assert exported[ids["bare"]]["metadata"] == {}

    async with await Memora.embedded(target) as memora:
        counts = await import_jsonl(memora, backup)
        assert counts.memories_restored == 5
        versions = await memora.list_memories("acme", "jake", include_history=True)
        by_id = {m.memory_id: m for m in versions}
        assert _typed(by_id[ids["rich"]].metadata) == _typed(RICH)
        assert by_id[ids["v3"]].metadata == {}
        assert by_id[ids["v2"]].metadata == {"topic": "home", "since": 2019}
        history = await memora.get_memory_history("acme", "jake", ids["v1"])
        assert [m.memory_id for m in history] == [ids["v3"], ids["v2"], ids["v1"]]
        copy = tmp_path / "copy.jsonl"
        await export_jsonl(memora, copy)
    original = [json.loads(line) for line in backup.read_text(encoding="utf-8").splitlines()][1:]
    again = [json.loads(line) for line in copy.read_text(encoding="utf-8").splitlines()][1:]
    assert _typed(again) == _typed(original)


async def test_version_1_export_without_metadata_still_imports(tmp_path: Path) -> None:
    """An export written before metadata existed (header version 1, no ``metadata`` fields)
    imports; every memory, including the newer version of a chain, has empty metadata."""
    old, new = "11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222"
    lines = [
        {"type": "memora-export", "version": 1, "exported_at": "2024-05-02T00:00:00+00:00"},
        {"type": "organization", "org_id": "acme", "org_name": "Acme"},
        {"type": "user", "org_id": "acme", "user_id": "jake", "user_name": "Jake"},
        {"type": "agent", "org_id": "acme", "agent_id": "helper", "agent_label": "Helper"},
        {
            "type": "interaction",
            "org_id": "acme",
            "user_id": "jake",
            "agent_id": "helper",
            "interaction_id": "i1",
            "created_at": "2024-05-01T09:00:00+00:00",
            "messages": [{"role": "user", "content": "I moved from Oslo to Lyon."}],
            "memories": [
                {
                    "memory_id": old,
                    "memory": "user_jake lives in Oslo",
                    "obtained_at": "2024-05-01T09:00:00+00:00",
                    "agent_id": "helper",
                    "sources": [0],
                    "supersedes": None,
                },
                {
                    "memory_id": new,
                    "memory": "user_jake lives in Lyon",
                    "obtained_at": "2024-05-01T09:05:00+00:00",
                    "agent_id": "helper",
                    "sources": [0],
                    "supersedes": old,
                },
            ],
        },
    ]
    file = tmp_path / "v1.jsonl"
    file.write_text("\n".join(json.dumps(line) for line in lines) + "\n", encoding="utf-8")
    async with await Memora.embedded(tmp_path / "store") as memora:
        counts = await import_jsonl(memora, file)
        assert counts.memories_restored == 2
        versions = await memora.list_memories("acme", "jake", include_history=True)
        assert {m.memory_id: m.metadata for m in versions} == {old: {}, new: {}}
        history = await memora.get_memory_history("acme", "jake", old)
        assert [m.memory_id for m in history] == [new, old]


async def test_bad_metadata_in_an_import_names_the_line_and_writes_nothing(
    tmp_path: Path,
) -> None:
    base = {
        "type": "interaction",
        "org_id": "acme",
        "user_id": "jake",
        "agent_id": "helper",
        "messages": [{"role": "user", "content": "I like tea."}],
    }
    memory = {
        "memory_id": "33333333-3333-4333-8333-333333333333",
        "memory": "user_jake likes tea",
        "obtained_at": "2024-05-01T09:00:00+00:00",
        "sources": [0],
    }
    lines = [
        {"type": "memora-export", "version": 3},
        {"type": "organization", "org_id": "acme", "org_name": "Acme"},
        {**base, "interaction_id": "i1", "memories": [{**memory, "metadata": {"a": {"b": 1}}}]},
        {**base, "metadata": {"agent_id": "x"}},
        {**base, "interaction_id": "i3", "metadata": {"topic": "food"}, "memories": []},
    ]
    file = tmp_path / "bad.jsonl"
    file.write_text("\n".join(json.dumps(line) for line in lines) + "\n", encoding="utf-8")
    async with await Memora.embedded(tmp_path / "store") as memora:
        with pytest.raises(ImportFileError) as caught:
            await import_jsonl(memora, file, defaults=Defaults("acme", "jake", "helper"))
        problems = caught.value.problems
        assert [p.split(":", 1)[0] for p in problems] == ["line 1", "line 3", "line 4", "line 5"]
        assert "unsupported export version 3" in problems[0]
        assert "metadata['a']" in problems[1]
        assert "reserved" in problems[2]
        assert "give each memory its own metadata" in problems[3]
        assert await memora.list_organizations() == []


async def test_conversation_metadata_goes_to_the_memories_extracted(tmp_path: Path) -> None:
    file = tmp_path / "chats.jsonl"
    record = {
        "messages": [{"role": "user", "content": "I live in Lyon."}],
        "metadata": {"source": "crm", "batch": 7},
    }
    file.write_text(json.dumps(record) + "\n", encoding="utf-8")
    async with await Memora.embedded(tmp_path / "store") as memora:
        await memora.create_organization("Acme", org_id="acme")
        await memora.create_user("acme", "Jake", user_id="jake")
        await memora.create_agent("acme", "Helper", agent_id="helper")
        await import_jsonl(memora, file, defaults=Defaults("acme", "jake", "helper"), infer=False)
        [memory] = await memora.list_memories("acme", "jake", filter={"source": "crm"})
        assert memory.memory == "I live in Lyon."
        assert _typed(memory.metadata) == _typed({"source": "crm", "batch": 7})


async def test_cli_export_and_interactions_show_carry_metadata(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from memora_engine.cli import CliState, app

    source = tmp_path / "source"
    ids = await _seed(source)
    out = tmp_path / "cli.jsonl"
    done = CliRunner().invoke(
        app, ["export", "--path", str(source), "-o", str(out)], obj=CliState()
    )
    assert done.exit_code == 0, done.output
    assert _typed(_memories_of(out)[ids["rich"]]["metadata"]) == _typed(RICH)
    async with await Memora.embedded(source) as memora:
        rich = await memora.get_memory("acme", "jake", ids["rich"])
    shown = CliRunner().invoke(
        app,
        [
            *["interactions", "show", str(rich.interaction_id)],
            *["--org", "acme", "--user", "jake", "--path", str(source)],
        ],
        obj=CliState(),
    )
    assert shown.exit_code == 0, shown.output
    assert '"pinned": true' in shown.output
