"""``MemoraMemory`` against the behaviour of LlamaIndex's own ``ChatMemoryBuffer``.

The cases follow LlamaIndex's ``ChatMemoryBuffer`` tests (token limit, ``initial_token_count``,
``get(initial_tokens)`` called positionally, ``set``, ``from_defaults`` arguments). Each one runs
on both memories and compares: a difference is a bug, or a choice documented in the README.
Recall is off here (``recall=False``) so only the short-term history is compared; recall under
a token budget has its own test.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from llama_index.core.base.llms.types import ChatMessage, MessageRole
from llama_index.core.memory import ChatMemoryBuffer
from llama_index.core.memory.types import BaseMemory
from llama_index.core.utils import get_tokenizer

from memora_engine import InvalidInputError, SyncMemora
from memora_integrations.llama_index import MemoraMemory
from tests.integrations.langchain_support import open_sync, seed_tenant

TOKENS = get_tokenizer()
USER = ChatMessage(role=MessageRole.USER, content="first message")
ANSWER = ChatMessage(role=MessageRole.ASSISTANT, content="first answer")
USER_2 = ChatMessage(role=MessageRole.USER, content="second message")
ANSWER_2 = ChatMessage(role=MessageRole.ASSISTANT, content="second answer")


def tokens(message: ChatMessage) -> int:
    return len(TOKENS(str(message.content)))


@pytest.fixture(scope="module")
def memora(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SyncMemora]:
    facade = open_sync(tmp_path_factory.mktemp("parity"))  # raw mode: no model at all
    seed_tenant(facade, "acme", "jake", "bot")
    yield facade
    facade.close()


Factory = Callable[..., BaseMemory]


@pytest.fixture(params=["ChatMemoryBuffer", "MemoraMemory"])
def make(request: pytest.FixtureRequest, memora: SyncMemora) -> Factory:
    if request.param == "ChatMemoryBuffer":
        return ChatMemoryBuffer.from_defaults

    def memora_memory(**kwargs: Any) -> BaseMemory:
        return MemoraMemory.from_defaults(
            memora,
            org_id="acme",
            user_id="jake",
            agent_id="bot",
            session_id=f"parity-{uuid.uuid4().hex[:12]}",
            recall=False,
            **kwargs,
        )

    return memora_memory


def contents(messages: list[ChatMessage]) -> list[str | None]:
    return [m.content for m in messages]


def test_positional_int_input_is_ignored(make: Factory) -> None:
    """Issue 13 bug 9: ``get(5)`` (LlamaIndex's buffer tests call it so) must not crash."""
    memory = make(token_limit=1000, chat_history=[USER])
    assert contents(memory.get(5)) == ["first message"]
    assert contents(memory.get(50)) == contents(memory.get())


def test_initial_tokens_below_the_limit_keep_the_history(make: Factory) -> None:
    memory = make(token_limit=1000, chat_history=[USER])
    assert contents(memory.get(initial_token_count=5)) == ["first message"]


def test_initial_tokens_above_the_limit_raise_value_error(make: Factory) -> None:
    memory = make(token_limit=49, chat_history=[USER])
    with pytest.raises(ValueError, match="Initial token count exceeds token limit"):
        memory.get(initial_token_count=50)


def test_no_room_left_keeps_the_latest_message(make: Factory) -> None:
    memory = make(token_limit=5, chat_history=[USER])
    assert contents(memory.get(initial_token_count=5)) == ["first message"]


def test_room_for_the_last_turn_drops_the_first(make: Factory) -> None:
    limit = 5
    initial = limit - tokens(USER) - tokens(ANSWER)
    memory = make(token_limit=limit, chat_history=[USER, ANSWER, USER_2, ANSWER_2])
    assert contents(memory.get(initial_token_count=initial)) == [
        "second message",
        "second answer",
    ]


def test_room_for_all_but_the_first_message_never_opens_on_an_answer(make: Factory) -> None:
    limit = 10
    initial = limit - (tokens(ANSWER) + tokens(USER_2) + tokens(ANSWER_2))
    memory = make(token_limit=limit, chat_history=[USER, ANSWER, USER_2, ANSWER_2])
    assert contents(memory.get(initial_token_count=initial)) == [
        "second message",
        "second answer",
    ]


def test_token_limit_trims_and_get_all_keeps_everything(make: Factory) -> None:
    memory = make(token_limit=5, chat_history=[USER])
    memory.put(USER)
    assert len(memory.get()) == 2
    memory.put(USER)
    memory.put(USER)
    assert len(memory.get()) == 2
    assert len(memory.get_all()) == 4
    memory.put(ChatMessage(role=MessageRole.USER, content="test message2"))
    assert memory.get()[-1].content == "test message2"
    assert len(memory.get()) == 2


def test_set_replaces_the_history(make: Factory) -> None:
    memory = make(chat_history=[USER])
    memory.put(USER)
    assert len(memory.get()) == 2
    memory.set([USER])
    assert len(memory.get()) == 1


def test_unknown_from_defaults_arguments_are_rejected(make: Factory) -> None:
    with pytest.raises(ValueError, match="nexpected"):
        make(token_limit=5, no_such_option=True)


def test_memora_specific_from_defaults_rules(memora: SyncMemora) -> None:
    """Documented choices: ``chat_store`` is refused (Memora is the store); ``chat_store_key``
    is the session id; ``llm`` sets the default token limit from its context window."""
    ids = {"org_id": "acme", "user_id": "jake", "agent_id": "bot"}
    with pytest.raises(InvalidInputError, match="chat_store"):
        MemoraMemory.from_defaults(memora, **ids, chat_store=object())
    keyed = MemoraMemory.from_defaults(memora, **ids, chat_store_key="store-key-1")
    assert keyed.session_id == "store-key-1"

    class _Metadata:
        context_window = 4000

    class _Llm:
        metadata = _Metadata()

    assert MemoraMemory.from_defaults(memora, **ids, llm=_Llm()).token_limit == 3000


def test_recalled_memories_count_against_the_token_limit(memora: SyncMemora) -> None:
    ids = {"org_id": "acme", "user_id": "jake", "agent_id": "bot"}
    memora.save_or_update_interaction_and_memories(
        "acme", "jake", "bot", [{"role": "user", "content": "Jake keeps bees in his garden."}]
    )
    roomy = MemoraMemory.from_defaults(memora, **ids, session_id="budget-1", token_limit=2000)
    roomy.put(ChatMessage(role=MessageRole.USER, content="What about the bees?"))
    assert "bees in his garden" in str(roomy.get()[0].content)  # recalled into the system message
    roomy.token_limit = 8  # the same memory with a tight budget
    window = roomy.get()
    assert all("garden" not in str(m.content) for m in window)  # the memories do not fit
    assert contents(window) == ["What about the bees?"]
