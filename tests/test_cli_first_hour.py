"""Regression tests for issue #13 ("the first hour") on the CLI, against real embedded stores.

Each test names the bug it covers; each failed before the fix.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from memora_engine import ConfigurationError, Memora, MemoraError, SyncMemora
from memora_engine.cli import CliState, app
from memora_engine.embeddings import resolve_model_dir
from memora_engine.llm import as_backend_llm, llm_from_environment
from memora_engine.settings import STARTUP_DIR

_ENV = (
    "MEMORA_LLM_MODEL",
    "MEMORA_SEARCH_MODEL",
    "MEMORA_PATH",
    "MEMORA_CONFIG",
    "MEMORA_ORG_ID",
    "MEMORA_USER_ID",
    "MEMORA_AGENT_ID",
    "OPENAI_API_KEY",
    "GROQ_API_KEY",
    "TOGETHER_API_KEY",
    "AZURE_OPENAI_API_KEY",
)
UNKNOWN_MEMORY = "00000000-0000-4000-8000-000000000000"
LONG = (
    "Jake mentioned that his favourite hiking trail is the long ridge path above the lake, "
    "which he walks every second Sunday with his sister"
)


@pytest.fixture(autouse=True)
def _offline_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in _ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def invoke(args: list[str], **kwargs: object) -> Result:
    return CliRunner().invoke(app, args, obj=CliState(), **kwargs)  # type: ignore[arg-type]


def ok(args: list[str]) -> Result:
    result = invoke(args)
    assert result.exit_code == 0, result.output
    return result


def one_error_line(result: Result, *needles: str) -> None:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, result.output
    for needle in needles:
        assert needle in result.output, result.output


@pytest.fixture
def store(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A store with one user, two long memories (raw mode) and one interaction."""
    path = tmp_path / "store"
    with SyncMemora.embedded(path) as memora:
        org = memora.graph.create_organization("Acme")
        user = memora.graph.create_user(org.org_id, "Jake")
        agent = memora.graph.create_agent(org.org_id, "Helper")
        interaction_id, _ = memora.save_or_update_interaction_and_memories(
            org.org_id,
            user.user_id,
            agent.agent_id,
            [{"role": "user", "content": LONG}, {"role": "assistant", "content": LONG + " too"}],
            infer=False,
        )
    ids = {
        "org": org.org_id,
        "user": user.user_id,
        "agent": agent.agent_id,
        "interaction": interaction_id,
    }
    return path, ids


def scope(path: Path, ids: dict[str, str]) -> list[str]:
    return ["--path", str(path), "--org", ids["org"], "--user", ids["user"]]


# ---------------------------------------------------------------------- bug 1
async def test_bug1_a_provider_without_its_key_is_a_configuration_error(tmp_path: Path) -> None:
    """Before: a raw openai.OpenAIError traceback (also the README's first Python example)."""
    for model, variable in (
        ("openai:gpt-4o-mini", "OPENAI_API_KEY"),
        ("groq:llama-3.1-8b-instant", "GROQ_API_KEY"),
    ):
        with pytest.raises(ConfigurationError, match=variable):
            as_backend_llm(model)
        with pytest.raises(ConfigurationError, match=variable):
            llm_from_environment({"MEMORA_LLM_MODEL": model})
    with pytest.raises(ConfigurationError, match="OPENAI_API_KEY"):
        await Memora.embedded(tmp_path / "m", extraction_model="openai:gpt-4o-mini")


def test_bug1_cli_prints_one_error_line_and_doctor_a_fail_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = str(tmp_path / "data")
    model = ["--model", "openai:gpt-4o-mini"]
    one_error_line(invoke(["demo", "--path", data, *model]), "OPENAI_API_KEY")
    assert not Path(data).exists()  # nothing was created before the model was checked
    result = invoke(["doctor", "--path", data, *model, "--json"])
    assert result.exit_code == 1
    checks = {c["name"]: c for c in json.loads(result.stdout)["checks"]}
    assert checks["LLM"]["status"] == "FAIL"
    assert "OPENAI_API_KEY" in checks["LLM"]["detail"]
    conversation = tmp_path / "chat.jsonl"
    conversation.write_text(
        json.dumps({"messages": [{"role": "user", "content": "hi"}]}) + "\n", encoding="utf-8"
    )
    ok(["orgs", "create", "Acme", "--id", "acme", "--path", data])
    ok(["users", "create", "Jake", "--id", "jake", "--org", "acme", "--path", data])
    ok(["agents", "create", "Bot", "--id", "bot", "--org", "acme", "--path", data])
    ids = ["--org", "acme", "--user", "jake", "--agent", "bot", "--path", data]
    one_error_line(invoke(["import", str(conversation), *ids, *model]), "OPENAI_API_KEY")
    one_error_line(invoke(["chat", *ids, *model], input="hi\n"), "OPENAI_API_KEY")
    monkeypatch.setenv("MEMORA_LLM_MODEL", "groq:llama-3.1-8b-instant")
    one_error_line(invoke(["demo", "--path", data]), "GROQ_API_KEY")


def test_demo_with_a_model_that_cannot_be_built_is_an_error(tmp_path: Path) -> None:
    """#13 CLI: before, `demo --model nosuchprovider:foo` warned and ran in raw mode, exit 0."""
    data = tmp_path / "data"
    one_error_line(invoke(["demo", "--path", str(data), "--model", "nosuchprovider:foo"]), "foo")
    assert not data.exists()


# ---------------------------------------------------------------------- bug 2
def test_bug2_a_relative_model_folder_survives_a_change_of_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The README's relative MEMORA_EMBEDDING_MODEL_DIR, then a chdir (as the tests do)."""
    absolute = Path(os.environ["MEMORA_EMBEDDING_MODEL_DIR"]).resolve()
    relative = os.path.relpath(absolute, STARTUP_DIR)
    assert not Path(relative).is_absolute()
    monkeypatch.setenv("MEMORA_EMBEDDING_MODEL_DIR", relative)
    assert Path.cwd() == tmp_path != STARTUP_DIR
    assert resolve_model_dir() == STARTUP_DIR / relative
    data = str(tmp_path / "data")
    ok(["orgs", "create", "Acme", "--id", "acme", "--path", data])
    result = ok(["doctor", "--path", data, "--json"])
    checks = {c["name"]: c for c in json.loads(result.stdout)["checks"]}
    assert checks["embedding model"]["status"] == "ok", checks


# ---------------------------------------------------------------------- bug 3
def test_bug3_tables_never_crop_ids(store: tuple[Path, dict[str, str]]) -> None:
    """CliRunner output is piped (not a terminal): rich lays tables out in 80 columns."""
    path, ids = store
    listed = json.loads(ok(["memories", "list", *scope(path, ids), "--json"]).stdout)
    memory_ids = [m["memory_id"] for m in listed]
    assert len(memory_ids) == 2
    for args in (
        ["memories", "list", *scope(path, ids)],
        ["memories", "list", "--history", *scope(path, ids)],
        ["search", "hiking trail", *scope(path, ids)],
    ):
        out = ok(args).stdout
        assert max(len(line) for line in out.splitlines()) > 0
        for memory_id in memory_ids:
            assert memory_id in out, (args, out)
    assert ids["interaction"] in ok(["interactions", "list", *scope(path, ids)]).stdout
    assert ids["org"] in ok(["orgs", "list", "--path", str(path)]).stdout
    agents = ok(["agents", "list", "--org", ids["org"], "--path", str(path)]).stdout
    assert ids["agent"] in agents


# ---------------------------------------------------------------------- bug 4
def test_bug4_deleting_what_does_not_exist_says_not_found(
    store: tuple[Path, dict[str, str]],
) -> None:
    path, ids = store
    unknown_memory = "00000000-0000-4000-8000-000000000000"
    where = scope(path, ids)
    for args in (
        ["memories", "delete", unknown_memory, *where, "--yes"],
        ["interactions", "delete", "nosuchinteraction", *where, "--yes"],
        ["users", "delete", "nosuchuser", "--org", ids["org"], "--path", str(path), "--yes"],
        ["agents", "delete", "nosuchagent", "--org", ids["org"], "--path", str(path), "--yes"],
        ["orgs", "delete", "nosuchorg", "--path", str(path), "--yes"],
    ):
        result = invoke(args)
        assert result.exit_code == 1, (args, result.output)
        assert "not found" in result.output, (args, result.output)
        assert "Deleted" not in result.output
    ok(["interactions", "delete", ids["interaction"], *where, "--yes"])


# ---------------------------------------------------------------------- bug 5
def test_bug5_embedded_on_a_file_raises_a_memora_error(tmp_path: Path) -> None:
    """Before: a bare FileExistsError."""
    a_file = tmp_path / "a-file"
    a_file.write_text("not a store", encoding="utf-8")
    with pytest.raises(MemoraError, match="is a file"):
        SyncMemora.embedded(a_file)
    assert a_file.read_text(encoding="utf-8") == "not a store"


# ---------------------------------------------------------------------- bug 6
def test_bug6_read_only_commands_do_not_create_a_store(tmp_path: Path) -> None:
    typo = tmp_path / "typo"
    for args in (
        ["orgs", "list"],
        ["users", "list", "--org", "o"],
        ["memories", "list", "--org", "o", "--user", "u"],
        ["search", "anything", "--org", "o", "--user", "u"],
        ["export"],
        ["memories", "delete", UNKNOWN_MEMORY, "--org", "o", "--user", "u", "--yes"],
    ):
        result = invoke([*args, "--path", str(typo)])
        assert result.exit_code == 1, (args, result.output)
        assert "No Memora store at" in result.output, (args, result.output)
        assert not typo.exists(), args
    result = invoke(["doctor", "--path", str(typo), "--json"])
    checks = {c["name"]: c for c in json.loads(result.stdout)["checks"]}
    assert checks["data directory"]["status"] == "warn"
    assert "no store yet" in checks["data directory"]["detail"]
    assert not typo.exists()
    ok(["orgs", "create", "Acme", "--path", str(typo)])  # a writing command creates it
    assert typo.is_dir()


# ---------------------------------------------------------------------- CLI section
def test_delete_all_memories_of_one_user(store: tuple[Path, dict[str, str]]) -> None:
    path, ids = store
    where = scope(path, ids)
    aborted = invoke(["memories", "delete-all", *where], input="n\n")
    assert aborted.exit_code == 1
    assert "Delete every memory of user" in aborted.output
    assert len(json.loads(ok(["memories", "list", *where, "--json"]).stdout)) == 2
    result = invoke(["memories", "delete-all", *where], input="y\n")
    assert result.exit_code == 0, result.output
    assert "Deleted 2 memories" in result.output
    assert json.loads(ok(["memories", "list", *where, "--json"]).stdout) == []
    [interaction] = json.loads(ok(["interactions", "list", *where, "--json"]).stdout)
    assert interaction["interaction_id"] == ids["interaction"]  # interactions stay
    again = ok(["memories", "delete-all", *where, "--yes"])
    assert "Deleted 0 memories" in again.output
    missing = invoke(
        ["memories", "delete-all", "--path", str(path), "--org", ids["org"], "--user", "x", "--yes"]
    )
    assert missing.exit_code == 1
    assert "does not exist" in missing.output


_IMPORT_SCRIPT = """
import sys
from memora_engine.cli import CliState, main
from memora_engine.testing.scripted import ScriptedChatModel

model = ScriptedChatModel(
    responder=lambda messages: '{"memories_first_pass": []}', latency_s=float(sys.argv[1])
)
main(sys.argv[2:], obj=CliState(llm=model))
"""


def test_ctrl_c_during_import_says_the_same_command_resumes(tmp_path: Path) -> None:
    """#13 CLI: a real SIGINT (Ctrl-C) during `memora import` explains that running the same
    command again resumes; it then does."""
    import signal
    import subprocess
    import sys
    import time

    data = tmp_path / "data"
    ok(["orgs", "create", "Acme", "--id", "acme", "--path", str(data)])
    ok(["users", "create", "Jake", "--id", "jake", "--org", "acme", "--path", str(data)])
    ok(["agents", "create", "Bot", "--id", "bot", "--org", "acme", "--path", str(data)])
    file = tmp_path / "chats.jsonl"
    file.write_text(
        "".join(
            json.dumps({"messages": [{"role": "user", "content": f"Fact number {n}."}]}) + "\n"
            for n in range(3)
        ),
        encoding="utf-8",
    )
    args = ["import", str(file), "--org", "acme", "--user", "jake", "--agent", "bot"]
    args += ["--path", str(data), "--json"]
    process = subprocess.Popen(
        [sys.executable, "-c", _IMPORT_SCRIPT, "3", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    state = data / "imports"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        logs = list(state.glob("*.jsonl")) if state.is_dir() else []
        if logs and logs[0].read_text(encoding="utf-8").strip():
            break  # the first conversation is saved; the second is waiting on the model
        time.sleep(0.1)
    assert process.poll() is None, process.communicate()
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "run the same command again to resume" in stderr
    assert "Traceback" not in stderr
    done = subprocess.run(
        [sys.executable, "-c", _IMPORT_SCRIPT, "0", *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    counts = json.loads(done.stdout)
    assert counts["conversations_already_imported"] >= 1
    assert counts["conversations_already_imported"] + counts["conversations_saved"] == 3
