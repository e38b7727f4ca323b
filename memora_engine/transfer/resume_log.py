"""The resume log of an import's conversations: one JSON line per saved (or pending) line.

``{"line": 7, "interaction_id": "..."}`` marks file line 7 as saved; ``"pending": true`` marks
an id chosen for a batch before it was written (see :mod:`~memora_engine.transfer.raw_batches`).
Each append is fsynced, so the log never claims a save the store may lack.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["ResumeLog"]


@dataclass
class ResumeLog:
    """What earlier runs of the same import saved, and appending to it.

    ``path=None`` keeps no log (every method is then a no-op).

    Examples:
        >>> log = ResumeLog(Path("imports/ab12.jsonl"))  # doctest: +SKIP
        >>> log.load()  # lines saved by earlier runs  # doctest: +SKIP
        {3, 4}
        >>> log.append([(5, "a1b2c3")])  # doctest: +SKIP
    """

    path: Path | None
    #: Ids chosen for lines of a batch that no run logged as saved.
    pending: dict[int, str] = field(default_factory=dict)
    #: Whether a log existed before this run.
    started_before: bool = False

    def load(self) -> set[int]:
        """Read the log (creating an empty one): the saved lines; fills :attr:`pending`."""
        if self.path is None:
            return set()
        done: set[int] = set()
        if self.path.exists():
            self.started_before = True
            for line in self.path.read_text(encoding="utf-8").splitlines():
                try:
                    entry = json.loads(line)
                    number, interaction_id = int(entry["line"]), str(entry["interaction_id"])
                except (ValueError, KeyError, TypeError):
                    continue
                if entry.get("pending"):
                    self.pending[number] = interaction_id
                else:
                    done.add(number)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.touch()
        return done

    def is_empty(self) -> bool:
        """Whether no run has logged anything yet."""
        return self.path is None or not self.path.exists() or self.path.stat().st_size == 0

    def append(self, entries: list[tuple[int, str]], *, pending: bool = False) -> None:
        """Append ``(line, interaction_id)`` entries with one fsync."""
        if self.path is None or not entries:
            return
        extra = {"pending": True} if pending else {}
        text = "".join(
            json.dumps({"line": number, "interaction_id": iid, **extra}) + "\n"
            for number, iid in entries
        )
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
