"""Build the graph and vector stores a :class:`~memora_engine.settings.MemoraSettings` describes.

Construction does no I/O (``Memora.setup`` creates schemas and collections); the embedded stores
follow :class:`~memora_engine.settings.StoreLayout`.
"""

from __future__ import annotations

from typing import Any

from memora_engine.embeddings.base import DenseEncoder, SparseEncoder
from memora_engine.graph_db.base import BaseGraphDB
from memora_engine.settings import MemoraSettings
from memora_engine.vector_db.base import BaseVectorDB

__all__ = ["build_stores"]


def build_stores(
    settings: MemoraSettings,
    *,
    dense_encoder: DenseEncoder | None = None,
    sparse_encoder: SparseEncoder | None = None,
    search_config: Any = None,
) -> tuple[BaseGraphDB, BaseVectorDB]:
    """The ``(graph store, vector store)`` of the settings (SQLite / Neo4j, Qdrant Edge / Qdrant).

    Raises:
        ConfigurationError: a missing optional package or a bad embedding model folder.
    """
    from memora_engine.embeddings import default_dense_encoder, default_sparse_encoder

    dense = dense_encoder or default_dense_encoder(settings.embedding_model_dir)
    sparse = sparse_encoder or default_sparse_encoder()
    layout = settings.layout
    graph: BaseGraphDB
    vector: BaseVectorDB
    if settings.neo4j_uri:
        from memora_engine.graph_db import Neo4jGraphInterface

        password = settings.neo4j_password.get_secret_value() if settings.neo4j_password else None
        graph = Neo4jGraphInterface(
            uri=settings.neo4j_uri,
            username=settings.neo4j_username,
            password=password,
            database=settings.neo4j_database,
        )
    else:
        from memora_engine.graph_db import SqliteGraphDB

        graph = SqliteGraphDB(layout.graph_file)
    if settings.qdrant_url:
        from memora_engine.vector_db import QdrantDB

        api_key = settings.qdrant_api_key.get_secret_value() if settings.qdrant_api_key else None
        vector = QdrantDB(
            url=settings.qdrant_url,
            api_key=api_key,
            collection_name=settings.qdrant_collection,
            dense_encoder=dense,
            sparse_encoder=sparse,
            search_config=search_config,
            metadata_indexes=settings.metadata_indexes,
            context_indexing=settings.context_indexing,
        )
    else:
        from memora_engine.vector_db import QdrantEdgeDB

        vector = QdrantEdgeDB(
            layout.vector_dir,
            dense_encoder=dense,
            sparse_encoder=sparse,
            search_config=search_config,
            metadata_indexes=settings.metadata_indexes,
            context_indexing=settings.context_indexing,
        )
    return graph, vector
