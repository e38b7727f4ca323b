"""The checker run after each kill: reopen the embedded store and verify it (see _crash_harness)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from memora_engine import Memora, MemorySearchScope
from memora_engine.limits import MAX_PAGE_LIMIT
from memora_engine.recovery import recover_vector_index
from memora_engine.schema.models import Interaction, Memory
from tests.reliability._crash_harness import (
    AGENT,
    ORG,
    USERS,
    State,
    append_line,
    read_journal,
)


@dataclass
class Stats:
    """Counts over a run of kill points."""

    kills: int = 0
    natural_exits: int = 0
    ops_returned: int = 0
    in_flight_applied: int = 0
    in_flight_absent: int = 0
    kills_with_stray_points: int = 0
    recoveries_with_work: int = 0
    reindexed: int = 0
    strays_deleted: int = 0
    searches: int = 0
    anomalies: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        out = dict(self.__dict__)
        out["anomalies"] = len(self.anomalies)
        return out


async def create_tenant(store: Path, dense: Any, sparse: Any) -> None:
    """The organization, users and agent every writer works on."""
    async with await Memora.embedded(store, dense_encoder=dense, sparse_encoder=sparse) as memora:
        await memora.graph.create_organization("Crash Co", org_id=ORG)
        for user_id, name in USERS.items():
            await memora.graph.create_user(ORG, name, user_id=user_id)
        await memora.graph.create_agent(ORG, "Writer", agent_id=AGENT)


async def _graph_snapshot(
    memora: Memora,
) -> tuple[dict[tuple[str, str], Interaction], list[Memory]]:
    interactions = {}
    for user_id in USERS:
        for ix in await memora.graph.get_all_user_interactions(ORG, user_id, limit=MAX_PAGE_LIMIT):
            interactions[(user_id, ix.interaction_id)] = ix
    memories: list[Memory] = []
    after = None
    while page := await memora.graph_db.list_memories_for_indexing(
        org_id=ORG, after_memory_id=after, limit=1000
    ):
        memories.extend(page)
        after = page[-1].memory_id
    return interactions, memories


def _messages(ix: Interaction) -> list[list[str]]:
    return [[m.role, m.content] for m in ix.messages]


def _resolve_in_flight(
    op: dict[str, Any] | None, state: State, graph: dict[tuple[str, str], Interaction]
) -> tuple[bool | None, str | None, list[str]]:
    """Did the op in flight commit? Returns ``(applied, iid, problems)``; all or nothing."""
    extras = [key for key in graph if key not in state.interactions]
    if op is None:
        return None, None, [f"interactions nobody saved: {extras}"] if extras else []
    if op["kind"] == "new":
        if not extras:
            return False, None, []
        whole = len(extras) == 1 and extras[0][0] == op["user"]
        if whole and _messages(graph[extras[0]]) == op["messages"]:
            return True, extras[0][1], []
        return None, None, [f"half-written or stray new interactions {extras} for op {op['k']}"]
    problems = [f"interactions nobody saved: {extras}"] if extras else []
    key = (op["user"], op["iid"])
    if op["kind"] == "delete":
        return key not in graph, op["iid"], problems
    if key not in graph:
        return None, None, [*problems, f"interaction {key} vanished during op {op['k']}"]
    stored = _messages(graph[key])
    if stored == op["messages"]:
        return True, op["iid"], problems
    if stored == state.interactions[key].messages:
        return False, op["iid"], problems
    return None, None, [*problems, f"op {op['k']} left messages half-updated: {stored}"]


async def check_after_kill(
    store: Path, journal: Path, dense: Any, sparse: Any, stats: Stats, rng: random.Random,
    *, checked_up_to: int,
) -> int:  # fmt: skip
    """Verify the store after a kill and resolve the op in flight; returns the last op checked.

    Problems are appended to ``stats.anomalies`` (the test asserts there are none).
    """
    entries = read_journal(journal, compact=True)
    state, op = State.replay(entries)
    stats.ops_returned = sum(1 for e in entries if e["t"] == "done")
    problems: list[str] = []
    memora = await Memora.embedded(store, dense_encoder=dense, sparse_encoder=sparse)
    try:
        graph, memories = await _graph_snapshot(memora)
        graph_ids = {m.memory_id for m in memories}
        if len(graph_ids) != len(memories):
            problems.append("duplicate memory ids in the graph")
        indexed = await memora.vector_db.existing_ids(sorted(graph_ids)) if graph_ids else set()
        if graph_ids - indexed:
            problems.append(f"graph memories without a vector: {sorted(graph_ids - indexed)}")

        deleted_texts: list[str] = []
        if op is not None and op["kind"] == "delete":
            deleted_texts = list(state.interactions[(op["user"], op["iid"])].memories)
        applied, iid, found = _resolve_in_flight(op, state, graph)
        problems += found
        if op is not None and applied is not None:
            stats.in_flight_applied += applied
            stats.in_flight_absent += not applied
            if applied:
                assert iid is not None
                state.apply(op, iid)

        # Every expected interaction, message and memory is there, and nothing else.
        if set(graph) != set(state.interactions):
            problems.append(f"interactions differ: {set(graph) ^ set(state.interactions)}")
        for key, expected in state.interactions.items():
            ix = graph.get(key)
            if ix is None:
                continue
            if _messages(ix) != expected.messages:
                problems.append(f"messages of {key} differ")
            got = sorted(m.memory for m in ix.memories)
            if got != sorted(expected.memories):
                problems.append(f"memories of {key} differ: {got} != {sorted(expected.memories)}")
        expected_count = sum(len(ix.memories) for ix in state.interactions.values())
        if len(memories) != expected_count:
            problems.append(f"{len(memories)} graph memories, {expected_count} expected")

        # Search: new memories are found; in-flight / deleted texts only if the graph holds them.
        probe_user = op["user"] if op else "u1"
        probes = (list(op["expect"]) if op else []) + deleted_texts
        candidates: set[str] = set()
        if probes:
            hits = await memora.vector_db.search_memories(
                probes[:64], MemorySearchScope.USER, ORG, probe_user, limit=5
            )
            candidates = {m.memory_id for row in hits for m, _ in row} - graph_ids
        stats.kills_with_stray_points += bool(candidates)
        problems += await _check_search(memora, state, checked_up_to, probes, probe_user,
                                        graph_ids, rng, stats)  # fmt: skip

        report = await recover_vector_index(
            memora.graph_db, memora.vector_db, org_id=ORG, stray_candidates=candidates
        )
        stats.recoveries_with_work += report.repaired
        stats.reindexed += len(report.reindexed)
        stats.strays_deleted += len(report.deleted_strays)
        points = await memora.vector_db.count(ORG)
        if points != len(graph_ids):
            problems.append(f"after recovery: {points} points for {len(graph_ids)} memories")
    finally:
        await memora.close()
    if op is not None and applied is not None:
        with journal.open("a", encoding="utf-8") as handle:
            append_line(handle, {"t": "resolved", "k": op["k"], "applied": applied, "iid": iid})
    stats.anomalies += [f"after op {state.next_k - 1}: {p}" for p in problems]
    return state.next_k - 1


async def _check_search(
    memora: Memora, state: State, checked_up_to: int, probes: list[str], probe_user: str,
    graph_ids: set[str], rng: random.Random, stats: Stats,
) -> list[str]:  # fmt: skip
    problems: list[str] = []
    live: dict[str, set[str]] = {user: set() for user in USERS}
    queries: dict[str, list[str]] = {user: [] for user in USERS}
    for (user, _), ix in state.interactions.items():
        live[user].update(ix.memories)
        fresh = ix.born > checked_up_to
        queries[user] += [t for t in ix.memories if fresh or rng.random() < 0.05]
    queries[probe_user] += probes
    for user, texts in queries.items():
        for start in range(0, len(texts), 64):
            chunk = texts[start : start + 64]
            scope = rng.choice([MemorySearchScope.USER, MemorySearchScope.ORGANIZATION])
            results = await memora.search_memories_as_batch(
                ORG, chunk, user_id=user, memory_search_scope=scope
            )
            stats.searches += len(chunk)
            for text, found in zip(chunk, results, strict=True):
                leaked = [m.memory_id for m in found if m.memory_id not in graph_ids]
                if leaked:
                    problems.append(f"search returned memories the graph lacks: {leaked}")
                texts_found = {m.memory for m in found}
                missing = text in live[user] and text not in texts_found
                if missing and not await _superseded(memora, user, text, found):
                    problems.append(f"saved memory not found by search: {text!r}")
                if text not in live[user] and text in texts_found:
                    problems.append(f"search returned an unsaved or deleted memory: {text!r}")
    return problems


async def _superseded(memora: Memora, user: str, text: str, found: list[Memory]) -> bool:
    """Whether a hit is a newer version of the memory with ``text`` (search returns heads)."""
    for memory in found:
        history = await memora.graph.get_user_memory_history(ORG, user, memory.memory_id)
        if any(h.memory == text for h in history):
            return True
    return False
