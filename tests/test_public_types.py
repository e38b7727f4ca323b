"""Every public parameter of ``Memora`` given a wrong-typed value raises ``InvalidInputError``.

Never a ``TypeError`` / ``AttributeError`` from deep inside, and nothing is written. The calls go
to real embedded stores (SQLite + Qdrant Edge) holding real data, with every other argument
valid, so a missing check would let the call reach the stores.

Which types a parameter accepts is written down here, per annotation, independently of the
engine's checker; a new annotation fails :func:`test_every_annotation_is_covered` until added.
"""

from __future__ import annotations

import inspect
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from memora_engine import Memora, SyncMemora
from memora_engine._codegen import public_coroutine_methods
from memora_engine.embeddings import DenseEncoder, SparseEncoder
from memora_engine.errors import InvalidInputError
from memora_engine.ids import checked_arguments
from memora_engine.schema.models import Memory
from memora_engine.schema.storage import MemoriesAndInteraction
from memora_engine.sync import EventLoopPortal
from memora_engine.vector_db.base import MemorySearchScope

CHAT = [
    {"role": "user", "content": "I'm allergic to peanuts."},
    {"role": "assistant", "content": "Noted: no peanuts."},
]

#: A value of each kind, drawn by hypothesis (non-empty collections, so item types matter).
KINDS: dict[str, st.SearchStrategy[Any]] = {
    "none": st.none(),
    "bool": st.booleans(),
    "int": st.integers(),
    "float": st.floats(),
    "str": st.text(max_size=8),
    "bytes": st.binary(max_size=8),
    "datetime": st.datetimes(),
    "object": st.builds(object),
    "scope": st.sampled_from(list(MemorySearchScope)),
    "dict": st.dictionaries(st.text(max_size=4), st.integers(), min_size=1, max_size=3),
    "list_int": st.lists(st.integers(), min_size=1, max_size=3),
    "list_str": st.lists(st.text(max_size=8), min_size=1, max_size=3),
    "set_str": st.frozensets(st.text(max_size=8), min_size=1, max_size=3),
    "list_dict": st.lists(
        st.fixed_dictionaries({"role": st.just("user"), "content": st.text(max_size=8)}),
        min_size=1,
        max_size=2,
    ),
}

#: The kinds each annotation accepts (as the annotation reads); every other kind is wrong.
ACCEPTS: dict[str, set[str]] = {
    "str": {"str", "scope"},  # MemorySearchScope is a str enum
    "str | None": {"str", "scope", "none"},
    "bool": {"bool"},
    "bool | None": {"bool", "none"},
    "int": {"int"},
    "int | None": {"int", "none"},
    "datetime | None": {"datetime", "none"},
    "Sequence[str]": {"list_str"},
    "Set[str] | None": {"set_str", "list_str", "none"},  # any collection of ids will do
    "Sequence[Mapping[str, str]]": {"list_dict"},
    "Sequence[Mapping[str, str]] | None": {"list_dict", "none"},
    "RunnableConfig | None": {"dict", "none"},  # a TypedDict: any mapping
    "MemorySearchScope": {"scope", "str"},  # "user" / "organization" work too
    "Sequence[Memory]": set(),
    "MemoriesAndInteraction": set(),
    "Sequence[RestoreItem]": set(),
    "ProgressCallback | None": {"none"},  # a callable or None
    "TimeRange | None": {"none"},
    "float | None": {"float", "int", "none"},  # an int is a fine float
    "Reranker | None": set(KINDS),
    "Mapping[str, Any] | None": {"dict", "none"},  # metadata (its content checked apart)
    "MetadataFilter | None": {"dict", "none"},
    "MetadataFilter": {"dict"},
    "Sequence[FactInput]": {
        "list_str",
        "list_dict",
    },  # texts or {"memory", "metadata"}  # any callable or compressor: checked when it runs
}

METHODS = public_coroutine_methods(Memora)


@dataclass
class World:
    """An embedded Memora with one org, user, agent, interaction and memory."""

    memora: SyncMemora
    org_id: str
    user_id: str
    agent_id: str
    interaction_id: str
    memory: Memory

    def valid(self, name: str) -> Any:
        """A valid value for a required parameter ``name``."""
        values: dict[str, Any] = {
            "org_id": self.org_id,
            "user_id": self.user_id,
            "agent_id": self.agent_id,
            "interaction_id": self.interaction_id,
            "memory_id": self.memory.memory_id,
            "memory_ids": [self.memory.memory_id],
            "interaction": CHAT,
            "search_queries": ["peanuts"],
            "search_queries_used": ["peanuts"],
            "retrieved_memories": [self.memory],
            "record": MemoriesAndInteraction.model_validate({"interaction": CHAT}),
            "memories": ["Jake likes green tea"],
            "filter": {"topic": "nothing-matches"},
        }
        return values.get(name, "a name")

    def snapshot(self) -> tuple[object, ...]:
        """Every graph row and the vector count: equal snapshots mean nothing was written."""
        path = Path(self.memora.aio.graph_db.path)  # type: ignore[attr-defined]
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
            tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
            rows = tuple(
                (t, sorted(map(repr, db.execute(f'SELECT * FROM "{t}"')))) for t in sorted(tables)
            )
        vectors = self.memora.portal.run(self.memora.aio.vector_db.count())
        return rows, vectors

    def call(self, method: str, param: str, value: Any) -> Callable[[], Any]:
        """A call of ``method`` with valid required arguments and ``param=value``."""
        kwargs: dict[str, Any] = {}
        for p in list(inspect.signature(METHODS[method]).parameters.values())[1:]:
            if p.name == param:
                kwargs[p.name] = value
            elif p.default is inspect.Parameter.empty:
                kwargs[p.name] = self.valid(p.name)
        bound = getattr(self.memora.aio, method)
        return lambda: self.memora.portal.run(bound(**kwargs))


@pytest.fixture(scope="module")
def world(
    tmp_path_factory: pytest.TempPathFactory,
    dense_encoder: DenseEncoder,
    sparse_encoder: SparseEncoder,
) -> Iterator[World]:
    portal = EventLoopPortal(name="public-types-test")
    memora = SyncMemora.embedded(
        tmp_path_factory.mktemp("types") / "m",
        portal=portal,
        dense_encoder=dense_encoder,
        sparse_encoder=sparse_encoder,
    )
    try:
        org = memora.create_organization("Acme")
        user = memora.create_user(org.org_id, "Jake")
        agent = memora.create_agent(org.org_id, "Jarvis")
        iid, _ = memora.save_or_update_interaction_and_memories(
            org.org_id, user.user_id, agent.agent_id, CHAT
        )
        memory = memora.list_memories(org.org_id, user.user_id)[0]
        yield World(memora, org.org_id, user.user_id, agent.agent_id, iid, memory)
    finally:
        memora.close()
        portal.close()


def _cases() -> list[tuple[str, str, str]]:
    """Every (method, parameter, wrong kind)."""
    cases = []
    for method, function in METHODS.items():
        for p in list(inspect.signature(function).parameters.values())[1:]:
            for kind in sorted(set(KINDS) - ACCEPTS[str(p.annotation)]):
                cases.append((method, p.name, kind))
    return cases


def test_every_annotation_is_covered() -> None:
    """If this fails, a public method has a parameter type this test does not know: add it to
    ACCEPTS (and make sure ``checked_arguments`` decorates the method)."""
    annotations = {
        str(p.annotation)
        for function in METHODS.values()
        for p in list(inspect.signature(function).parameters.values())[1:]
    }
    assert annotations <= set(ACCEPTS)
    assert len(_cases()) > 500


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_wrong_typed_argument_is_invalid_input_and_writes_nothing(
    world: World, data: st.DataObject
) -> None:
    """If this fails, a public Memora method lacks ``@checked_arguments`` (ids.py) or its
    checker accepts a wrong type."""
    method, param, kind = data.draw(st.sampled_from(_cases()), label="case")
    value = data.draw(KINDS[kind], label="value")
    before = world.snapshot()
    with pytest.raises(InvalidInputError, match=param):
        world.call(method, param, value)()
    assert world.snapshot() == before


def test_every_method_parameter_and_kind_once(world: World) -> None:
    """If this fails, see the hypothesis test above; this one walks every case exactly once."""
    samples: dict[str, Any] = {
        "none": None,
        "bool": True,
        "int": 5,
        "float": 0.5,
        "str": "user",
        "bytes": b"x",
        "datetime": datetime(2025, 1, 1),
        "object": object(),
        "scope": MemorySearchScope.USER,
        "dict": {"a": 1},
        "list_int": [1],
        "list_str": ["x"],
        "set_str": {"x"},
        "list_dict": [{"role": "user", "content": "x"}],
    }
    assert samples.keys() == KINDS.keys()
    before = world.snapshot()
    failures = []
    for method, param, kind in _cases():
        try:
            world.call(method, param, samples[kind])()
        except InvalidInputError:
            continue
        except Exception as exc:
            failures.append(f"{method}({param}={samples[kind]!r}): {type(exc).__name__}: {exc}")
        else:
            failures.append(f"{method}({param}={samples[kind]!r}): no error")
    assert failures == [], "\n".join(failures)
    assert world.snapshot() == before


def test_issue_13_filter_out_set_of_wrong_type(world: World) -> None:
    """Regression (#13 bug 7): this raised TypeError from inside the search."""
    with pytest.raises(InvalidInputError, match="filter_out_memory_ids_set must be"):
        world.memora.search_memories_as_one(
            world.org_id, world.user_id, ["peanuts"], filter_out_memory_ids_set=5
        )  # type: ignore[arg-type]
    # The right types still work, a list of ids included.
    kept = world.memora.search_memories_as_one(
        world.org_id, world.user_id, ["peanuts"], filter_out_memory_ids_set=[]
    )  # type: ignore[arg-type]
    assert world.memory.memory_id in {m.memory_id for m in kept}


def test_a_wrong_type_is_reported_before_a_missing_model(world: World) -> None:
    """The checks come first: no model is configured here, yet the type error is what shows."""
    with pytest.raises(InvalidInputError, match="current_datetime"):
        world.memora.generate_memory_search_queries("hi", current_datetime="yesterday")  # type: ignore[arg-type]
    when = datetime(2025, 1, 1, tzinfo=timezone.utc)
    with pytest.raises(Exception, match="memory_search_model") as excinfo:
        world.memora.generate_memory_search_queries("hi", current_datetime=when)
    assert not isinstance(excinfo.value, InvalidInputError)


class _Unprintable:
    def __repr__(self) -> str:
        raise RuntimeError("no repr")


def test_hostile_wrong_values_still_give_a_short_clear_error(world: World) -> None:
    """If this fails, check ids._short: the message must survive any value."""
    deep: list[Any] = []
    node = deep
    for _ in range(100_000):
        node.append([])
        node = node[0]
    for value in (_Unprintable(), deep, "x" * 1_000_000):
        with pytest.raises(InvalidInputError, match="limit must be int") as excinfo:
            world.memora.list_memories(world.org_id, world.user_id, limit=value)
        assert len(str(excinfo.value)) < 200


class _Api:
    @checked_arguments
    async def call(
        self,
        mode: Literal["fast", "slow"],
        ids: Sequence[str] = (),
        *,
        limit: int | None = None,
        hook: Callable[[], None] | None = None,
        anything: type[int] = int,
    ) -> str:
        return f"{mode} {list(ids)} {limit}"


async def test_checked_arguments_is_pure_and_covers_other_annotation_forms() -> None:
    """If this fails, check ids.checked_arguments (no store involved)."""
    api = _Api()
    assert await api.call("fast", ["a"], limit=2, hook=print) == "fast ['a'] 2"
    for args, kwargs, name in [
        (("medium",), {}, "mode"),
        (("fast", [1]), {}, "ids"),
        (("fast",), {"limit": True}, "limit"),
        (("fast",), {"hook": 5}, "hook"),
    ]:
        with pytest.raises(InvalidInputError, match=f"^{name} must be"):
            await api.call(*args, **kwargs)
    # An annotation the checker does not know is left to the method, never a TypeError.
    assert await api.call("slow", anything="not a type") == "slow [] None"
