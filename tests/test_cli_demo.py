"""`memora demo` end to end in raw mode, plus config and admin commands, through the real CLI."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from memora_engine.cli import CliState, app

_PROVIDER_ENV = (
    "MEMORA_LLM_MODEL",
    "MEMORA_SEARCH_MODEL",
    "MEMORA_PATH",
    "MEMORA_CONFIG",
    "MEMORA_ORG_ID",
    "MEMORA_USER_ID",
    "MEMORA_AGENT_ID",
    "MEMORA_NEO4J_URI",
    "MEMORA_QDRANT_URL",
    "OPENAI_API_KEY",
    "GROQ_API_KEY",
    "TOGETHER_API_KEY",
    "AZURE_OPENAI_API_KEY",
)


@pytest.fixture(autouse=True)
def _offline_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No provider keys and no stray Memora settings; run in an empty working directory."""
    for name in _PROVIDER_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def invoke(args: list[str], **kwargs: Any) -> Result:
    result = CliRunner().invoke(app, args, obj=CliState(), catch_exceptions=False, **kwargs)
    return result


def as_json(result: Result) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_demo_raw_mode_end_to_end(tmp_path: Path) -> None:
    """If this fails, check demo.py's steps and that raw mode needs no provider."""
    data = tmp_path / "data"
    result = invoke(["demo", "--path", str(data)])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "\x1b[" not in out  # no colours when stdout is not a terminal
    notices = [line for line in out.splitlines() if "No LLM provider found" in line]
    assert len(notices) == 1
    for step in (
        "1. An organization",
        "2. Save a conversation",
        "3. Update it",
        "4. Recall",
        "5. Search",
        "6. A contradicting update",
        "7. The stored graph",
    ):
        assert step in out
    assert "Sarah is now due on December 20th" in out
    assert f"Data kept in {data}" in out.replace("\n", "")

    [org] = as_json(invoke(["orgs", "list", "--path", str(data), "--json"]))
    assert org["org_name"] == "Memora demo"
    [user] = as_json(
        invoke(["users", "list", "--path", str(data), "--org", org["org_id"], "--json"])
    )
    assert user["user_name"] == "Jake"
    ids = ["--path", str(data), "--org", org["org_id"], "--user", user["user_id"]]
    memories = as_json(invoke(["memories", "list", *ids, "--json"]))
    # 8 messages stored verbatim, plus the correction recorded as a new version of one of them:
    # the list shows current versions only (#13 CLI), --history every version, marked.
    assert len(memories) == 8
    assert not any(m["memory"] == "December 15th." for m in memories)
    every = as_json(invoke(["memories", "list", *ids, "--history", "--json"]))
    assert len(every) == 9
    newest = next(m for m in memories if "December 20th" in m["memory"])
    [old] = [m for m in every if m["memory"] == "December 15th."]
    assert old["superseded_by"] == newest["memory_id"]
    assert {m["superseded_by"] for m in every if m is not old} == {None}
    assert newest["memory"].startswith("Jake's wife Sarah")  # placeholder resolved to the name
    assert [s["msg_position"] for s in newest["message_sources"]] == [8]
    chain = as_json(invoke(["memories", "history", newest["memory_id"], *ids, "--json"]))
    assert [m["memory"] for m in chain] == [newest["memory"], "December 15th."]
    [interaction] = as_json(invoke(["interactions", "list", *ids, "--json"]))
    assert len(interaction["messages"]) == 10
    hits = as_json(invoke(["search", "When is Sarah due?", *ids, "--json", "--limit", "3"]))
    assert hits[0]["memory_id"] == newest["memory_id"]  # the old version resolves to the new one
    assert all("score" in hit for hit in hits)


def test_demo_says_what_to_set_when_the_model_folder_is_wrong(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If this fails, check how demo reports a missing embedding model."""
    monkeypatch.setenv("MEMORA_EMBEDDING_MODEL_DIR", str(tmp_path / "no-model-here"))
    result = CliRunner().invoke(app, ["demo", "--path", str(tmp_path / "d")], obj=CliState())
    assert result.exit_code == 1
    assert "MEMORA_EMBEDDING_MODEL_DIR" in result.output
    assert "Traceback" not in result.output


def test_config_precedence_and_hidden_secrets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If this fails, check config.load_settings (flags > env > file > defaults) and masking."""
    (tmp_path / "memora.toml").write_text(
        '[memora]\npath = "from-file"\norg_id = "file-org"\nqdrant_api_key = "file-secret"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("MEMORA_ORG_ID", "env-org")
    rows = {row["name"]: row for row in as_json(invoke(["config", "--json"]))["settings"]}
    assert rows["path"]["value"] == "from-file"
    assert rows["path"]["source"].startswith("file")
    assert rows["org_id"]["value"] == "env-org"
    assert rows["org_id"]["source"] == "env MEMORA_ORG_ID"
    assert rows["qdrant_api_key"]["value"] == "(set, hidden)"
    flagged = as_json(invoke(["config", "--json", "--path", "from-flag"]))["settings"]
    assert next(r for r in flagged if r["name"] == "path")["value"] == "from-flag"
    text = invoke(["config"]).stdout
    assert "file-secret" not in text

    (tmp_path / "memora.toml").write_text("[memora]\nno_such_setting = 1\n", encoding="utf-8")
    bad = CliRunner().invoke(app, ["config"], obj=CliState())
    assert bad.exit_code == 1
    assert "no_such_setting" in bad.output


def test_admin_commands_and_clear_errors(tmp_path: Path) -> None:
    """If this fails, check admin.py's commands, --json output and MemoraError handling."""
    path = ["--path", str(tmp_path / "data")]
    org = as_json(invoke(["orgs", "create", "Acme", "--id", "acme", *path, "--json"]))
    assert org["org_id"] == "acme"
    as_json(invoke(["users", "create", "Jake", "--org", "acme", "--id", "jake", *path, "--json"]))
    agent = as_json(
        invoke(["agents", "create", "Jenny", "--org", "acme", "--user", "jake", *path, "--json"])
    )
    assert agent["user_id"] == "jake"
    renamed = as_json(
        invoke(["users", "rename", "jake", "Jacob", "--org", "acme", *path, "--json"])
    )
    assert renamed["user_name"] == "Jacob"
    agents = as_json(invoke(["agents", "list", "--org", "acme", "--user", "jake", *path, "--json"]))
    assert [a["agent_id"] for a in agents] == [agent["agent_id"]]

    duplicate = CliRunner().invoke(app, ["orgs", "create", "Again", "--id", "acme", *path])
    assert duplicate.exit_code == 1
    assert duplicate.output.startswith("Error:")
    assert "Traceback" not in duplicate.output
    missing = CliRunner().invoke(app, ["users", "show", "nobody", "--org", "acme", *path])
    assert missing.exit_code == 1
    assert "nobody" in missing.output
    bad_id = CliRunner().invoke(app, ["users", "show", "bad id!", "--org", "acme", *path])
    assert bad_id.exit_code == 2
    no_user = CliRunner().invoke(app, ["memories", "list", "--org", "acme", *path])
    assert no_user.exit_code == 2
    assert "--user" in no_user.output

    deleted = invoke(["orgs", "delete", "acme", "--yes", *path])
    assert deleted.exit_code == 0
    assert as_json(invoke(["orgs", "list", *path, "--json"])) == []
    assert re.search(r"Deleted organization acme", deleted.stdout)


def test_demo_through_the_installed_entry_point(tmp_path: Path) -> None:
    """If this fails, check the console-script wiring (memora_engine.cli:main)."""
    import subprocess
    import sys

    completed = subprocess.run(
        [sys.executable, "-m", "memora_engine.cli", "demo", "--path", str(tmp_path / "d")],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert "7. The stored graph" in completed.stdout
    assert "\x1b[" not in completed.stdout
