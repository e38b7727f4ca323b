"""The Qdrant translations of the filter language mean exactly what the reference semantics say.

Random memories with metadata go into a real Qdrant Edge shard and a real qdrant-client
local-mode collection; for random filters, the ids each engine returns must equal the ids
:func:`memora_engine.filters.matches` selects. If this fails, the translation in
``memora_engine/vector_db/filter_translation.py`` and the semantics in
``memora_engine/filters.py`` disagree for the printed filter.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import qdrant_edge as qe
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from qdrant_client import QdrantClient
from qdrant_client import models as qm

from memora_engine.filters import FilterNode, matches, parse_filter
from memora_engine.vector_db.filter_translation import (
    payload_metadata,
    to_client_filter,
    to_edge_filter,
)

T0 = datetime(2024, 1, 1, tzinfo=timezone.utc)
KEYS = ["a", "b", "c"]
BUILTIN = {"agent_id", "interaction_id", "obtained_at"}


def key_of(field: str) -> str:
    return field if field in BUILTIN else f"metadata.{field}"


scalars = st.one_of(
    st.integers(-3, 3),
    st.sampled_from([0.5, 2.0, -1.5]),
    st.sampled_from(["x", "y", "z"]),
    st.booleans(),
)
values = st.one_of(scalars, st.lists(scalars, max_size=3))
records = st.lists(
    st.fixed_dictionaries(
        {
            "agent_id": st.sampled_from(["a1", "a2"]),
            "interaction_id": st.sampled_from(["i1", "i2", "i3"]),
            "days": st.integers(0, 9),
            "metadata": st.dictionaries(st.sampled_from(KEYS), values, max_size=3),
        }
    ),
    min_size=1,
    max_size=12,
)


def _leaf() -> st.SearchStrategy[dict[str, Any]]:
    meta = st.one_of(
        st.builds(lambda k, v: {k: v}, st.sampled_from(KEYS), scalars),
        st.builds(
            lambda k, op, v: {k: {op: v}},
            st.sampled_from(KEYS),
            st.sampled_from(["$ne"]),
            scalars,
        ),
        st.builds(
            lambda k, op, vs: {k: {op: vs}},
            st.sampled_from(KEYS),
            st.sampled_from(["$in", "$nin"]),
            st.lists(scalars, min_size=1, max_size=3),
        ),
        st.builds(
            lambda k, op, v: {k: {op: v}},
            st.sampled_from(KEYS),
            st.sampled_from(["$gt", "$gte", "$lt", "$lte"]),
            st.one_of(st.integers(-3, 3), st.sampled_from([0.5, -1.5])),
        ),
        st.builds(lambda k, b: {k: {"$exists": b}}, st.sampled_from(KEYS), st.booleans()),
    )
    builtin = st.one_of(
        st.builds(lambda v: {"agent_id": v}, st.sampled_from(["a1", "a2"])),
        st.builds(
            lambda v: {"interaction_id": {"$nin": v}},
            st.lists(st.sampled_from(["i1", "i2", "i3"]), min_size=1, max_size=2),
        ),
        st.builds(
            lambda op, d: {"obtained_at": {op: (T0 + timedelta(days=d)).isoformat()}},
            st.sampled_from(["$gt", "$gte", "$lt", "$lte"]),
            st.integers(0, 9),
        ),
    )
    return st.one_of(meta, builtin)


filters = st.recursive(
    _leaf(),
    lambda inner: st.one_of(
        st.builds(lambda fs: {"$and": fs}, st.lists(inner, min_size=1, max_size=3)),
        st.builds(lambda fs: {"$or": fs}, st.lists(inner, min_size=1, max_size=3)),
        st.builds(lambda f: {"$not": f}, inner),
    ),
    max_leaves=6,
)


def _payload(record: dict[str, Any]) -> dict[str, Any]:
    return {
        "agent_id": record["agent_id"],
        "interaction_id": record["interaction_id"],
        "obtained_at": (T0 + timedelta(days=record["days"])).isoformat(),
        "metadata": payload_metadata(record["metadata"]),
    }


def _expected(tree: FilterNode, rows: dict[str, dict[str, Any]]) -> set[str]:
    return {
        pid
        for pid, r in rows.items()
        if matches(tree, {**r, "obtained_at": T0 + timedelta(days=r["days"])})
    }


@pytest.fixture(scope="module")
def edge_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("edge")


@pytest.fixture(scope="module")
def client() -> Iterator[QdrantClient]:
    qc = QdrantClient(location=":memory:")
    yield qc
    qc.close()


class _Engines:
    def __init__(self, edge_root: Path, client: QdrantClient) -> None:
        self.edge_root = edge_root
        self.client = client

    def load(self, rows: dict[str, dict[str, Any]]) -> tuple[qe.EdgeShard, str]:
        folder = self.edge_root / uuid.uuid4().hex
        folder.mkdir()
        config = qe.EdgeConfig(vectors={"v": qe.EdgeVectorParams(size=2, distance=qe.Distance.Dot)})
        shard = qe.EdgeShard.create(str(folder), config)
        points = [qe.Point(pid, {"v": [1.0, 0.0]}, _payload(r)) for pid, r in rows.items()]
        shard.update(qe.UpdateOperation.upsert_points(points))
        name = f"c{uuid.uuid4().hex}"
        self.client.create_collection(
            name, vectors_config=qm.VectorParams(size=2, distance=qm.Distance.DOT)
        )
        self.client.upsert(
            name,
            [
                qm.PointStruct(id=pid, vector=[1.0, 0.0], payload=_payload(r))
                for pid, r in rows.items()
            ],
        )
        return shard, name

    def edge_ids(self, shard: qe.EdgeShard, tree: FilterNode) -> set[str]:
        request = qe.ScrollRequest(limit=100, filter=to_edge_filter(tree, key_of))
        records, _ = shard.scroll(request)
        return {str(r.id) for r in records}

    def client_ids(self, name: str, tree: FilterNode) -> set[str]:
        points, _ = self.client.scroll(
            name, scroll_filter=to_client_filter(tree, key_of), limit=100
        )
        return {str(p.id) for p in points}


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=records, specs=st.lists(filters, min_size=1, max_size=5))
def test_engines_agree_with_the_reference_semantics(
    edge_dir: Path, client: QdrantClient, rows: list[dict[str, Any]], specs: list[dict[str, Any]]
) -> None:
    engines = _Engines(edge_dir, client)
    by_id = {str(uuid.uuid4()): r for r in rows}
    shard, name = engines.load(by_id)
    try:
        for spec in specs:
            tree = parse_filter(spec)
            expected = _expected(tree, by_id)
            assert engines.edge_ids(shard, tree) == expected, spec
            assert engines.client_ids(name, tree) == expected, spec
    finally:
        shard.close()
        client.delete_collection(name)
