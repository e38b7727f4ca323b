"""Conformance suites shipped with the package (pytest classes any backend can subclass).

Usage in a backend's test module::

    from memora_engine.testing import GraphDBConformanceTests

    class TestMyGraphDB(GraphDBConformanceTests):
        @pytest.fixture
        async def graph_db(self, vector_db):
            ...  # yield an empty, set-up store
"""
