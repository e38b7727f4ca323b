"""LoCoMo helpers for the retrieval bench: loading, memory units, evidence cleaning, metrics.

The data (CC BY-NC 4.0, Maharana et al., ACL 2024) is read from ``../shared/data/locomo/`` or
``$MEMORA_LOCOMO_PATH``; it is never copied into this repository.
"""

from __future__ import annotations

import json
import os
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PATH = REPO_ROOT.parent / "shared" / "data" / "locomo" / "locomo10.json"
CATEGORIES = {1: "multi-hop", 2: "temporal", 3: "open-domain", 4: "single-hop"}
KS = (5, 10, 20)


@dataclass(frozen=True)
class Unit:
    """One retrievable memory: its text as indexed, its time, and the dia_ids it covers."""

    text: str
    obtained_at: datetime
    dia_ids: tuple[str, ...]


@dataclass(frozen=True)
class Question:
    """One QA item of categories 1-4 with usable evidence."""

    question: str
    category: int
    evidence: tuple[str, ...]


@dataclass
class Conversation:
    """One LoCoMo sample: its turns and observations as units, and its questions."""

    sample_id: str
    turns: list[Unit] = field(default_factory=list)
    observations: list[Unit] = field(default_factory=list)
    questions: list[Question] = field(default_factory=list)


def locomo_path() -> Path:
    """Where the data is: ``$MEMORA_LOCOMO_PATH`` or ``../shared/data/locomo/locomo10.json``."""
    return Path(os.environ.get("MEMORA_LOCOMO_PATH") or DEFAULT_PATH)


def parse_session_date(raw: str) -> datetime:
    """``"1:56 pm on 8 May, 2023"`` -> an aware datetime (UTC)."""
    return datetime.strptime(raw.strip(), "%I:%M %p on %d %B, %Y").replace(tzinfo=timezone.utc)


def day_label(when: datetime) -> str:
    """The date as memory text shows it: ``8 May 2023``."""
    return f"{when.day} {when:%B %Y}"


def turn_text(date: datetime, speaker: str, text: str, caption: str | None) -> str:
    """Memory text of a raw turn: ``[8 May 2023] Caroline: ...`` (+ what an image showed)."""
    line = f"[{day_label(date)}] {speaker}: {text.strip()}"
    if caption:
        line += f" ({speaker} shared {caption.strip()}.)"
    return line


def observation_text(date: datetime, fact: str) -> str:
    """Memory text of an observation: ``[8 May 2023] Caroline attended ...``."""
    return f"[{day_label(date)}] {fact.strip()}"


def clean_evidence(raw: Iterable[object], valid: set[str]) -> tuple[str, ...]:
    """Split and normalise evidence strings; keep ids that exist (see the data README)."""
    ids: list[str] = []
    for item in raw:
        for token in re.split(r"[;,\s]+", str(item)):
            match = re.fullmatch(r"D:?(\d+):0*(\d+)", token)
            if match:
                dia_id = f"D{int(match.group(1))}:{int(match.group(2))}"
                if dia_id in valid and dia_id not in ids:
                    ids.append(dia_id)
    return tuple(ids)


def load(path: Path | None = None) -> list[Conversation]:
    """Load the 10 conversations with units built and questions cleaned."""
    samples = json.loads((path or locomo_path()).read_text(encoding="utf-8"))
    out = []
    for sample in samples:
        conv = sample["conversation"]
        numbers = sorted(
            int(m.group(1)) for k in conv for m in [re.fullmatch(r"session_(\d+)", k)] if m
        )
        item = Conversation(sample_id=sample["sample_id"])
        dates: dict[int, datetime] = {}
        for n in numbers:
            date = parse_session_date(conv[f"session_{n}_date_time"])
            dates[n] = date
            for turn in conv[f"session_{n}"]:
                text = turn_text(date, turn["speaker"], turn["text"], turn.get("blip_caption"))
                item.turns.append(Unit(text, date, (turn["dia_id"],)))
        valid = {d for unit in item.turns for d in unit.dia_ids}
        for key, per_speaker in sample["observation"].items():
            n = int(re.fullmatch(r"session_(\d+)_observation", key).group(1))  # type: ignore[union-attr]
            for facts in per_speaker.values():
                for fact, ref in facts:
                    ids = clean_evidence(ref if isinstance(ref, list) else [ref], valid)
                    item.observations.append(Unit(observation_text(dates[n], fact), dates[n], ids))
        for qa in sample["qa"]:
            if qa.get("category") not in CATEGORIES:
                continue
            evidence = clean_evidence(qa.get("evidence", []), valid)
            if evidence:
                item.questions.append(Question(qa["question"], qa["category"], evidence))
        out.append(item)
    return out


def coverage(evidence: Sequence[str], retrieved: Iterable[str]) -> tuple[float, bool, bool]:
    """(recall, all, any) of ``evidence`` within the retrieved dia_ids."""
    got = set(retrieved)
    hit = sum(e in got for e in evidence)
    return hit / len(evidence), hit == len(evidence), hit > 0


def score(
    questions: Sequence[Question], retrieved_units: Sequence[Sequence[Unit]]
) -> dict[str, dict[str, float]]:
    """Mean recall/all/any at each k, per category number and overall ("all")."""
    sums: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    counts: dict[str, int] = defaultdict(int)
    for question, units in zip(questions, retrieved_units, strict=True):
        for group in (str(question.category), "all"):
            counts[group] += 1
            for k in KS:
                ids = [d for unit in units[:k] for d in unit.dia_ids]
                recall, full, some = coverage(question.evidence, ids)
                sums[group][f"recall@{k}"] += recall
                sums[group][f"all@{k}"] += float(full)
                sums[group][f"any@{k}"] += float(some)
                words = sum(len(unit.text.split()) for unit in units[:k])
                sums[group][f"words@{k}"] += words
    result = {}
    for group, metrics in sums.items():
        result[group] = {name: value / counts[group] for name, value in sorted(metrics.items())}
        result[group]["n"] = counts[group]
    return dict(sorted(result.items()))
