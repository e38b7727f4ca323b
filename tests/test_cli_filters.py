"""The CLI's metadata and filters (issue #14): ``--filter``, ``--filter-json``, ``--since``,
``--until``, ``--json``, ``memories add`` / ``edit`` / ``delete --filter``.

Real embedded stores and the real MiniLM model; facts are stored verbatim (no model), except the
``--infer`` test, whose comparison model is scripted.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from memora_engine import SyncMemora
from memora_engine.cli import CliState, app
from memora_engine.cli.filter_options import build_filter, build_metadata
from memora_engine.errors import InvalidInputError
from memora_engine.testing.scripted import ScriptedChatModel
from tests.integrations.llamaindex_support import LISBON, FactScript

_ENV = ("MEMORA_LLM_MODEL", "MEMORA_PATH", "MEMORA_CONFIG", "MEMORA_ORG_ID", "MEMORA_USER_ID")
_ENV += ("MEMORA_AGENT_ID", "OPENAI_API_KEY", "GROQ_API_KEY", "TOGETHER_API_KEY")


@pytest.fixture(autouse=True)
def _offline_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in (*_ENV, "AZURE_OPENAI_API_KEY", "MEMORA_SEARCH_MODEL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def day(n: int) -> datetime:
    return datetime(2024, 5, n, 12, 0, tzinfo=timezone.utc)


# ------------------------------------------------------------------------------------ pure
def test_filter_flags_become_one_memora_filter() -> None:
    assert build_filter() is None
    assert build_filter(["topic=food"]) == {"topic": "food"}
    assert build_filter(["n=3", "pinned=true", 'code="007"', "x=a=b"]) == {
        "$and": [{"n": 3}, {"pinned": True}, {"code": "007"}, {"x": "a=b"}]
    }
    assert build_filter(["tag=a", "tag=b"]) == {"$and": [{"tag": "a"}, {"tag": "b"}]}
    assert build_filter(['score={"$gte": 2.5}']) == {"score": {"$gte": 2.5}}
    assert build_filter([], '{"$or": [{"a": 1}, {"b": 2}]}') == {"$or": [{"a": 1}, {"b": 2}]}
    assert build_filter([], "{}") is None


def test_since_and_until_bound_obtained_at() -> None:
    assert build_filter(since="2024-05-02", until="2024-05-03") == {
        "obtained_at": {"$gte": "2024-05-02T00:00:00+00:00", "$lt": "2024-05-04T00:00:00+00:00"}
    }
    assert build_filter(since="2024-05-02T09:30", until="2024-05-03T10:00:00+02:00") == {
        "obtained_at": {"$gte": "2024-05-02T09:30:00+00:00", "$lte": "2024-05-03T10:00:00+02:00"}
    }
    assert build_filter(["a=1"], until="2024-05-03T00:00Z") == {
        "$and": [{"a": 1}, {"obtained_at": {"$lte": "2024-05-03T00:00:00+00:00"}}]
    }


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({"pairs": ["topic"]}, "--filter takes key=value"),
        ({"pairs": ["=x"]}, "--filter takes key=value"),
        ({"pairs": ['x={"$regex": "a"}']}, "$regex"),
        ({"pairs": ["x=[1, 2]"]}, "filter 'x' $eq"),
        ({"pairs": ["agent_id=3"]}, "string id"),
        ({"filter_json": "[1]"}, "JSON object"),
        ({"filter_json": "{nope"}, "not valid JSON"),
        ({"since": "yesterday"}, "--since takes an ISO 8601 time"),
        ({"until": "2024-13-01"}, "--until takes an ISO 8601 time"),
    ],
)
def test_bad_filter_flags_name_the_problem(kwargs: dict[str, Any], named: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        build_filter(**kwargs)
    assert named in str(caught.value)


def test_metadata_flags() -> None:
    assert build_metadata() is None
    assert build_metadata(["n=2", "topic=food"], '{"topic": "x", "tags": ["a"]}') == {
        "topic": "food",
        "tags": ["a"],
        "n": 2,
    }
    with pytest.raises(InvalidInputError, match="reserved"):
        build_metadata(["agent_id=x"])
    with pytest.raises(InvalidInputError, match="--meta takes key=value"):
        build_metadata(["novalue"])


# ------------------------------------------------------------------------------------ CLI
def invoke(args: list[str], obj: CliState | None = None) -> Result:
    return CliRunner().invoke(app, args, obj=obj or CliState())


def ok_json(args: list[str]) -> Any:
    result = invoke([*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def bad_input(result: Result, needle: str) -> None:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert needle in result.output, result.output


@pytest.fixture
def store(tmp_path: Path) -> list[str]:
    """jake of acme, agent helper: four facts on three days, with metadata."""
    path = tmp_path / "store"
    with SyncMemora.embedded(path) as memora:
        memora.create_organization("Acme", org_id="acme")
        memora.create_user("acme", "Jake", user_id="jake")
        memora.create_agent("acme", "Helper", agent_id="helper")
        facts = [
            ("Jake likes spicy ramen", {"topic": "food", "priority": 1}, day(1)),
            ("Jake cooks curry on Fridays", {"topic": "food", "priority": 3}, day(2)),
            ("Jake runs every morning", {"topic": "health", "pinned": True}, day(2)),
            ("Jake has a cat named Miso", {}, day(3)),
        ]
        ids = []
        for text, metadata, when in facts:
            [memory] = memora.add_memories(
                "acme", "jake", "helper", [text], metadata=metadata, current_datetime=when
            )
            ids.append(memory.memory_id)
    return ["--path", str(path), "--org", "acme", "--user", "jake"]


def test_list_and_search_filter_with_json_output(store: list[str]) -> None:
    food = ok_json(["memories", "list", *store, "--filter", "topic=food"])
    assert sorted(m["memory"] for m in food) == [
        "Jake cooks curry on Fridays",
        "Jake likes spicy ramen",
    ]
    assert {json.dumps(m["metadata"], sort_keys=True) for m in food} == {
        '{"priority": 1, "topic": "food"}',
        '{"priority": 3, "topic": "food"}',
    }
    pinned = ok_json(["memories", "list", *store, "--filter", "pinned=true"])
    assert [m["metadata"] for m in pinned] == [{"topic": "health", "pinned": True}]
    day2 = ok_json(["memories", "list", *store, "--since", "2024-05-02", "--until", "2024-05-02"])
    assert sorted(m["memory"] for m in day2) == [
        "Jake cooks curry on Fridays",
        "Jake runs every morning",
    ]
    either = ok_json(
        [
            "memories",
            "list",
            *store,
            "--filter-json",
            '{"$or": [{"pinned": true}, {"priority": 1}]}',
        ]
    )
    assert len(either) == 2

    found = ok_json(
        ["search", "what food does Jake cook", *store, "--filter", 'priority={"$gte": 2}']
    )
    assert [m["memory"] for m in found] == ["Jake cooks curry on Fridays"]
    assert found[0]["metadata"] == {"topic": "food", "priority": 3}
    assert isinstance(found[0]["score"], float)
    one = ok_json(["search", "Jake", *store, "--filter", "topic=food", "--limit", "1"])
    assert len(one) == 1
    assert one[0]["metadata"]["topic"] == "food"
    org = ok_json(["search", "pets", *store, "--scope", "organization", "--until", "2024-05-02"])
    assert "Jake has a cat named Miso" not in [m["memory"] for m in org[0]["memories"]]

    table = invoke(["memories", "list", *store, "--filter", "topic=health"])
    assert table.exit_code == 0, table.output
    assert "pinned" in table.output


def test_bad_filters_exit_2_and_delete_nothing(store: list[str]) -> None:
    bad_input(invoke(["memories", "list", *store, "--filter", "topic"]), "--filter takes key=")
    bad_input(invoke(["search", "x", *store, "--filter", 'a={"$like": 1}']), "$like")
    bad_input(
        invoke(["memories", "delete", *store, "--yes", "--filter-json", '{"$nor": []}']), "$nor"
    )
    bad_input(invoke(["memories", "delete", *store, "--yes", "--since", "soon"]), "--since")
    both = invoke(["memories", "delete", "some-id", *store, "--yes", "--filter", "a=1"])
    assert both.exit_code == 2, both.output
    assert len(ok_json(["memories", "list", *store])) == 4


def test_add_edit_and_delete_by_filter(store: list[str]) -> None:
    added = ok_json(
        [
            *["memories", "add", "Jake is allergic to peanuts", "Jake hates olives", *store],
            *["--agent", "helper", "--meta", "topic=food", "--metadata", '{"source": "cli"}'],
        ]
    )
    assert [m["memory"] for m in added] == ["Jake is allergic to peanuts", "Jake hates olives"]
    assert all(m["metadata"] == {"source": "cli", "topic": "food"} for m in added)
    before = len(ok_json(["memories", "list", *store]))
    bad_input(
        invoke(["memories", "add", "x", *store, "--agent", "helper", "--meta", "agent_id=z"]),
        "reserved",
    )
    bad_input(invoke(["memories", "add", "   ", *store, "--agent", "helper"]), "non-blank")
    assert len(ok_json(["memories", "list", *store])) == before

    olives = added[1]["memory_id"]
    relabelled = ok_json(["memories", "edit", olives, *store, "--meta", "pinned=true"])
    assert relabelled["memory_id"] == olives
    assert relabelled["metadata"] == {"pinned": True}
    corrected = ok_json(["memories", "edit", olives, *store, "--text", "Jake now likes olives"])
    assert corrected["memory_id"] != olives
    assert corrected["metadata"] == {"pinned": True}  # inherited by the new version
    history = ok_json(["memories", "history", corrected["memory_id"], *store])
    assert [m["memory_id"] for m in history] == [corrected["memory_id"], olives]
    cleared = ok_json(["memories", "edit", corrected["memory_id"], *store, "--clear-metadata"])
    assert cleared["metadata"] == {}
    bad_input(invoke(["memories", "edit", olives, *store]), "Nothing to edit")

    gone = ok_json(["memories", "delete", *store, "--yes", "--filter", "topic=food"])
    assert gone == {"deleted": 3}
    left = ok_json(["memories", "list", *store, "--history"])
    assert all(m["metadata"].get("topic") != "food" for m in left)
    text = invoke(["memories", "delete", *store, "--yes", "--filter", "topic=health"])
    assert text.exit_code == 0, text.output
    assert "Deleted 1 memories of user jake matching the filter." in text.output


def test_add_with_infer_makes_a_contradicting_fact_the_new_version(store: list[str]) -> None:
    script = FactScript(LISBON)
    [porto] = ok_json(
        ["memories", "add", "Jake lives in Porto", *store, "--agent", "helper", "--meta", "k=1"]
    )
    result = invoke(
        [
            "memories",
            "add",
            "Jake lives in Lisbon",
            *store,
            "--agent",
            "helper",
            "--infer",
            "--json",
        ],
        obj=CliState(llm=script.model()),
    )
    assert result.exit_code == 0, result.output
    [lisbon] = json.loads(result.output)
    assert script.counts["comparison"] == 1
    assert lisbon["metadata"] == {"k": 1}  # a new version inherits the replaced one's metadata
    history = ok_json(["memories", "history", lisbon["memory_id"], *store])
    assert [m["memory_id"] for m in history] == [lisbon["memory_id"], porto["memory_id"]]
    no_model = invoke(["memories", "add", "x y", *store, "--agent", "helper", "--infer"])
    assert no_model.exit_code == 1, no_model.output
    assert "--infer needs a chat model" in no_model.output


def test_chat_recalls_only_matching_memories_and_labels_what_it_saves(store: list[str]) -> None:
    model = ScriptedChatModel(responder=lambda messages: "Enjoy!")
    chat = [*store, "--agent", "helper", "--raw", "--filter", "topic=health"]
    result = CliRunner().invoke(
        app,
        ["chat", *chat, "--meta", "channel=chat", "--show-recall"],
        obj=CliState(llm=model),
        input="What food should Jake cook tonight?\n/quit\n",
    )
    assert result.exit_code == 0, result.output
    prompt = str(model.calls[-1][-1].content)
    assert "Jake runs every morning" in prompt  # the only health memory
    assert "curry" not in prompt
    assert "ramen" not in prompt
    saved = ok_json(["memories", "list", *store, "--filter", "channel=chat"])
    assert sorted(m["memory"] for m in saved) == ["Enjoy!", "What food should Jake cook tonight?"]
    bad = CliRunner().invoke(
        app, ["chat", *store, "--filter", "x"], obj=CliState(llm=model), input="/quit\n"
    )
    bad_input(bad, "--filter takes key=value")
