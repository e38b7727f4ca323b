"""``GraphDBConformanceTests``: the behaviour every ``BaseGraphDB`` must show.

Subclass it in a backend's test module and provide the ``graph_db`` fixture (an empty, set-up
store). The graph store never sees a vector store; the index side of writes and deletes is
checked by :class:`~memora_engine.testing.CoordinationTests` over a graph and a vector store.

Examples:
    >>> class TestMyGraphDB(GraphDBConformanceTests):  # doctest: +SKIP
    ...     @pytest.fixture
    ...     async def graph_db(self):
    ...         async with MyGraphDB(...) as store:
    ...             yield store
"""

from __future__ import annotations

from memora_engine.testing.graph_suite.bad_input import BadInputTests
from memora_engine.testing.graph_suite.cascades import CascadeTests
from memora_engine.testing.graph_suite.filtering import FilterTests
from memora_engine.testing.graph_suite.history import HistoryTests
from memora_engine.testing.graph_suite.indexing import IndexTextTests
from memora_engine.testing.graph_suite.interactions import InteractionTests
from memora_engine.testing.graph_suite.isolation import IsolationTests
from memora_engine.testing.graph_suite.memories import MemoryTests
from memora_engine.testing.graph_suite.metadata import MetadataTests
from memora_engine.testing.graph_suite.restore import RestoreTests
from memora_engine.testing.graph_suite.support import GraphSuiteBase
from memora_engine.testing.graph_suite.tenants import TenantTests

__all__ = ["GraphDBConformanceTests", "GraphSuiteBase"]


class GraphDBConformanceTests(
    TenantTests,
    InteractionTests,
    MemoryTests,
    HistoryTests,
    CascadeTests,
    IsolationTests,
    BadInputTests,
    RestoreTests,
    MetadataTests,
    FilterTests,
    IndexTextTests,
):
    """Every conformance test; the subclass provides the ``graph_db`` fixture."""
