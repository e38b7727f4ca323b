"""`memora reindex` and `memora doctor` through the real CLI on a temporary embedded store."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from memora_engine.cli import CliState, app

_ENV = (
    "MEMORA_LLM_MODEL",
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
_QUERIES = ("Where does Jake hike?", "sister's name", "peanut allergy")


@pytest.fixture(autouse=True)
def _offline_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in _ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def invoke(args: list[str]) -> Result:
    return CliRunner().invoke(app, args, obj=CliState())


def ok(args: list[str]) -> Result:
    result = invoke(args)
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture
def store(tmp_path: Path) -> Path:
    """An embedded store with two users' conversations, imported in raw mode."""
    lines: list[dict[str, Any]] = [
        {"type": "organization", "org_id": "acme", "org_name": "Acme"},
        {"type": "user", "org_id": "acme", "user_id": "jake", "user_name": "Jake"},
        {"type": "user", "org_id": "acme", "user_id": "mia", "user_name": "Mia"},
        {"type": "agent", "org_id": "acme", "agent_id": "bot", "agent_label": "Bot"},
    ]
    texts = {
        "jake": [
            "I love hiking in the Alps.",
            "My sister is called Anna.",
            "I'm allergic to peanuts.",
            "I work as a nurse in Lyon.",
        ],
        "mia": ["I hike every weekend too.", "I play the cello."],
    }
    for user, messages in texts.items():
        for text in messages:
            lines.append(
                {
                    "org_id": "acme",
                    "user_id": user,
                    "agent_id": "bot",
                    "messages": [{"role": "user", "content": text}],
                }
            )
    file = tmp_path / "data.jsonl"
    file.write_text("".join(json.dumps(r) + "\n" for r in lines), encoding="utf-8")
    data = tmp_path / "data"
    ok(["import", str(file), "--path", str(data)])
    return data


def search(data: Path) -> list[list[tuple[str, float]]]:
    out = []
    for query in _QUERIES:
        result = ok(
            ["search", query, "--path", str(data), "--org", "acme", "--user", "jake", "--json"]
        )
        out.append([(hit["memory_id"], hit["score"]) for hit in json.loads(result.stdout)])
    return out


def doctor(data: Path) -> tuple[int, dict[str, dict[str, str]]]:
    result = invoke(["doctor", "--path", str(data), "--json"])
    report = json.loads(result.stdout)
    return result.exit_code, {check["name"]: check for check in report["checks"]}


def test_reindex_after_wiping_the_vector_store_restores_search(store: Path) -> None:
    """If this fails, check reindex.rebuild_index (graph paging, fresh folder swap)."""
    before = search(store)
    assert all(before)
    assert len(before[0]) == 4

    shutil.rmtree(store / "vectors")
    assert search(store) == [[], [], []]
    code, checks = doctor(store)
    assert code == 1
    assert checks["index"]["status"] == "FAIL"
    assert "reindex" in checks["index"]["fix"]

    result = ok(["reindex", "--path", str(store)])
    assert "Reindexed 6 memories" in result.stdout
    after = search(store)
    assert [[mid for mid, _ in hits] for hits in after] == [
        [mid for mid, _ in hits] for hits in before
    ]
    for hits_after, hits_before in zip(after, before, strict=True):
        for (_, score_after), (_, score_before) in zip(hits_after, hits_before, strict=True):
            assert score_after == pytest.approx(score_before, abs=1e-4)
    assert not (store / "vectors.reindex").exists()
    assert not (store / "vectors.old").exists()
    code, checks = doctor(store)
    assert code == 0, checks
    assert checks["index"]["status"] == "ok"
    assert "6 memories in the graph, 6 indexed" in checks["index"]["detail"]


def test_doctor_reports_what_to_fix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """If this fails, check doctor.run_checks (statuses, fixes, no secrets)."""
    data = tmp_path / "fresh"
    monkeypatch.setenv("MEMORA_QDRANT_API_KEY", "do-not-print-me")
    monkeypatch.setenv("MEMORA_NEO4J_PASSWORD", "nor-me")
    code, checks = doctor(data)
    assert code == 0
    assert checks["data directory"]["status"] == "warn"  # no store yet; doctor creates none
    assert not data.exists()
    ok(["orgs", "create", "Acme", "--path", str(data)])
    code, checks = doctor(data)
    assert code == 0
    assert checks["embedding model"]["status"] == "ok"
    assert "dim 384" in checks["embedding model"]["detail"]
    assert checks["stores"]["status"] == "ok"
    assert "1 organization(s)" in checks["stores"]["detail"]
    assert checks["index"]["status"] == "ok"
    assert checks["LLM"]["status"] == "warn"
    assert "raw mode" in checks["LLM"]["detail"]
    text = invoke(["doctor", "--path", str(data)]).stdout
    assert "do-not-print-me" not in text
    assert "nor-me" not in text
    assert "All essential checks passed" in text

    monkeypatch.setenv("MEMORA_EMBEDDING_MODEL_DIR", str(tmp_path / "missing-model"))
    code, checks = doctor(data)
    assert code == 1
    assert checks["embedding model"]["status"] == "FAIL"
    assert "MEMORA_EMBEDDING_MODEL_DIR" in checks["embedding model"]["fix"]


def test_doctor_says_how_the_model_gets_structured_output(tmp_path: Path) -> None:
    """If this fails, check doctor._check_llm (it reads the wrapper's structured_output_method)."""
    from memora_engine.testing.scripted import ScriptedChatModel

    data = tmp_path / "store"
    ok(["orgs", "create", "Acme", "--path", str(data)])
    result = CliRunner().invoke(
        app,
        ["doctor", "--path", str(data), "--json"],
        obj=CliState(llm=ScriptedChatModel(responses=[])),
    )
    checks = {check["name"]: check for check in json.loads(result.stdout)["checks"]}
    assert checks["LLM"]["status"] == "ok"
    assert "structured output: prompt" in checks["LLM"]["detail"]
