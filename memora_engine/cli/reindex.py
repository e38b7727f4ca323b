"""``memora reindex``: rebuild the vector index from the graph store (the source of truth).

Embedded store: a fresh index is built next to the old one (``vectors.reindex``) with the
configured embedding model, then swapped in; the old folder is removed. This works after a change
of embedding model (another dimension) and also drops stray points. Server Qdrant: each
organization's points are deleted and re-added in place (after a model change of another
dimension, point ``MEMORA_QDRANT_COLLECTION`` at a new collection first).
"""

from __future__ import annotations

import shutil
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from memora_engine.cli._common import (
    EMBEDDED_VECTOR_DIR,
    CliError,
    build_stores,
    console,
    err_console,
    run,
    settings_from,
    store_options,
)
from memora_engine.cli.config import Settings
from memora_engine.embeddings import default_dense_encoder, default_sparse_encoder
from memora_engine.errors import BackendUnavailableError
from memora_engine.graph_db.base import BaseGraphDB
from memora_engine.vector_db.base import BaseVectorDB

__all__ = ["rebuild_index", "reindex"]

_BATCH = 256
_LOCK_FILE = ".memora.lock"


async def copy_index(
    graph: BaseGraphDB,
    vector: BaseVectorDB,
    *,
    org_id: str | None = None,
    on_batch: Callable[[int], None] | None = None,
) -> int:
    """Upsert every memory of the graph (or one org) into ``vector``; returns the count."""
    total = 0
    after: str | None = None
    while True:
        page = await graph.list_memories_for_indexing(
            org_id=org_id, after_memory_id=after, limit=_BATCH
        )
        if not page:
            return total
        await vector.upsert_memories(page)
        total += len(page)
        after = page[-1].memory_id
        if on_batch is not None:
            on_batch(len(page))
        if len(page) < _BATCH:
            return total


@contextmanager
def _folder_lock(folder: Path) -> Iterator[None]:
    """Hold the vector folder's lock, proving no other process has the store open."""
    if sys.platform == "win32" or not folder.exists():  # pragma: no cover - POSIX here
        yield
        return
    import fcntl

    with open(folder / _LOCK_FILE, "a+", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise BackendUnavailableError(
                f"The vector store {folder} is in use by another process; stop it and retry."
            ) from None
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


async def rebuild_index(
    settings: Settings, on_batch: Callable[[int], None] | None = None
) -> tuple[int, str]:
    """Rebuild the index the settings describe; returns ``(memories indexed, where)``."""
    dense = default_dense_encoder(settings.embedding_model_dir)
    sparse = default_sparse_encoder()
    graph, vector = build_stores(settings, dense, sparse)
    if settings.qdrant_url:
        try:
            await graph.setup()
            await vector.setup()
            total = 0
            for org in await graph.get_all_organizations():
                await vector.delete_all_organization_memories(org.org_id)
                total += await copy_index(graph, vector, org_id=org.org_id, on_batch=on_batch)
            return total, f"collection {settings.qdrant_collection} at {settings.qdrant_url}"
        finally:
            await graph.close()
            await vector.close()
    await vector.close()  # never opened: the fresh index goes to a new folder
    from memora_engine.vector_db import QdrantEdgeDB

    live = settings.path / EMBEDDED_VECTOR_DIR
    fresh = settings.path / f"{EMBEDDED_VECTOR_DIR}.reindex"
    retired = settings.path / f"{EMBEDDED_VECTOR_DIR}.old"
    with _folder_lock(live):
        for leftover in (fresh, retired):
            if leftover.exists():
                shutil.rmtree(leftover)
        new_store = QdrantEdgeDB(fresh, dense_encoder=dense, sparse_encoder=sparse)
        try:
            await graph.setup()
            await new_store.setup()
            total = await copy_index(graph, new_store, on_batch=on_batch)
        finally:
            await new_store.close()
            await graph.close()
        if live.exists():
            live.rename(retired)
        fresh.rename(live)
    shutil.rmtree(retired, ignore_errors=True)
    return total, str(live)


@click.command()
@store_options
@click.pass_context
def reindex(ctx: click.Context, /, **opts: Any) -> None:
    """Rebuild the vector index from the graph store (after a model change, or to repair)."""
    settings = settings_from(ctx, **opts)
    started = time.perf_counter()
    with Progress(
        SpinnerColumn(),
        TextColumn("Reindexing: {task.completed} memories"),
        TimeElapsedColumn(),
        console=err_console(),
    ) as progress:
        task = progress.add_task("reindex", total=None)
        try:
            total, where = run(
                rebuild_index(settings, on_batch=lambda n: progress.advance(task, n))
            )
        except BackendUnavailableError as exc:
            raise CliError(exc) from exc
    elapsed = time.perf_counter() - started
    console().print(f"Reindexed {total} memories into {where} in {elapsed:.1f} s.")
