"""``memora reindex``: rebuild the vector index from the graph store (the source of truth).

A thin shell over :meth:`Memora.reindex` with a progress bar (count / total / rate). Embedded
store: the old index folder is set aside and a fresh one is built with the configured embedding
model (so a change of model, even of dimension, works), then the old folder is removed; on
failure the old folder is put back. Server Qdrant: each organization's points are deleted and
re-added in place (after a model change of another dimension, point
``MEMORA_QDRANT_COLLECTION`` at a new collection first).
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
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)

from memora_engine.cli._common import (
    EMBEDDED_VECTOR_DIR,
    CliError,
    console,
    err_console,
    open_memora,
    run,
    settings_from,
    store_options,
)
from memora_engine.cli.config import Settings
from memora_engine.errors import BackendUnavailableError

__all__ = ["rebuild_index", "reindex"]

_LOCK_FILE = ".memora.lock"


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


async def _reindex(settings: Settings, progress: Callable[[int, int], None] | None) -> int:
    memora = await open_memora(settings)
    try:
        return await memora.reindex(progress=progress)
    finally:
        await memora.close()


async def rebuild_index(
    settings: Settings, progress: Callable[[int, int], None] | None = None
) -> tuple[int, str]:
    """Rebuild the index the settings describe; returns ``(memories indexed, where)``."""
    if not settings.embedded:
        total = await _reindex(settings, progress)
        return total, f"collection {settings.qdrant_collection} at {settings.qdrant_url}"
    live = settings.path / EMBEDDED_VECTOR_DIR
    retired = settings.path / f"{EMBEDDED_VECTOR_DIR}.old"
    with _folder_lock(live):
        if retired.exists():
            shutil.rmtree(retired)
        if live.exists():
            live.rename(retired)
    try:
        total = await _reindex(settings, progress)
    except BaseException:
        if retired.exists():
            shutil.rmtree(live, ignore_errors=True)
            retired.rename(live)
        raise
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
        TextColumn("Reindexing"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        console=err_console(),
    ) as bar:
        task = bar.add_task("reindex", total=None, rate="")

        def show(done: int, total: int) -> None:
            elapsed = max(time.perf_counter() - started, 1e-6)
            bar.update(task, completed=done, total=total, rate=f"{done / elapsed:,.0f} memories/s")

        try:
            total, where = run(rebuild_index(settings, progress=show))
        except BackendUnavailableError as exc:
            raise CliError(exc) from exc
    elapsed = time.perf_counter() - started
    rate = total / elapsed if elapsed > 0 else 0.0
    console().print(
        f"Reindexed {total} memories into {where} in {elapsed:.1f} s ({rate:,.0f} memories/s)."
    )
