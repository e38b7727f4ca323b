"""``memora_engine.transfer`` from Python (no click): export / import, validation first.

Real embedded stores and the real MiniLM model; no model calls (restores and raw mode).
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from memora_engine import Memora, MemoriesAndInteraction, MemoryToStore
from memora_engine.cli import CliState, app
from memora_engine.transfer import (
    Defaults,
    ImportFileError,
    export_jsonl,
    import_jsonl,
)

README = Path(__file__).resolve().parent.parent / "README.md"
TAKEN = "11111111-1111-4111-8111-111111111111"
WHEN = datetime(2024, 5, 1, 9, 0, tzinfo=timezone.utc)


def _readme_python_blocks() -> list[str]:
    import re

    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.DOTALL)


async def _seed(path: Path) -> None:
    """acme (jake, helper) and beta (bo, bbot, one memory whose id is TAKEN)."""
    async with await Memora.embedded(path) as memora:
        await memora.create_organization("Acme", org_id="acme")
        await memora.create_user("acme", "Jake", user_id="jake")
        await memora.create_agent("acme", "Helper", agent_id="helper")
        await memora.create_organization("Beta", org_id="beta")
        await memora.create_user("beta", "Bo", user_id="bo")
        await memora.create_agent("beta", "B-bot", agent_id="bbot")
        record = MemoriesAndInteraction(
            interaction=[{"role": "user", "content": "I like tea."}],  # type: ignore[list-item]
            interaction_date=WHEN,
            memories=[
                MemoryToStore(memory="user_bo likes tea", source_msg_block_pos=[0], memory_id=TAKEN)
            ],
        )
        await memora.restore_interaction("beta", "bo", "bbot", record, interaction_id="bi")


def _restore(interaction_id: str, memory: dict[str, object]) -> str:
    base = {
        "memory_id": "22222222-2222-4222-8222-222222222222",
        "memory": "user_jake likes coffee",
        "obtained_at": "2024-05-01T09:00:00Z",
        "sources": [0],
    }
    return json.dumps(
        {
            "type": "interaction",
            "org_id": "acme",
            "user_id": "jake",
            "agent_id": "helper",
            "interaction_id": interaction_id,
            "messages": [{"role": "user", "content": "I like coffee."}],
            "memories": [{**base, **memory}],
        }
    )


async def test_import_checks_everything_first_and_reports_every_line(tmp_path: Path) -> None:
    """#13 bug 8 (a)-(e): before, (a) and (c) passed --dry-run and the real import wrote the org
    and user before failing; (b) printed a RecursionError; (d) passed --dry-run; (e) was
    imported; and problems came in three rounds."""
    store = tmp_path / "store"
    await _seed(store)
    lines = [
        json.dumps({"type": "user", "org_id": "acme", "user_id": "nul", "user_name": "a\u0000b"}),
        "[" * 100_000,
        _restore("i3", {"memory": "tea\u0000time"}),
        _restore("i4", {"memory_id": TAKEN}),
        _restore("i5", {"agent_id": "bbot", "memory_id": "55555555-5555-4555-8555-555555555555"}),
        json.dumps({"type": "organization", "org_id": "new", "org_name": "New org"}),
    ]
    file = tmp_path / "bad.jsonl"
    file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    async with await Memora.embedded(store) as memora:
        for dry_run in (True, False):
            with pytest.raises(ImportFileError) as caught:
                await import_jsonl(memora, file, dry_run=dry_run)
            problems = caught.value.problems
            assert [p.split(":", 1)[0] for p in problems] == [
                "line 1",
                "line 2",
                "line 3",
                "line 4",
                "line 5",
            ], problems
            assert "NUL" in problems[0]
            assert "nested too deeply" in problems[1]
            assert "NUL" in problems[2]
            assert TAKEN in problems[3]
            assert "already used" in problems[3]
            assert "bbot" in problems[4]
            assert "not found in organization acme" in problems[4]
        # Nothing was written: no new org, no new user, no interaction for jake.
        assert {o.org_id for o in await memora.list_organizations()} == {"acme", "beta"}
        assert [u.user_id for u in await memora.list_users("acme")] == ["jake"]
        assert await memora.list_interactions("acme", "jake") == []
    cli = CliRunner().invoke(
        app, ["import", str(file), "--path", str(store), "--dry-run"], obj=CliState()
    )
    assert cli.exit_code == 2, cli.output
    assert "5 problem(s), nothing was imported" in cli.output
    assert "Traceback" not in cli.output
    assert "RecursionError" not in cli.output


async def test_export_and_import_from_python_round_trip(tmp_path: Path) -> None:
    source, target = tmp_path / "source", tmp_path / "target"
    await _seed(source)
    backup = tmp_path / "backup.jsonl"
    async with await Memora.embedded(source) as memora:
        result = await export_jsonl(memora, backup)
    assert result.records == {"organization": 2, "user": 2, "agent": 2, "interaction": 1}
    assert result.memories == 1
    async with await Memora.embedded(target) as memora:
        planned = await import_jsonl(memora, backup, dry_run=True)
        assert planned.memories_restored == 1
        assert await memora.list_organizations() == []  # the dry run wrote nothing
        counts = await import_jsonl(memora, backup)
        assert counts.organizations_created == 2
        assert counts.memories_restored == 1
        again = await import_jsonl(memora, backup)  # resumable: everything is already there
        assert again.interactions_present == 1
        assert again.memories_restored == 0
        [memory] = await memora.list_memories("beta", "bo", resolve_names=False)
        assert (memory.memory_id, memory.memory) == (TAKEN, "user_bo likes tea")
        copy = tmp_path / "copy.jsonl"
        await export_jsonl(memora, copy)
    strip = [json.loads(line) for line in backup.read_text(encoding="utf-8").splitlines()][1:]
    again_lines = [json.loads(line) for line in copy.read_text(encoding="utf-8").splitlines()][1:]
    assert again_lines == strip


async def test_conversations_import_in_raw_mode_with_defaults(tmp_path: Path) -> None:
    store = tmp_path / "store"
    await _seed(store)
    file = tmp_path / "chats.jsonl"
    file.write_text(
        json.dumps({"messages": [{"role": "user", "content": "I live in Lyon."}]}) + "\n",
        encoding="utf-8",
    )
    async with await Memora.embedded(store) as memora:
        counts = await import_jsonl(
            memora,
            file,
            defaults=Defaults("acme", "jake", "helper"),
            infer=False,
            state_dir=tmp_path / "state",
        )
        assert counts.conversations_saved == 1
        again = await import_jsonl(
            memora,
            file,
            defaults=Defaults("acme", "jake", "helper"),
            infer=False,
            state_dir=tmp_path / "state",
        )
        assert again.conversations_already_imported == 1
        assert again.conversations_saved == 0
        [memory] = await memora.list_memories("acme", "jake")
        assert memory.memory == "I live in Lyon."


def test_transfer_needs_neither_click_nor_rich() -> None:
    """Python users back up without the CLI extra; the command says which extra it needs."""
    code = (
        "import sys\n"
        "sys.modules['click'] = None\n"
        "sys.modules['rich'] = None\n"
        "import memora_engine.transfer\n"
        "from memora_engine.cli import main\n"
        "main(['--help'])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 1, done.stderr
    assert "the 'cli' extra" in done.stderr
    assert 'pip install "memora-engine[cli]"' in done.stderr
    assert "Traceback" not in done.stderr


async def test_readme_transfer_example_runs_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If this fails, the README's `memora_engine.transfer` example is out of date."""
    import ast

    [code] = [b for b in _readme_python_blocks() if "from memora_engine.transfer import" in b]
    monkeypatch.chdir(tmp_path)
    await _seed(tmp_path / ".memora")
    namespace: dict[str, object] = {}
    compiled = compile(code, str(README), "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    awaitable = eval(compiled, namespace)
    if awaitable is not None:
        await awaitable
    assert namespace["counts"].memories_restored == 1  # type: ignore[attr-defined]
    assert (tmp_path / "restored" / "graph.sqlite3").is_file()
