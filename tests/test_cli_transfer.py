"""`memora import` / `memora export` through the real CLI on temporary embedded stores."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from memora_engine.cli import CliState, app
from memora_engine.schema.storage import ContraryMemoryToStore, MemoriesAndInteraction
from memora_engine.sync_facade import SyncMemora

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
CEST = timezone(timedelta(hours=2))


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


def at(hour: int) -> datetime:
    return datetime(2024, 5, 1, hour, 0, 0, 123456, tzinfo=CEST)


def user_msg(text: str) -> dict[str, str]:
    return {"role": "user", "content": text}


def bot_msg(text: str) -> dict[str, str]:
    return {"role": "assistant", "content": text}


def build_source(path: Path) -> None:
    """Two orgs; history links across interactions (one pointing to a later-created one);
    truncated sources; a change of agent; preset ids; times with a +02:00 offset (entity
    creation times included); memory text with user / agent placeholders."""
    with SyncMemora.embedded(path) as memora:
        graph = memora.graph
        graph.create_organization("Acme", org_id="acme")
        graph.create_user("acme", "Jake", user_id="jake")
        graph.create_user("acme", "Mia", user_id="mia")
        graph.create_agent("acme", "Helper", agent_id="helper")
        graph.create_agent("acme", "Jenny", "jake", agent_id="jenny")
        graph.create_organization("Beta", org_id="beta", created_at=at(1))
        graph.create_user("beta", "Bo", user_id="bo", created_at=at(2))
        graph.create_agent("beta", "B-bot", agent_id="bbot", created_at=at(3))
        first = [
            user_msg("I'm allergic to peanuts."),
            bot_msg("Noted, no peanuts for you."),
            user_msg("My wife Sarah is due on December 15th."),
            bot_msg("Congratulations!"),
        ]
        i1, _ = memora.save_or_update_interaction_and_memories(
            "acme", "jake", "jenny", first, current_datetime=at(9), infer=False
        )
        due = next(
            m for m in graph.get_interaction("acme", "jake", i1).memories if "15th" in m.memory
        )
        i2, _ = graph.save_interaction_with_memories(
            "acme",
            "helper",
            "jake",
            MemoriesAndInteraction(
                interaction=[user_msg("Sarah's due date moved to the 20th.")],
                interaction_date=at(10),
                contrary_memories=[
                    ContraryMemoryToStore(
                        memory="user_jake's wife is due on December 20th",
                        source_msg_block_pos=[0],
                        existing_contrary_memory_id=due.memory_id,
                    )
                ],
            ),
        )
        changed = [*first[:2], user_msg("Actually, I moved to Berlin."), bot_msg("Berlin, nice!")]
        memora.save_or_update_interaction_and_memories(
            "acme",
            "jake",
            "helper",
            changed,
            interaction_id=i1,
            current_datetime=at(11),
            infer=False,
        )
        [moved] = graph.get_interaction("acme", "jake", i2).memories
        graph.update_interaction_and_memories(
            "acme",
            "jenny",
            "jake",
            i1,
            MemoriesAndInteraction(
                interaction=changed,
                interaction_date=at(12),
                contrary_memories=[
                    ContraryMemoryToStore(
                        memory="user_jake told agent_helper his daughter was born on December 18th",
                        existing_contrary_memory_id=moved.memory_id,
                        agent_id="helper",
                    )
                ],
            ),
        )
        memora.save_or_update_interaction_and_memories(
            "acme",
            "mia",
            "helper",
            [user_msg("I play the cello.")],
            current_datetime=at(8),
            infer=False,
        )
        memora.save_or_update_interaction_and_memories(
            "beta",
            "bo",
            "bbot",
            [user_msg("I like green tea.")],
            current_datetime=datetime(2023, 1, 1, tzinfo=timezone.utc),
            infer=False,
        )


def comparable(path: Path) -> list[dict[str, Any]]:
    """Export records minus the one thing that differs between two exports: the export time."""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        if record["type"] == "memora-export":
            record.pop("exported_at")
        out.append(record)
    return out


def search(path: Path, org: str, user: str, query: str) -> list[tuple[str, str]]:
    """``(memory_id, text)`` of each hit, as `memora search --json` prints them."""
    result = ok(["search", query, "--path", str(path), "--org", org, "--user", user, "--json"])
    return [(hit["memory_id"], hit["memory"]) for hit in json.loads(result.stdout)]


def search_ids(path: Path, org: str, user: str, query: str) -> list[str]:
    return [memory_id for memory_id, _ in search(path, org, user, query)]


def test_export_import_round_trip_is_exact(tmp_path: Path) -> None:
    """If this fails, check transfer.export_records and importer.Importer (ids, times, history)."""
    source, target = tmp_path / "source", tmp_path / "target"
    build_source(source)
    first, second = tmp_path / "first.jsonl", tmp_path / "second.jsonl"
    ok(["export", "--path", str(source), "-o", str(first)])
    records = [json.loads(line) for line in first.read_text(encoding="utf-8").splitlines()]
    interactions = [r for r in records if r["type"] == "interaction"]
    memories = [m for r in interactions for m in r["memories"]]
    assert len(interactions) == 4
    assert sum(1 for m in memories if m["supersedes"]) == 2
    assert any(m["sources"] == [] for m in memories)  # truncated sources are kept as such
    jake_first = next(r for r in interactions if r["messages"][0]["content"].startswith("I'm"))
    assert jake_first["agent_id"] == "jenny"
    assert jake_first["created_at"] == "2024-05-01T09:00:00.123456+02:00"
    assert jake_first["updated_at"] == "2024-05-01T12:00:00.123456+02:00"
    # Memory text is exported as stored (placeholders), entities with their creation times.
    texts = {m["memory"] for m in memories}
    assert "user_jake's wife is due on December 20th" in texts
    assert "user_jake told agent_helper his daughter was born on December 18th" in texts
    assert not any("Jake's wife" in t for t in texts)
    beta = next(r for r in records if r["type"] == "organization" and r["org_id"] == "beta")
    assert beta["created_at"] == "2024-05-01T01:00:00.123456+02:00"

    result = ok(["import", str(first), "--path", str(target), "--json"])
    counts = json.loads(result.stdout)
    assert counts["organizations_created"] == 2
    assert counts["interactions_restored"] == 4
    assert counts["memories_restored"] == len(memories)
    ok(["export", "--path", str(target), "-o", str(second)])
    assert comparable(second) == comparable(first)  # everything, entity creation times included
    for query in ("When is the baby due?", "allergy"):
        assert search(target, "acme", "jake", query) == search(source, "acme", "jake", query)

    # Running the same import again is a no-op (this is also how an interrupted run resumes).
    again = json.loads(ok(["import", str(first), "--path", str(target), "--json"]).stdout)
    assert again["interactions_present"] == 4
    assert again["interactions_restored"] == again["memories_restored"] == 0
    assert again["organizations_created"] == 0
    ok(["export", "--path", str(target), "-o", str(second)])
    assert comparable(second) == comparable(first)

    # The placeholders survived the trip: renames after the import change what is recalled.
    baby = "When is the baby due?"
    born = "Jake told Helper his daughter was born on December 18th"
    assert born in {text for _, text in search(target, "acme", "jake", baby)}
    ok(["users", "rename", "jake", "Jacob", "--path", str(target), "--org", "acme"])
    ok(["agents", "rename", "helper", "Assistant", "--path", str(target), "--org", "acme"])
    renamed = {text for _, text in search(target, "acme", "jake", baby)}
    assert "Jacob told Assistant his daughter was born on December 18th" in renamed
    assert born not in renamed
    assert born in {text for _, text in search(source, "acme", "jake", baby)}
    third = tmp_path / "third.jsonl"
    ok(["export", "--path", str(target), "-o", str(third)])
    renamed_names = {
        r.get("user_name") or r.get("agent_label")
        for r in comparable(third)
        if r["type"] in ("user", "agent")
    }
    assert {"Jacob", "Assistant"} <= renamed_names
    assert [r for r in comparable(third) if r["type"] == "interaction"] == [
        r for r in comparable(first) if r["type"] == "interaction"
    ]  # stored text unchanged by the renames


def test_user_export_and_resume_after_a_partial_import(tmp_path: Path) -> None:
    """If this fails, check export scoping (--org/--user) and that imports skip what exists."""
    source, target = tmp_path / "source", tmp_path / "target"
    build_source(source)
    jake = tmp_path / "jake.jsonl"
    ok(["export", "--path", str(source), "--org", "acme", "--user", "jake", "-o", str(jake)])
    lines = jake.read_text(encoding="utf-8").splitlines()
    kinds = [json.loads(line)["type"] for line in lines]
    assert kinds.count("user") == 1
    assert kinds.count("interaction") == 2
    records = [json.loads(line) for line in lines[1:]]
    assert {r["org_id"] for r in records} == {"acme"}  # tenant isolation of export
    assert {r["user_id"] for r in records if r["type"] in ("user", "interaction")} == {"jake"}
    partial = tmp_path / "partial.jsonl"
    partial.write_text("\n".join(lines[: kinds.index("interaction")]) + "\n", encoding="utf-8")
    ok(["import", str(partial), "--path", str(target)])
    resumed = json.loads(ok(["import", str(jake), "--path", str(target), "--json"]).stdout)
    assert resumed["users_present"] == 1
    assert resumed["interactions_restored"] == 2
    back = tmp_path / "back.jsonl"
    ok(["export", "--path", str(target), "--org", "acme", "--user", "jake", "-o", str(back)])
    assert comparable(back) == comparable(jake)


def _conversations(path: Path) -> None:
    records = [
        {"type": "organization", "org_id": "acme", "org_name": "Acme"},
        {"type": "user", "org_id": "acme", "user_id": "jake", "user_name": "Jake"},
        {"type": "agent", "org_id": "acme", "agent_id": "bot", "agent_label": "Bot"},
        {
            "messages": [user_msg("I love hiking."), bot_msg("Where do you hike?")],
            "created_at": "2024-03-01T10:00:00",
        },
        {"messages": [user_msg("In the Alps, mostly.")], "created_at": "2024-03-02T10:00:00Z"},
        {"messages": [user_msg("My sister is called Anna."), bot_msg("Nice name.")]},
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")


def test_conversation_import_is_resumable(tmp_path: Path) -> None:
    """If this fails, check importer._conversations (state file, adoption after a crash)."""
    data, file = tmp_path / "data", tmp_path / "conversations.jsonl"
    _conversations(file)
    args = ["import", str(file), "--path", str(data), "--user", "jake", "--agent", "bot"]
    result = ok([*args, "--org", "acme"])
    assert "Importing" in result.stderr or "conversations saved" in result.stdout
    listed = ok(
        ["interactions", "list", "--path", str(data), "--org", "acme", "--user", "jake", "--json"]
    )
    interactions = json.loads(listed.stdout)
    assert len(interactions) == 3
    assert sum(len(i["memories"]) for i in interactions) == 5  # raw mode: one per message
    assert "2024-03-01T10:00:00Z" in {i["created_at"] for i in interactions}  # naive = UTC

    again = json.loads(ok([*args, "--org", "acme", "--json"]).stdout)
    assert again["conversations_already_imported"] == 3
    assert again["conversations_saved"] == 0
    # A crash between the last save and its log line: the save is adopted, not repeated.
    [state] = (data / "imports").glob("*.jsonl")
    state.write_text("".join(state.read_text().splitlines(keepends=True)[:-1]))
    adopted = json.loads(ok([*args, "--org", "acme", "--json"]).stdout)
    assert adopted["conversations_already_imported"] == 3
    assert adopted["conversations_saved"] == 0
    listed = ok(
        ["interactions", "list", "--path", str(data), "--org", "acme", "--user", "jake", "--json"]
    )
    assert len(json.loads(listed.stdout)) == 3


def test_locomo_import(tmp_path: Path) -> None:
    """If this fails, check locomo.locomo_records (speakers, dates, captions, sessions)."""
    sample = {
        "sample_id": "conv-x",
        "conversation": {
            "speaker_a": "Caroline",
            "speaker_b": "Melanie",
            "session_1_date_time": "1:56 pm on 8 May, 2023",
            "session_1": [
                {"speaker": "Caroline", "dia_id": "D1:1", "text": "I went to a support group."},
                {
                    "speaker": "Melanie",
                    "dia_id": "D1:2",
                    "text": "Look at this!",
                    "blip_caption": "a photo of a dog",
                },
            ],
            "session_2_date_time": "10:37 am on 27 June, 2023",
            "session_2": [{"speaker": "Melanie", "dia_id": "D2:1", "text": "I painted a lake."}],
            "session_3_date_time": "9:00 am on 1 July, 2023",
        },
        "qa": [],
    }
    file = tmp_path / "locomo.json"
    file.write_text(json.dumps([sample]), encoding="utf-8")
    data = tmp_path / "data"
    counts = json.loads(ok(["import", str(file), "--path", str(data), "--json"]).stdout)
    assert counts["conversations_saved"] == 2
    assert counts["memories_extracted"] == 3
    ids = ["--path", str(data), "--org", "locomo", "--user", "conv-x"]
    user = json.loads(
        ok(["users", "show", "conv-x", "--path", str(data), "--org", "locomo", "--json"]).stdout
    )
    assert user["user_name"] == "Caroline"
    interactions = json.loads(ok(["interactions", "list", *ids, "--json"]).stdout)
    by_time = {i["created_at"]: i for i in interactions}
    assert set(by_time) == {"2023-05-08T13:56:00Z", "2023-06-27T10:37:00Z"}
    first = by_time["2023-05-08T13:56:00Z"]["messages"]
    assert first[1] == {
        "role": "assistant",
        "content": "Look at this! [shared a photo of a dog]",
        "msg_position": 1,
    }


def _assert_nothing_imported(data: Path) -> None:
    if not data.exists():  # a rejected file does not even create the store
        result = invoke(["orgs", "list", "--path", str(data), "--json"])
        assert result.exit_code == 1
        assert "No Memora store at" in result.output
        assert not data.exists()
        return
    result = ok(["orgs", "list", "--path", str(data), "--json"])
    assert json.loads(result.stdout) == []


@pytest.mark.parametrize(
    ("records", "expected"),
    [
        pytest.param(
            [
                '{"type": "organization", "org_id": "acme", "org_name": "Acme"}',
                '{"type": "user", "org_id": "acme", "user_id": "jake", "user_name": "Jake"}',
                '{"messages": [{"role": "user", "content": "hi"}], "org_id": "acme",',
            ],
            "line 3: not valid JSON",
            id="broken-json",
        ),
        pytest.param(
            [
                '{"type": "organization", "org_id": "acme", "org_name": "Acme"}',
                '{"type": "agent", "org_id": "acme", "agent_id": "bot", "agent_label": "Bot"}',
                '{"org_id": "acme", "user_id": "ghost", "agent_id": "bot", '
                '"messages": [{"role": "user", "content": "hi"}]}',
            ],
            "user ghost not found",
            id="unknown-user",
        ),
        pytest.param(
            [
                '{"type": "organization", "org_id": "acme", "org_name": "Acme"}',
                '{"type": "user", "org_id": "acme", "user_id": "jake", "user_name": "Jake"}',
                '{"type": "agent", "org_id": "acme", "agent_id": "bot", "agent_label": "Bot"}',
                '{"org_id": "acme", "user_id": "jake", "agent_id": "bot", "interaction_id": "i1", '
                '"messages": [{"role": "user", "content": "hi"}], "memories": ['
                '{"memory_id": "11111111-1111-4111-8111-111111111111", "memory": "a", '
                '"obtained_at": "2024-01-01T00:00:00Z", "sources": [3], '
                '"supersedes": "22222222-2222-4222-8222-222222222222"}, '
                '{"memory_id": "22222222-2222-4222-8222-222222222222", "memory": "b", '
                '"obtained_at": "2024-01-01T00:00:00Z", '
                '"supersedes": "11111111-1111-4111-8111-111111111111"}]}',
            ],
            "outside the 1 messages",
            id="bad-sources-and-cycle",
        ),
        pytest.param(
            [
                '{"type": "organization", "org_id": "acme", "org_name": "Acme"}',
                '{"type": "dragon", "org_id": "acme"}',
                '{"type": "user", "org_id": "acme", "user_id": "bad id", "user_name": "X"}',
            ],
            "unknown record type 'dragon'",
            id="unknown-type-and-bad-id",
        ),
    ],
)
def test_bad_input_imports_nothing(tmp_path: Path, records: list[str], expected: str) -> None:
    """If this fails, check records.parse_records / Importer.check_against_store."""
    file, data = tmp_path / "bad.jsonl", tmp_path / "data"
    file.write_text("\n".join(records) + "\n", encoding="utf-8")
    result = invoke(["import", str(file), "--path", str(data), "--user", "jake"])
    assert result.exit_code == 2, result.output
    assert expected in result.output
    assert "nothing was imported" in result.output
    assert "Traceback" not in result.output
    _assert_nothing_imported(data)


def test_cycle_and_existing_interaction_conflicts(tmp_path: Path) -> None:
    """If this fails, check the history-cycle check and the existing-interaction comparison."""
    data = tmp_path / "data"
    source = tmp_path / "source"
    build_source(source)
    export = tmp_path / "export.jsonl"
    ok(["export", "--path", str(source), "--org", "beta", "-o", str(export)])
    ok(["import", str(export), "--path", str(data)])
    records = [json.loads(line) for line in export.read_text(encoding="utf-8").splitlines()]
    interaction = next(r for r in records if r["type"] == "interaction")
    interaction["messages"][0]["content"] = "I like black coffee."
    changed = tmp_path / "changed.jsonl"
    changed.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    result = invoke(["import", str(changed), "--path", str(data)])
    assert result.exit_code == 2
    assert "already exists with other messages" in result.output

    cyclic = dict(interaction, interaction_id="other")
    first, second = "33333333-3333-4333-8333-333333333333", "44444444-4444-4444-8444-444444444444"
    cyclic["memories"] = [
        {
            "memory_id": first,
            "memory": "x",
            "obtained_at": "2024-01-01T00:00:00Z",
            "supersedes": second,
        },
        {
            "memory_id": second,
            "memory": "y",
            "obtained_at": "2024-01-01T00:00:00Z",
            "supersedes": first,
        },
    ]
    file = tmp_path / "cycle.jsonl"
    file.write_text(json.dumps(cyclic) + "\n", encoding="utf-8")
    result = invoke(["import", str(file), "--path", str(data)])
    assert result.exit_code == 2
    assert "history cycle" in result.output


def test_record_parsing_is_pure_and_reports_every_problem() -> None:
    """If this fails, check records.parse_records / decode_lines / locomo date parsing."""
    from memora_engine.transfer.locomo import parse_locomo_datetime
    from memora_engine.transfer.records import (
        Defaults,
        ImportFileError,
        decode_lines,
        parse_records,
    )

    assert parse_locomo_datetime("10:37 am on 27 June, 2023") == datetime(
        2023, 6, 27, 10, 37, tzinfo=timezone.utc
    )
    with pytest.raises(ValueError, match="does not match"):
        parse_locomo_datetime("yesterday")
    decoded, problems = decode_lines(['{"messages": []}', "", "[1, 2]", "{oops"])
    assert [n for n, _ in decoded] == [1]
    assert problems == [
        "line 3: expected a JSON object, got list",
        "line 4: not valid JSON (Expecting property name enclosed in double quotes at column 2)",
    ]
    chain = [
        {
            "memory_id": f"00000000-0000-4000-8000-{i:012d}",
            "memory": f"v{i}",
            "obtained_at": "2024-01-01T00:00:00Z",
            "supersedes": f"00000000-0000-4000-8000-{i - 1:012d}" if i else None,
        }
        for i in range(3000)
    ]
    record = {"interaction_id": "i", "messages": [], "memories": chain}
    plan = parse_records([(1, record)], Defaults("o", "u", "a"))
    assert plan.memory_count() == 3000  # a long history chain is fine (and checked quickly)
    with pytest.raises(ImportFileError) as caught:
        parse_records(
            [
                (1, {"messages": [{"role": "user", "content": "hi"}]}),
                (2, {"type": "user", "org_id": "o", "user_id": "u"}),
                (
                    3,
                    {
                        "interaction_id": "i",
                        "messages": [],
                        "memories": [
                            {"memory_id": "nope", "memory": "x", "obtained_at": "2024-01-01"}
                        ],
                    },
                ),
            ],
            Defaults(org_id="o"),
        )
    text = str(caught.value)
    # Every problem in one run (#13 bug 8), in line order: not first the records, then the
    # references between them.
    assert "4 problem(s), nothing was imported" in text
    assert caught.value.problems == [
        "line 1: no user_id (put it in the record or pass --user)",
        "line 1: no agent_id (put it in the record or pass --agent)",
        "line 2: user_name: Field required",
        "line 3: memories.0.memory_id: Value error, memory_id 'nope' is not a memory id (uuid).",
    ]
