"""Conformance suites shipped with the package (pytest classes any backend can subclass).

Usage in a backend's test module::

    from memora_engine.testing import GraphDBConformanceTests

    class TestMyGraphDB(GraphDBConformanceTests):
        @pytest.fixture
        async def graph_db(self, vector_db):
            ...  # yield an empty, set-up store

``VectorDBConformanceTests`` does the same for vector stores (fixture ``vector_db``), and
``CoordinationTests`` checks the engine's graph <-> index protocol over both (fixtures
``graph_db`` and ``vector_db``). The suites import pytest, so they load only when asked for.
"""

from typing import TYPE_CHECKING, Any

from memora_engine.testing.recording import RecordedCall, RecordingEncoder, RecordingVectorDB

if TYPE_CHECKING:
    from memora_engine.testing.coordination_suite import CoordinationTests
    from memora_engine.testing.graph_suite import GraphDBConformanceTests
    from memora_engine.testing.vector_suite import VectorDBConformanceTests

__all__ = [
    "CoordinationTests",
    "GraphDBConformanceTests",
    "RecordedCall",
    "RecordingEncoder",
    "RecordingVectorDB",
    "VectorDBConformanceTests",
]


def __getattr__(name: str) -> Any:
    # The graph suite imports pytest: load it only when asked for, so that importing
    # memora_engine.testing (e.g. for the scripted chat model) never needs pytest.
    if name == "GraphDBConformanceTests":
        from memora_engine.testing.graph_suite import GraphDBConformanceTests

        return GraphDBConformanceTests
    if name == "CoordinationTests":
        from memora_engine.testing.coordination_suite import CoordinationTests

        return CoordinationTests
    if name == "VectorDBConformanceTests":
        from memora_engine.testing.vector_suite import VectorDBConformanceTests

        return VectorDBConformanceTests
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
