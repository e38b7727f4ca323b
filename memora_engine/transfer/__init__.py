"""Back up and restore a Memora store as JSONL, and import LoCoMo: no click, no rich.

:func:`export_jsonl` writes every record of the store (or of an organization, or of one user);
:func:`import_jsonl` reads such a file (or conversations to extract memories from, or a LoCoMo
JSON file). The import checks the whole file against itself and the store first and writes
nothing if anything is wrong (:class:`ImportFileError` lists every problem with its line), then
writes, skipping what is already there, so running it again after an interruption resumes.
Everything goes through ``Memora``'s public methods. The format is described in
:mod:`memora_engine.transfer.records` and in the README.

Examples:
    >>> from memora_engine import Memora
    >>> from memora_engine.transfer import export_jsonl, import_jsonl
    >>> async with await Memora.embedded(".memora") as memora:
    ...     await export_jsonl(memora, "backup.jsonl")
    >>> async with await Memora.embedded("restored") as memora:
    ...     counts = await import_jsonl(memora, "backup.jsonl")
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from memora_engine.transfer.export import export_records
from memora_engine.transfer.importer import ImportCounts, Importer
from memora_engine.transfer.locomo import LOCOMO_ORG_ID, is_locomo, locomo_records
from memora_engine.transfer.records import (
    FORMAT_VERSION,
    Defaults,
    ImportFileError,
    ImportPlan,
    decode_lines,
    plan_records,
    sort_problems,
)

if TYPE_CHECKING:
    from memora_engine.memora import Memora

__all__ = [
    "FORMAT_VERSION",
    "LOCOMO_ORG_ID",
    "Defaults",
    "ExportResult",
    "ImportCounts",
    "ImportFile",
    "ImportFileError",
    "export_jsonl",
    "export_lines",
    "export_records",
    "import_jsonl",
    "read_import_file",
]

ImportFormat = Literal["auto", "jsonl", "locomo"]


@dataclass(frozen=True)
class ExportResult:
    """What :func:`export_jsonl` wrote: record counts by type, memories, and warnings."""

    records: dict[str, int]
    memories: int
    warnings: list[str] = field(default_factory=list)


@dataclass
class ImportFile:
    """A read import file: its plan, the problems found in the file itself, and its digest."""

    plan: ImportPlan
    problems: list[str]
    digest: str


def read_import_file(
    path: str | Path, fmt: ImportFormat = "auto", defaults: Defaults | None = None
) -> ImportFile:
    """Read and check an import file on its own (no store): every problem, with line numbers.

    ``fmt="auto"``: a JSON array is LoCoMo, anything else JSONL.

    Raises:
        ImportFileError: the file cannot be read at all (not UTF-8, missing, not LoCoMo).
    """
    file = Path(path)
    defaults = defaults or Defaults()
    try:
        raw = file.read_bytes()
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ImportFileError(str(file), [f"cannot read the file: {exc}"]) from None
    digest = hashlib.sha256(raw).hexdigest()[:24]
    if fmt == "auto":
        fmt = "locomo" if text.lstrip().startswith("[") else "jsonl"
    if fmt == "locomo":
        try:
            data = json.loads(text)
        except (json.JSONDecodeError, RecursionError) as exc:
            detail = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
            raise ImportFileError(str(file), [f"not valid JSON: {detail}"]) from None
        if not is_locomo(data):
            raise ImportFileError(str(file), ["not a LoCoMo file (a list of samples)"])
        records, problems = locomo_records(data, org_id=defaults.org_id)
    else:
        records, problems = decode_lines(text.splitlines())
    if not records and not problems:
        problems.append("the file holds no records")
    plan, found = plan_records(records, defaults)
    return ImportFile(plan=plan, problems=problems + found, digest=digest)


async def import_jsonl(
    memora: Memora,
    path: str | Path,
    *,
    fmt: ImportFormat = "auto",
    defaults: Defaults | None = None,
    dry_run: bool = False,
    infer: bool | None = None,
    state_dir: str | Path | None = None,
    on_interaction: Callable[[], None] | None = None,
) -> ImportCounts:
    """Import a JSONL file (an export, or conversations) or a LoCoMo file into ``memora``.

    Args:
        fmt: ``"jsonl"``, ``"locomo"`` or ``"auto"`` (a JSON array is LoCoMo).
        defaults: Org / user / agent ids for interaction records that omit them.
        dry_run: Check everything (the file and its references to the store) and return what
            would be written; write nothing.
        infer: For conversations: ``False`` stores messages verbatim (raw mode); ``None``
            extracts memories when ``memora`` has an extraction model.
        state_dir: Folder for the resume log of conversations (``<digest>.jsonl``); ``None``
            keeps none (restores and entities are still skipped when already present).
        on_interaction: Called after each interaction written (for progress bars).

    Returns:
        What was written (or, with ``dry_run``, would be).

    Raises:
        ImportFileError: any problem, each with its line number; nothing was written.
    """
    read = await asyncio.to_thread(read_import_file, path, fmt, defaults)
    state_file = Path(state_dir) / f"{read.digest}.jsonl" if state_dir is not None else None
    importer = Importer(memora, read.plan, state_file=state_file, infer=infer)
    problems = read.problems + await importer.check_against_store()
    if problems:
        raise ImportFileError(str(path), sort_problems(problems))
    if dry_run:
        return importer.planned_counts()
    return await importer.run(on_interaction=on_interaction)


async def export_jsonl(
    memora: Memora,
    path: str | Path,
    *,
    org_id: str | None = None,
    user_id: str | None = None,
) -> ExportResult:
    """Write every record of the store (or of ``org_id``, or of its ``user_id``) to ``path``.

    The file is written to ``<path>.tmp`` and renamed, so a failed export leaves no partial
    file. :func:`import_jsonl` restores it exactly (ids, times, sources, history).

    Raises:
        InvalidInputError: ``user_id`` without ``org_id``.
        NotFoundError: no such organization or user.
    """
    lines, result = await export_lines(memora, org_id=org_id, user_id=user_id)
    target = Path(path)
    await asyncio.to_thread(_write_atomically, target, lines)
    return result


async def export_lines(
    memora: Memora, *, org_id: str | None = None, user_id: str | None = None
) -> tuple[str, ExportResult]:
    """The export as JSONL text, with its summary (for writing elsewhere, e.g. stdout)."""
    from memora_engine.errors import InvalidInputError

    if user_id is not None and org_id is None:
        raise InvalidInputError("Exporting one user needs its org_id.")
    records, warnings = await export_records(memora, org_id, user_id)
    lines = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    kinds: dict[str, int] = {}
    for record in records[1:]:
        kinds[record["type"]] = kinds.get(record["type"], 0) + 1
    memories = sum(len(r.get("memories") or []) for r in records)
    return lines, ExportResult(records=kinds, memories=memories, warnings=warnings)


def _write_atomically(target: Path, text: str) -> None:
    temporary = target.with_name(target.name + ".tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, target)
