"""MemoraRetriever: the langchain-tests standard suite plus Memora-specific behaviour."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from langchain_core.documents import Document
from langchain_tests.integration_tests import RetrieversIntegrationTests

from memora_engine import InvalidInputError, MemorySearchScope, SyncMemora
from memora_integrations.langchain import MemoraRetriever
from tests.integrations.langchain_support import open_async, open_sync, seed_tenant

FOOD_FACTS = [
    "Jake's favourite food is ramen.",
    "Jake loves spicy food, especially Thai curry.",
    "Jake cannot eat peanuts; his food must be peanut free.",
    "Jake's favourite dessert food is cheesecake.",
    "Jake cooks Italian food every Sunday.",
]


@pytest.fixture(scope="module")
def shared_memora(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SyncMemora]:
    memora = open_sync(tmp_path_factory.mktemp("retriever"))
    seed_tenant(memora, "acme", "jake", "bot")
    seed_tenant(memora, "other", "jake", "bot")  # same user id in another org: must never leak
    memora.save_or_update_interaction_and_memories(
        "acme", "jake", "bot", [{"role": "user", "content": fact} for fact in FOOD_FACTS]
    )
    memora.save_or_update_interaction_and_memories(
        "other", "jake", "bot", [{"role": "user", "content": "Jake's favourite food is pizza."}]
    )
    yield memora
    memora.close()


class TestMemoraRetrieverStandard(RetrieversIntegrationTests):
    @pytest.fixture(autouse=True)
    def _bind_memora(self, shared_memora: SyncMemora) -> None:
        self._memora = shared_memora

    @property
    def retriever_constructor(self) -> type[MemoraRetriever]:
        return MemoraRetriever

    @property
    def retriever_constructor_params(self) -> dict[str, Any]:
        return {"memora": self._memora, "org_id": "acme", "user_id": "jake", "k": 2}

    @property
    def retriever_query_example(self) -> str:
        return "What food does Jake like?"


def test_documents_carry_memory_metadata(shared_memora: SyncMemora) -> None:
    retriever = MemoraRetriever(memora=shared_memora, org_id="acme", user_id="jake", k=5)
    docs = retriever.invoke("peanut allergy")
    assert docs[0].page_content == "Jake cannot eat peanuts; his food must be peanut free."
    meta = docs[0].metadata
    assert docs[0].id == meta["memory_id"]
    assert {meta["org_id"], meta["user_id"], meta["agent_id"]} == {"acme", "jake", "bot"}
    assert meta["interaction_id"]
    assert datetime.fromisoformat(meta["obtained_at"]).tzinfo is not None
    assert meta["message_sources"] == [
        {"role": "user", "content": docs[0].page_content, "msg_position": 2}
    ]
    scores = [d.metadata["score"] for d in docs]
    assert scores == sorted(scores, reverse=True)
    assert all("pizza" not in d.page_content for d in docs)  # other org never leaks


def test_organization_scope_and_agent_filter(shared_memora: SyncMemora) -> None:
    org_wide = MemoraRetriever(
        memora=shared_memora, org_id="other", scope=MemorySearchScope.ORGANIZATION, k=3
    )
    docs = org_wide.invoke("favourite food")
    assert [d.page_content for d in docs] == ["Jake's favourite food is pizza."]
    other_agent = MemoraRetriever(
        memora=shared_memora,
        org_id="acme",
        user_id="jake",
        agent_id="nobody",
        search_across_agents=False,
    )
    assert other_agent.invoke("favourite food") == []


def test_bad_configuration_raises(shared_memora: SyncMemora) -> None:
    with pytest.raises(InvalidInputError):
        MemoraRetriever(memora=shared_memora, org_id="acme")  # USER scope needs a user
    retriever = MemoraRetriever(memora=shared_memora, org_id="acme", user_id="jake")
    with pytest.raises(InvalidInputError):
        retriever.invoke("food", k=0)
    with pytest.raises(InvalidInputError):
        MemoraRetriever(memora=shared_memora, org_id="bad org!", user_id="jake").invoke("x")


async def test_native_async_with_async_core(tmp_path: Path) -> None:
    memora = await open_async(tmp_path / "a")
    try:
        await memora.create_organization("Acme", org_id="acme")
        await memora.create_user("acme", "Jake", user_id="jake")
        await memora.create_agent("acme", "Bot", agent_id="bot")
        await memora.save_or_update_interaction_and_memories(
            "acme", "jake", "bot", [{"role": "user", "content": "I moved to Lisbon in May."}]
        )
        retriever = MemoraRetriever(memora=memora, org_id="acme", user_id="jake", k=1)
        docs = await retriever.ainvoke("where does Jake live?")
        assert isinstance(docs[0], Document)
        assert docs[0].page_content == "I moved to Lisbon in May."
    finally:
        await memora.close()
