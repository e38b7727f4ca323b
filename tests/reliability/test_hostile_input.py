"""Hostile and bad input through the public API: success or a documented MemoraError, and an
error writes nothing.

Hypothesis (fixed seed, bounded examples) draws hostile values for every argument: huge texts,
blank strings, control characters, NUL, lone surrogates, quotes / backslashes / SQL and Cypher
fragments, wrong types, ``None``, unknown roles, message lists over the limit. A second property
scripts the extraction model with malformed, truncated and out-of-range outputs, including
contradictions of memory ids the model was never shown (another user's).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from langchain_core.messages import BaseMessage

from memora_engine import MemorySearchScope, SyncMemora
from memora_engine.embeddings import DenseEncoder, SparseEncoder
from memora_engine.errors import LLMResponseInvalidError, MemoraError
from memora_engine.limits import (
    MAX_MESSAGE_CHARS,
    MAX_MESSAGES_PER_INTERACTION,
    MAX_QUERIES_PER_SEARCH,
    MAX_QUERY_CHARS,
)
from memora_engine.testing.scripted import ScriptedChatModel

FRAGMENTS = [
    "", " ", "\t\n ", "\x00", "a\x00b", "\ud800", "x\udfffy", "\x1b[31m", "\u202e", "\ufeff",
    "'", '"', "\\", "\\'; DROP TABLE memories; --", "' OR 1=1 --", "MATCH (n) DETACH DELETE n",
    "}) RETURN n //", "$org_id", "{org_id}", "%s", "user_u1", "agent_a1", "null", "😀" * 3,
    "../../etc/passwd", "u1", "org", "a" * 65,
]  # fmt: skip
hostile_text = st.one_of(
    st.sampled_from(FRAGMENTS),
    st.text(max_size=40),
    st.just("y" * (MAX_MESSAGE_CHARS + 1)),
    st.just("q" * (MAX_QUERY_CHARS + 1)),
)
wrong_type = st.sampled_from([None, 0, 1.5, True, b"bytes", [], {}, ("u1",), object()])
hostile_value = st.one_of(hostile_text, wrong_type)
valid_text = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), min_size=1,
                     max_size=40)  # fmt: skip
mostly_valid_text = st.one_of(valid_text, valid_text, hostile_value)
message = st.one_of(
    st.fixed_dictionaries(
        {
            "role": st.one_of(
                st.sampled_from(["user", "assistant", "system", "tool", "Bob 2"]), hostile_value
            ),
            "content": mostly_valid_text,
        }
    ),
    wrong_type,
    st.fixed_dictionaries({"content": st.just("no role")}),
)
messages = st.one_of(
    st.lists(message, max_size=4),
    st.lists(message, max_size=4),
    hostile_value,
    st.just([{"role": "user", "content": "m"}] * (MAX_MESSAGES_PER_INTERACTION + 1)),
)
queries = st.one_of(
    st.lists(mostly_valid_text, min_size=0, max_size=3),
    hostile_value,
    st.just(["q"] * (MAX_QUERIES_PER_SEARCH + 1)),
)


class Script:
    """What the scripted extraction model answers next (set per example)."""

    def __init__(self) -> None:
        self.answer: Callable[[Sequence[BaseMessage]], str] = lambda _m: "{}"


@pytest.fixture(scope="module")
def script() -> Script:
    return Script()


@pytest.fixture(scope="module")
def world(
    tmp_path_factory: pytest.TempPathFactory,
    dense_encoder: DenseEncoder,
    sparse_encoder: SparseEncoder,
    script: Script,
) -> Iterator[tuple[SyncMemora, dict[str, str]]]:
    model = ScriptedChatModel(responder=lambda m: script.answer(m))
    with SyncMemora.embedded(
        tmp_path_factory.mktemp("hostile"), extraction_model=model,
        dense_encoder=dense_encoder, sparse_encoder=sparse_encoder,
    ) as memora:  # fmt: skip
        memora.graph.create_organization("Acme", org_id="org1")
        memora.graph.create_user("org1", "Jake", user_id="u1")
        memora.graph.create_user("org1", "Other", user_id="u2")
        memora.graph.create_agent("org1", "Jarvis", agent_id="a1")
        chat = [{"role": "user", "content": "I like green tea"}]
        iid, _ = memora.save_or_update_interaction_and_memories(
            "org1", "u1", "a1", chat, infer=False
        )
        other, _ = memora.save_or_update_interaction_and_memories(
            "org1", "u2", "a1", [{"role": "user", "content": "I like black tea"}], infer=False
        )
        [theirs] = memora.graph.get_all_user_memories("org1", "u2")
        yield memora, {"iid": iid, "other_iid": other, "other_memory": theirs.memory_id}


def fingerprint(memora: SyncMemora) -> Any:
    """Everything a write could change, for both users (messages, memories, links, points)."""
    state = []
    for user in ("u1", "u2"):
        interactions = memora.graph.get_all_user_interactions("org1", user)
        state.append(sorted((i.interaction_id, str(i.updated_at), i.messages_as_dicts().__repr__(),
                             sorted(m.memory_id for m in i.memories)) for i in interactions))  # fmt: skip
        state.append(sorted(memora.graph.get_user_memory_links("org1", user)))
        state.append(memora.portal.run(memora.aio.vector_db.count("org1", user)))
    return state


def attempt(memora: SyncMemora, call: Callable[[], Any]) -> MemoraError | None:
    """Run ``call``; on a MemoraError check that nothing changed and return it."""
    before = fingerprint(memora)
    try:
        call()
    except MemoraError as exc:
        event(f"error {type(exc).__name__}")
        assert fingerprint(memora) == before, "a failed call wrote something"
        return exc
    event("success")
    return None


@settings(max_examples=120, derandomize=True, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])  # fmt: skip
@given(
    op=st.sampled_from(["save", "update", "search", "batch", "recall", "user", "memory"]),
    spoil=st.sampled_from(["nothing", "org", "user", "agent", "msgs", "qs", "text"]),
    bad=st.fixed_dictionaries(
        {
            "org": hostile_value,
            "user": hostile_value,
            "agent": hostile_value,
            "msgs": messages,
            "qs": queries,
            "text": hostile_value,
        }
    ),
    good_msgs=st.lists(
        st.fixed_dictionaries(
            {
                "role": st.sampled_from(["user", "assistant", "system", "Bob 2"]),
                "content": valid_text,
            }
        ),
        max_size=3,
    ),
    good_text=valid_text,
)
def test_public_api_survives_hostile_input(
    world: tuple[SyncMemora, dict[str, str]], op: str, spoil: str, bad: dict[str, Any],
    good_msgs: list[dict[str, str]], good_text: str,
) -> None:  # fmt: skip
    """If this fails, check the boundary validation of that call (ids.py, schema/storage.py,
    limits.py) and the translation of driver errors into MemoraError."""
    good = {"org": "org1", "user": "u1", "agent": "a1", "msgs": good_msgs, "qs": [good_text],
            "text": good_text}  # fmt: skip
    args = {**good, spoil: bad[spoil]} if spoil != "nothing" else good
    org, user, agent, msgs, qs, text = (args[k] for k in ("org", "user", "agent", "msgs", "qs",
                                                           "text"))  # fmt: skip
    memora, known = world
    calls: dict[str, Callable[[], Any]] = {
        "save": lambda: memora.save_or_update_interaction_and_memories(
            org, user, agent, msgs, infer=False),
        "update": lambda: memora.save_or_update_interaction_and_memories(
            "org1", "u1", agent, msgs,
            interaction_id=text if spoil == "text" else known["iid"], infer=False),
        "search": lambda: memora.search_memories_as_one(org, user, qs, agent_id=agent),
        "batch": lambda: memora.search_memories_as_batch(
            org, qs, user_id=user,
            memory_search_scope=text if spoil == "text" else MemorySearchScope.ORGANIZATION),
        "recall": lambda: memora.recall_memories_for_message(org, user, text),
        "user": lambda: memora.graph.create_user(org, text, user_id=user),
        "memory": lambda: memora.graph.get_user_memory(
            org, user, text if spoil == "text" else known["other_memory"]),
    }  # fmt: skip
    if attempt(memora, calls[op]) is None and op in ("save", "update"):
        for memory in memora.graph.get_all_user_memories("org1", "u1"):
            assert memory.memory.strip()  # blank messages never become memories


def _json_answer(data: Any) -> Callable[[Sequence[BaseMessage]], str]:
    return lambda _m: json.dumps(data)


llm_outputs = st.one_of(
    st.sampled_from(["", "not json", "{", '{"memories_first_pass": [{"memory": "Jake likes',
                     "null", "[]", '{"memories_first_pass": "nope"}', "```json\n{}\n```"]),
    st.builds(lambda items: {"memories_first_pass": items}, st.lists(st.fixed_dictionaries({
        "memory": st.one_of(hostile_text, st.just("#user_#id# likes oolong")),
        "msg_source_ids": st.lists(st.integers(-3, 10**12), max_size=3)}), max_size=3)),
)  # fmt: skip
comparisons = st.fixed_dictionaries({
    "new_memories": st.lists(st.fixed_dictionaries({
        "memory": st.sampled_from(["#user_#id# likes oolong", ""]),
        "source_candidate_pos_id": st.integers(-2, 5)}), max_size=2),
    "contrary_memories": st.lists(st.fixed_dictionaries({
        "memory": st.just("#user_#id# now prefers coffee"),
        "source_candidate_pos_id": st.integers(-1, 3),
        "contradicted_memory_id": st.sampled_from(["OTHER", "RANDOM", "not-a-uuid", "SHOWN"])}),
        max_size=2),
})  # fmt: skip


@settings(max_examples=30, derandomize=True, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])  # fmt: skip
@given(extraction=llm_outputs, comparison=st.one_of(comparisons, st.just("garbage")))
def test_malformed_llm_output_is_rejected_or_sanitized(
    world: tuple[SyncMemora, dict[str, str]], script: Script, extraction: Any, comparison: Any
) -> None:
    """If this fails, check the LLM layer's parsing / validation and pipeline.plan_from_comparison
    (unshown ids must never be linked)."""
    memora, known = world

    def answer(messages: Sequence[BaseMessage]) -> str:
        system = str(messages[0].content)
        if "You maintain the memories" not in system:
            return extraction if isinstance(extraction, str) else json.dumps(extraction)
        if isinstance(comparison, str):
            return comparison
        shown = [item["memory_id"] for item in json.loads(
            str(messages[1].content).split("NEW CANDIDATE MEMORIES:")[0]
            .replace("STORED MEMORIES:", "", 1))]  # fmt: skip
        ids = {
            "OTHER": known["other_memory"],
            "RANDOM": str(uuid.uuid4()),
            "not-a-uuid": "not-a-uuid",
            "SHOWN": shown[0] if shown else str(uuid.uuid4()),
        }
        data = json.loads(json.dumps(comparison))
        for item in data["contrary_memories"]:
            item["contradicted_memory_id"] = ids[item["contradicted_memory_id"]]
        return json.dumps(data)

    script.answer = answer
    chat = [{"role": "user", "content": "I like green tea"},
            {"role": "assistant", "content": "Noted, green tea."}]  # fmt: skip
    error = attempt(
        memora,
        lambda: memora.save_or_update_interaction_and_memories(
            "org1", "u1", "a1", chat, infer=True, max_retries=0
        ),
    )
    # The caller's input is valid: a bad model output is the model's error, never theirs.
    assert error is None or isinstance(error, LLMResponseInvalidError), repr(error)
    mine = {m.memory_id for m in memora.graph.get_all_user_memories("org1", "u1")}
    for older, newer in memora.graph.get_user_memory_links("org1", "u1"):
        assert older in mine
        assert newer in mine
    theirs = memora.graph.get_all_user_memories("org1", "u2")
    assert [m.memory_id for m in theirs] == [known["other_memory"]]
    assert memora.graph.get_user_memory_links("org1", "u2") == []
