"""LoCoMo recall lab: every recall technique of issue #15, scored on dev / held-out / all.

Candidate lists come from the real stack (MiniLM dense vectors, BM25 with Qdrant's IDF from
``QdrantEdgeDB``; see ``_recall_lab.py``) and are cached under ``/tmp/memora-locomo-cache``, so
each variant (fusion, context-aware dense vectors, time boost, MMR, neighbours) is re-scored
offline in well under a second. The same fusion functions the engine uses are applied
(``memora_engine.vector_db.fusion``, ``memora_engine.rerank``, ``memora_engine.temporal``).
Defaults are chosen on conversations 0-4 (dev) only; 5-9 are held out.

Usage (from the repo root)::

    python bench/locomo_recall.py             # all variants; ~3 min the first time, then ~20 s
    python bench/locomo_recall.py --no-timing # skip the real-store latency stage

Writes ``bench/results/locomo_recall.json`` and prints one Markdown table (the README's).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _locomo as locomo
import _recall_lab as lab
import numpy as np

from memora_engine.rerank import mmr_order, word_overlap
from memora_engine.temporal import resolve_time_range
from memora_engine.vector_db.fusion import boost_in_range, fuse_dbsf, fuse_rrf

RESULTS = Path(__file__).resolve().parent / "results" / "locomo_recall.json"
SHARED_MODEL = locomo.REPO_ROOT.parent / "shared" / "models" / "all-MiniLM-L6-v2-onnx"
DEV: set[str] = set()  # sample ids of conversations 0-4, filled on load
Hits = list[tuple[int, float]]
Ranker = Callable[[lab.Corpus, int], list[int]]


def dense_hits(corpus: lab.Corpus, qi: int, space: str, depth: int) -> Hits:
    """Top-``depth`` cosine hits of question ``qi`` against one dense space."""
    assert corpus.query_dense is not None
    scores = corpus.dense[space] @ corpus.query_dense[qi]
    top = np.argsort(-scores)[:depth]
    return [(int(i), float(scores[i])) for i in top]


def make_ranker(
    *,
    spaces: Sequence[tuple[str, float]] = (("plain", 1.0),),
    sparse_weight: float = 0.95,
    fusion: str = "rrf",
    k: int = 2,
    depth: int = 40,
    time_boost: float | None = None,
    slack_days: int = 0,
    mmr: float | None = None,
    mmr_dense: bool = False,
    mode: str = "hybrid",
    sparse_lists: Sequence[tuple[str, float]] | None = None,
) -> Ranker:
    """One retrieval configuration as a function (corpus, question index) -> ranked unit ids."""

    def rank(corpus: lab.Corpus, qi: int) -> list[int]:
        lists: list[tuple[Hits, float]] = []
        if mode in ("hybrid", "dense"):
            lists += [(dense_hits(corpus, qi, s, depth), w) for s, w in spaces]
        if mode in ("hybrid", "sparse"):
            for which, weight in sparse_lists or (("plain", sparse_weight),):
                source = corpus.sparse_hits if which == "plain" else corpus.sparse_ctx_hits
                lists.append((source[qi][:depth], weight))
        if fusion == "rrf":
            fused = fuse_rrf([h for h, _ in lists], k=k, weights=[w for _, w in lists])
        else:
            fused = fuse_dbsf([h for h, _ in lists])
        if time_boost is not None:
            now = max(u.obtained_at for u in corpus.units) + timedelta(days=1)
            found = resolve_time_range(QUESTIONS[corpus.sample_id][qi], now)
            if found is not None:
                window = found.widened(timedelta(days=slack_days))
                fused = boost_in_range(
                    fused, lambda i: corpus.units[i].obtained_at, window, factor=time_boost
                )
        ids = [i for i, _ in fused]
        if mmr is not None:
            vectors = corpus.dense[spaces[0][0]]

            def similar(a: int, b: int) -> float:
                if mmr_dense:
                    return float(vectors[a] @ vectors[b])
                return word_overlap(corpus.units[a].text, corpus.units[b].text)

            ids = mmr_order(fused[:30], similar, lambda_=mmr) + ids[30:]
        return ids

    return rank


QUESTIONS: dict[str, list[str]] = {}


def evaluate(corpora: Sequence[lab.Corpus], rank: Ranker) -> dict:
    """Scores (recall/any/all at 5/10/20, per category) on dev, held-out and all."""
    per: dict[str, tuple[list, list]] = {"dev": ([], []), "heldout": ([], [])}
    for corpus, conv in zip(corpora, CONVERSATIONS, strict=True):
        split = "dev" if corpus.sample_id in DEV else "heldout"
        for qi, question in enumerate(conv.questions):
            ids = rank(corpus, qi)
            per[split][0].append(question)
            per[split][1].append([corpus.units[i] for i in ids])
    out = {name: locomo.score(q, u) for name, (q, u) in per.items()}
    out["all"] = locomo.score(per["dev"][0] + per["heldout"][0], per["dev"][1] + per["heldout"][1])
    return out


CONVERSATIONS: list[locomo.Conversation] = []


def neighbour_scores(corpora: Sequence[lab.Corpus], rank: Ranker, n: int, k: int = 10) -> dict:
    """Recall@k when each of the top-k turns is returned with its +-n session neighbours."""
    totals: dict[str, list[float]] = {"dev": [0, 0, 0], "heldout": [0, 0, 0]}
    for corpus, conv in zip(corpora, CONVERSATIONS, strict=True):
        split = "dev" if corpus.sample_id in DEV else "heldout"
        for qi, question in enumerate(conv.questions):
            top = rank(corpus, qi)[:k]
            shown: list[int] = []
            for i in top:
                for j in range(i - n, i + n + 1):
                    inside = 0 <= j < len(corpus.units)
                    if inside and corpus.session[j] == corpus.session[i] and j not in shown:
                        shown.append(j)
            ids = [d for j in shown for d in corpus.units[j].dia_ids]
            recall, _, _ = locomo.coverage(question.evidence, ids)
            words = sum(len(corpus.units[j].text) for j in shown) / 4
            totals[split][0] += recall
            totals[split][1] += words
            totals[split][2] += 1
    out = {s: {"recall": t[0] / t[2], "tokens": t[1] / t[2]} for s, t in totals.items()}
    n_all = totals["dev"][2] + totals["heldout"][2]
    out["all"] = {
        "recall": (totals["dev"][0] + totals["heldout"][0]) / n_all,
        "tokens": (totals["dev"][1] + totals["heldout"][1]) / n_all,
    }
    return out


def tokens_at_10(corpora: Sequence[lab.Corpus], rank: Ranker) -> float:
    """Mean estimated tokens (characters / 4) of the top 10 memory texts."""
    total, count = 0.0, 0
    for corpus, conv in zip(corpora, CONVERSATIONS, strict=True):
        for qi in range(len(conv.questions)):
            total += sum(len(corpus.units[i].text) for i in rank(corpus, qi)[:10]) / 4
            count += 1
    return total / count


def overhead_ms(corpora: Sequence[lab.Corpus], rank: Ranker, base: Ranker) -> float:
    """p50 extra Python time of ``rank`` over ``base`` (same candidate lists), in ms."""
    corpus = corpora[0]
    extra = []
    for qi in range(min(100, len(corpus.sparse_hits))):
        start = time.perf_counter()
        rank(corpus, qi)
        mid = time.perf_counter()
        base(corpus, qi)
        extra.append((mid - start) - (time.perf_counter() - mid))
    return max(0.0, statistics.median(extra) * 1000)


def variants() -> dict[str, dict[str, Ranker]]:
    """Every configuration tried, per corpus (turns get the context-aware dense spaces)."""
    common = {
        "dense only": make_ranker(mode="dense"),
        "BM25 only": make_ranker(mode="sparse"),
        "hybrid RRF k=2 (previous default)": make_ranker(),
        "  RRF k=1": make_ranker(k=1),
        "  RRF k=5": make_ranker(k=5),
        "  RRF k=60": make_ranker(k=60),
        "  depth 20": make_ranker(depth=20),
        "  depth 100": make_ranker(depth=100),
        "  weights dense 1 / BM25 1.5": make_ranker(sparse_weight=1.5),
        "  weights dense 1.5 / BM25 1": make_ranker(spaces=(("plain", 1.5),), sparse_weight=1.0),
        "  DBSF (score-aware)": make_ranker(fusion="dbsf"),
        "  + time boost x2": make_ranker(time_boost=2.0),
        "  + time boost x2, +7 d slack": make_ranker(time_boost=2.0, slack_days=7),
        "  + time boost x4, +7 d slack": make_ranker(time_boost=4.0, slack_days=7),
        "  + time filter-first (x1000)": make_ranker(time_boost=1000.0, slack_days=7),
        "  + MMR lambda 0.7 (top 30)": make_ranker(mmr=0.7),
        "  + MMR lambda 0.9 (top 30)": make_ranker(mmr=0.9),
        "  + MMR lambda 0.7, dense similarity": make_ranker(mmr=0.7, mmr_dense=True),
    }
    ctx = {
        "context dense (prev turn) + BM25": make_ranker(spaces=(("prev", 1.0),)),
        "context dense (prev) only": make_ranker(spaces=(("prev", 1.0),), mode="dense"),
        "plain + context dense + BM25 (3 lists)": make_ranker(
            spaces=(("plain", 1.0), ("prev", 1.0))
        ),
        "BM25 on context text only": make_ranker(mode="sparse", sparse_lists=(("prev", 1.0),)),
        "context dense + context BM25": make_ranker(
            spaces=(("prev", 1.0),), sparse_lists=(("prev", 0.95),)
        ),
        "plain dense + context BM25": make_ranker(sparse_lists=(("prev", 0.95),)),
        "4 lists: dense + BM25, plain + context": make_ranker(
            spaces=(("plain", 1.0), ("prev", 1.0)), sparse_lists=(("plain", 0.95), ("prev", 0.95))
        ),
        "context dense + BM25 plain + context": make_ranker(
            spaces=(("prev", 1.0),), sparse_lists=(("plain", 0.95), ("prev", 0.95))
        ),
        "plain dense + BM25 plain + context": make_ranker(
            sparse_lists=(("plain", 0.95), ("prev", 0.95))
        ),
        "4 lists RRF k=5": make_ranker(
            spaces=(("plain", 1.0), ("prev", 1.0)),
            sparse_lists=(("plain", 0.95), ("prev", 0.95)),
            k=5,
        ),
        "4 lists + time boost x2, +7 d": make_ranker(
            spaces=(("plain", 1.0), ("prev", 1.0)),
            sparse_lists=(("plain", 0.95), ("prev", 0.95)),
            time_boost=2.0,
            slack_days=7,
        ),
        "4 lists + time boost x4, +7 d": make_ranker(
            spaces=(("plain", 1.0), ("prev", 1.0)),
            sparse_lists=(("plain", 0.95), ("prev", 0.95)),
            time_boost=4.0,
            slack_days=7,
        ),
        "4 lists RRF k=5 + time boost x4, +7 d": make_ranker(
            spaces=(("plain", 1.0), ("prev", 1.0)),
            sparse_lists=(("plain", 0.95), ("prev", 0.95)),
            k=5,
            time_boost=4.0,
            slack_days=7,
        ),
        "3 lists (BM25 plain + context) RRF k=5 + time boost x4, +7 d": make_ranker(
            sparse_lists=(("plain", 0.95), ("prev", 0.95)), k=5, time_boost=4.0, slack_days=7
        ),
        "ctx(prev) RRF k=1": make_ranker(spaces=(("prev", 1.0),), k=1),
        "ctx(prev) RRF k=5": make_ranker(spaces=(("prev", 1.0),), k=5),
        "ctx(prev) weights 1.5 / 1": make_ranker(spaces=(("prev", 1.5),), sparse_weight=1.0),
        "ctx(prev) weights 1 / 1.5": make_ranker(spaces=(("prev", 1.0),), sparse_weight=1.5),
        "ctx(prev) DBSF": make_ranker(spaces=(("prev", 1.0),), fusion="dbsf"),
        "ctx(prev) + time boost x2, +7 d": make_ranker(
            spaces=(("prev", 1.0),), time_boost=2.0, slack_days=7
        ),
        "ctx(prev) + time boost x4, +7 d": make_ranker(
            spaces=(("prev", 1.0),), time_boost=4.0, slack_days=7
        ),
    }
    return {"turns": {**common, **ctx}, "observations": common}


def row(name: str, scores: dict, tokens: float, extra_ms: float) -> dict:
    flat = {"config": name, "tokens@10": round(tokens), "extra_ms_p50": round(extra_ms, 3)}
    for split in ("dev", "heldout", "all"):
        a = scores[split]["all"]
        for m in ("recall@5", "recall@10", "recall@20", "any@10", "all@10"):
            flat[f"{split} {m}"] = round(a[m], 4)
        for cat in ("1", "2", "3", "4"):
            if cat in scores[split]:
                flat[f"{split} cat{cat} recall@10"] = round(scores[split][cat]["recall@10"], 4)
                flat[f"{split} cat{cat} all@10"] = round(scores[split][cat]["all@10"], 4)
                flat[f"{split} cat{cat} any@10"] = round(scores[split][cat]["any@10"], 4)
    return flat


async def store_latency(conversations: Sequence[locomo.Conversation]) -> dict[str, float]:
    """p50 of one-query hybrid search on QdrantEdgeDB (2 conversations of turns indexed)."""
    from memora_engine.embeddings import Bm25SparseEncoder, default_dense_encoder
    from memora_engine.schema.models import Memory
    from memora_engine.vector_db.base import MemorySearchScope
    from memora_engine.vector_db.qdrant_edge import QdrantEdgeDB

    with tempfile.TemporaryDirectory(prefix="memora-lat-") as tmp:
        store = QdrantEdgeDB(
            Path(tmp) / "s",
            dense_encoder=default_dense_encoder(),
            sparse_encoder=Bm25SparseEncoder(),
        )
        await store.setup()
        for conv in conversations[:2]:
            await store.upsert_memories(
                [
                    Memory(
                        org_id="locomo",
                        user_id=conv.sample_id,
                        agent_id="bench",
                        memory_id=str(uuid.uuid4()),
                        memory=u.text,
                        obtained_at=u.obtained_at,
                    )
                    for u in conv.turns
                ]
            )
        times = []
        questions = [q.question for q in conversations[0].questions][:150]
        for q in questions:
            start = time.perf_counter()
            await store.search_memory(
                q, MemorySearchScope.USER, "locomo", conversations[0].sample_id
            )
            times.append(time.perf_counter() - start)
        await store.close()
    return {"search_p50_ms": round(statistics.median(times[10:]) * 1000, 2)}


async def run(args: argparse.Namespace) -> dict:
    if not os.environ.get("MEMORA_EMBEDDING_MODEL_DIR") and SHARED_MODEL.is_dir():
        os.environ["MEMORA_EMBEDDING_MODEL_DIR"] = str(SHARED_MODEL)
    CONVERSATIONS.extend(locomo.load())
    DEV.update(c.sample_id for c in CONVERSATIONS[:5])
    for conv in CONVERSATIONS:
        QUESTIONS[conv.sample_id] = [q.question for q in conv.questions]
    corpora = await lab.load_corpora(CONVERSATIONS, lab.raw_turns())
    report: dict = {"load_average_start": os.getloadavg(), "results": {}, "neighbours": {}}
    base = make_ranker()
    for kind, configs in variants().items():
        rows = []
        for name, rank in configs.items():
            scores = evaluate(corpora[kind], rank)
            rows.append(
                row(
                    name,
                    scores,
                    tokens_at_10(corpora[kind], rank),
                    overhead_ms(corpora[kind], rank, base),
                )
            )
            r = rows[-1]
            print(
                f"{kind:<12} {name:<42} dev {r['dev recall@10']:.3f}  held-out "
                f"{r['heldout recall@10']:.3f}  all {r['all recall@10']:.3f}",
                flush=True,
            )
        report["results"][kind] = rows
    for name, rank in (
        ("hybrid", base),
        ("context dense (prev) + BM25", make_ranker(spaces=(("prev", 1.0),))),
    ):
        for n in (1, 2):
            report["neighbours"][f"{name}, +-{n}"] = neighbour_scores(corpora["turns"], rank, n)
    if args.timing:
        report["latency"] = await store_latency(CONVERSATIONS)
    report["load_average_end"] = os.getloadavg()
    return report


DEFAULTS = {
    ("turns", "hybrid RRF k=2 (previous default)"): "engine default today",
    ("observations", "hybrid RRF k=2 (previous default)"): "engine default today",
}


def best_on_dev(report: dict) -> dict[str, str]:
    """The configuration with the best dev recall@10, per corpus (held-out never looked at)."""
    return {
        kind: max(rows, key=lambda r: r["dev recall@10"])["config"]
        for kind, rows in report["results"].items()
    }


def markdown_table(report: dict, best: dict[str, str] | None = None) -> str:
    """The README table: one row per configuration, held-out metrics in detail."""
    best = best or {}
    lines = [
        "| memories | configuration | r@10 dev / held-out / all | held-out r@5 / r@20 "
        "| held-out any@10 / all@10 | held-out r@10 cat 1 / 2 / 3 / 4 | tokens@10 | extra p50 |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for kind, rows in report["results"].items():
        for r in rows:
            name = r["config"].strip()
            if (kind, r["config"]) in DEFAULTS:
                name = "**hybrid RRF k=2, 40 candidates (engine default)**"
            if best.get(kind) == r["config"]:
                name = f"**{name}** (best on dev)"
            cats = " / ".join(f"{r.get(f'heldout cat{c} recall@10', 0):.2f}" for c in "1234")
            lines.append(
                f"| {kind} | {name} | {r['dev recall@10']:.3f} / **{r['heldout recall@10']:.3f}**"
                f" / {r['all recall@10']:.3f} | {r['heldout recall@5']:.3f} / "
                f"{r['heldout recall@20']:.3f} | {r['heldout any@10']:.3f} / "
                f"{r['heldout all@10']:.3f} | {cats} | {r['tokens@10']} | "
                f"{r['extra_ms_p50']:.2f} ms |"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--no-timing", dest="timing", action="store_false")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--table", type=Path, help="only print the table of a results JSON")
    args = parser.parse_args()
    if args.table:
        report = json.loads(args.table.read_text(encoding="utf-8"))
        print(markdown_table(report, best_on_dev(report)))
        return
    start = time.perf_counter()
    report = asyncio.run(run(args))
    report["seconds"] = round(time.perf_counter() - start, 1)
    report["best_on_dev"] = best_on_dev(report)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2, default=str) + "\n", encoding="utf-8")
    print(markdown_table(report, report["best_on_dev"]))
    print(json.dumps({k: v for k, v in report.items() if k not in ("results",)}, indent=1))
    print(f"wrote {args.out} in {report['seconds']}s")


if __name__ == "__main__":
    main()
