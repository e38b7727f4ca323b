"""``MemoraStore``: a LangGraph ``BaseStore`` whose items are Memora memories.

Mapping (see the class docstring for the details):

* namespace ``(org_id, user_id)`` or ``(org_id, user_id, agent_id)``; ``(org_id,)`` is accepted
  as a search prefix (organization scope);
* ``put`` stores the value's text as one memory (raw, no LLM) whose id is derived from the key,
  so ``get`` / ``put`` / ``delete`` by key work; a second ``put`` of a key supersedes the memory
  (Memora keeps the old version in its history chain). With ``infer=True`` a put is saved as an
  interaction and memories are extracted from it;
* the value's top-level fields that fit Memora's metadata (strings, numbers, bools, lists of
  those, within the limits) are the memory's metadata (:mod:`.store_filters`);
* ``search`` is Memora's hybrid search (``query``) or a newest-first listing (no query), with
  ``limit`` / ``offset`` / ``filter`` (on the item values; pushed down into Memora's search as
  a metadata filter, so ``limit`` holds);
* TTLs and ``index=False`` are not supported and raise.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.store.base import (
    BaseStore,
    GetOp,
    Item,
    ListNamespacesOp,
    Op,
    PutOp,
    Result,
    SearchItem,
    SearchOp,
    validate_op_namespace,
)

from memora_engine import Memora, MemorySearchScope
from memora_engine.errors import InvalidInputError, NotFoundError
from memora_engine.schema import (
    ContraryMemoryToStore,
    MemoriesAndInteraction,
    Memory,
    MemoryToStore,
)
from memora_integrations.langchain._runtime import (
    VALID_ID,
    MemoraBridge,
    MemoraLike,
    ambient_config,
    ensure_tenant,
    optional_kwargs,
    save_conversation,
)
from memora_integrations.langgraph.memory import thread_interaction_id
from memora_integrations.langgraph.store_filters import (
    check_store_filter,
    matches_filter,
    pushdown_filter,
    value_metadata,
)
from memora_integrations.langgraph.store_values import (
    STORE_ROLE,
    item_record,
    key_memory_id,
    plain_value,
    put_record,
    value_text,
)

__all__ = ["STORE_ROLE", "MemoraStore", "key_memory_id", "matches_filter", "value_text"]

#: Largest page the store asks the engine for (the engine's list limit).
MAX_PAGE_LIMIT = 10_000
_DEFAULT_TEXT_FIELDS = ("content", "memory", "text")


def _checked_id(value: str, name: str) -> str:
    """Namespace labels must be Memora ids; raise before anything is written."""
    if not VALID_ID.fullmatch(value):
        raise InvalidInputError(
            f"{name} {value[:80]!r} is not a valid Memora id: use 1-64 letters, digits, '_' "
            "or '-', starting with a letter or digit."
        )
    return value


class MemoraStore(BaseStore):
    """A LangGraph ``BaseStore`` backed by Memora (``batch`` / ``abatch``).

    Namespaces are ``(org_id, user_id)`` (the ``default_agent_id`` agent) or
    ``(org_id, user_id, agent_id)``. Search also takes ``(org_id,)`` (every user of the org).
    Orgs, users and agents are created on first ``put`` (ids as names) unless
    ``create_missing=False``; reads of unknown ones return nothing.

    Items written by ``put`` return their exact value and key. Memories learned elsewhere
    (conversations, tools) appear with ``key = memory_id`` and ``value = {"content": text,
    **metadata}``.

    Metadata and filters: a ``put`` stores the value's top-level fields that fit Memora's
    metadata (a string of up to 512 characters, a finite number, a bool, or a list of up to
    32 of those; key names Memora accepts; at most 31 fields and 8 KB in all, in value order)
    as the memory's metadata, so Memora's own filters see them too. Other fields (objects,
    ``null``, long strings) are kept in the item's value only. A search ``filter`` (LangGraph's
    ``$eq/$ne/$gt/$gte/$lt/$lte``) is pushed down into Memora's search or listing, so a page
    holds ``limit`` matching items when there are that many; each item is then checked with
    LangGraph's semantics (see :mod:`.store_filters`).
    ``created_at`` is the first version's date, ``updated_at`` the newest version's.

    Args:
        memora: A ``Memora`` or ``SyncMemora``.
        default_agent_id: Agent for two-part namespaces.
        infer: ``False`` (default): one raw memory per put. ``True``: each put is saved as an
            interaction (``value["messages"]`` if present, else the text as a user message)
            and memories are extracted (an extraction model is needed); keys then name
            interactions and ``get`` finds extracted memories by their memory id only.
        text_fields: Value fields holding the text to remember (``put(index=[...])``
            overrides them per item).
        create_missing: Create orgs / users / agents on ``put``.

    Examples:
        >>> store = MemoraStore(memora)
        >>> store.put(("acme", "jake"), "diet", {"content": "Jake is vegetarian"})
        >>> store.get(("acme", "jake"), "diet").value
        {'content': 'Jake is vegetarian'}
        >>> store.search(("acme", "jake"), query="what does Jake eat?", limit=3)
        >>> graph = builder.compile(store=store)   # nodes / tools: get_store()
    """

    supports_ttl = False

    def __init__(
        self,
        memora: MemoraLike,
        *,
        default_agent_id: str = "langgraph-store",
        infer: bool = False,
        text_fields: Sequence[str] = _DEFAULT_TEXT_FIELDS,
        create_missing: bool = True,
    ) -> None:
        self._bridge = MemoraBridge(memora)
        self.default_agent_id = _checked_id(default_agent_id, "default_agent_id")
        self.infer = infer
        self.text_fields = tuple(text_fields)
        self.create_missing = create_missing

    # ------------------------------------------------------------------ batch
    def batch(self, ops: Iterable[Op]) -> list[Result]:
        """Run the operations in order (through Memora's sync portal)."""
        listed, config = list(ops), ambient_config()
        return self._bridge.run(lambda core: self._run_ops(core, listed, config))

    async def abatch(self, ops: Iterable[Op]) -> list[Result]:
        """Run the operations in order (natively async)."""
        listed, config = list(ops), ambient_config()
        return await self._bridge.arun(lambda core: self._run_ops(core, listed, config))

    async def _run_ops(
        self, core: Memora, ops: list[Op], config: RunnableConfig | None
    ) -> list[Result]:
        for op in ops:  # validate everything before running anything
            validate_op_namespace(op)
            self._check_op(op)
        results: list[Result] = []
        for op in ops:
            if isinstance(op, GetOp):
                results.append(await self._get(core, op))
            elif isinstance(op, SearchOp):
                results.append(await self._search(core, op))
            elif isinstance(op, PutOp):
                await self._put(core, op, config)
                results.append(None)
            else:
                results.append(await self._list_namespaces(core, op))
        return results

    def _check_op(self, op: Op) -> None:
        if isinstance(op, PutOp):
            self._split(op.namespace)
            if op.ttl is not None:
                raise InvalidInputError("MemoraStore does not support TTLs; pass ttl=None.")
            if op.index is False:
                raise InvalidInputError(
                    "MemoraStore indexes every memory for search; index=False is not supported."
                )
        elif isinstance(op, GetOp):
            self._split(op.namespace)
        elif isinstance(op, SearchOp):
            if not op.namespace_prefix:
                raise InvalidInputError(
                    "MemoraStore searches need at least (org_id,) as namespace_prefix."
                )
            if len(op.namespace_prefix) > 1:
                self._split(op.namespace_prefix)
            check_store_filter(op.filter)
            if op.limit < 1 or op.offset < 0 or op.limit + op.offset > MAX_PAGE_LIMIT:
                raise InvalidInputError(
                    f"search needs limit >= 1, offset >= 0, limit + offset <= {MAX_PAGE_LIMIT}."
                )
        elif not isinstance(op, ListNamespacesOp):
            raise InvalidInputError(f"Unknown store operation {type(op).__name__}.")

    def _split(self, namespace: tuple[str, ...]) -> tuple[str, str, str]:
        if len(namespace) not in (2, 3):
            raise InvalidInputError(
                f"MemoraStore namespaces are (org_id, user_id) or (org_id, user_id, agent_id); "
                f"got {namespace!r}."
            )
        org_id = _checked_id(namespace[0], "org_id (namespace[0])")
        user_id = _checked_id(namespace[1], "user_id (namespace[1])")
        agent_id = self.default_agent_id
        if len(namespace) == 3:
            agent_id = _checked_id(namespace[2], "agent_id (namespace[2])")
        return org_id, user_id, agent_id

    def _namespace_of(self, memory: Memory) -> tuple[str, ...]:
        if memory.agent_id == self.default_agent_id:
            return (memory.org_id, memory.user_id)
        return (memory.org_id, memory.user_id, memory.agent_id)

    # ------------------------------------------------------------------ get
    async def _head(
        self, core: Memora, org_id: str, user_id: str, agent_id: str, key: str
    ) -> list[Memory] | None:
        """The key's memory chain, newest version first (``None``: no such key)."""
        candidates = [key_memory_id(org_id, user_id, agent_id, key)]
        with contextlib.suppress(ValueError):
            candidates.append(str(uuid.UUID(key)))
        for memory_id in candidates:
            try:
                chain = await core.get_memory_history(org_id, user_id, memory_id)
            except NotFoundError:
                continue
            if chain:
                return chain
        return None

    async def _get(self, core: Memora, op: GetOp) -> Item | None:
        org_id, user_id, agent_id = self._split(op.namespace)
        chain = await self._head(core, org_id, user_id, agent_id, op.key)
        if chain is None:
            return None
        head = chain[0]
        created = min(m.obtained_at for m in chain)
        record = item_record(head)
        value = record[1] if record else plain_value(head)
        return Item(
            value=value,
            key=op.key,
            namespace=op.namespace,
            created_at=created,
            updated_at=head.obtained_at,
        )

    # ------------------------------------------------------------------ put / delete
    async def _put(self, core: Memora, op: PutOp, config: RunnableConfig | None) -> None:
        org_id, user_id, agent_id = self._split(op.namespace)
        if op.value is None:
            await self._delete(core, org_id, user_id, agent_id, op.key)
            return
        fields = op.index if isinstance(op.index, list) else self.text_fields
        text = value_text(op.value, fields)
        if self.create_missing:
            await ensure_tenant(core, org_id, user_id, agent_id)
        if self.infer:
            await self._put_interaction(core, org_id, user_id, agent_id, op, text, config)
            return
        found = await self._head(core, org_id, user_id, agent_id, op.key)
        record = {"role": STORE_ROLE, "content": put_record(op.key, op.value)}
        metadata = value_metadata(op.value)
        if found is None:
            memory = MemoryToStore(
                memory=text,
                source_msg_block_pos=[0],
                memory_id=key_memory_id(org_id, user_id, agent_id, op.key),
                metadata=metadata,
            )
            write = MemoriesAndInteraction.model_validate(
                {"interaction": [record], "memories": [memory]}
            )
        else:  # a new version: Memora links old -> new and keeps the history
            update = ContraryMemoryToStore(
                memory=text,
                source_msg_block_pos=[0],
                existing_contrary_memory_id=found[0].memory_id,
                metadata=metadata,  # the new value's fields, never the old version's
            )
            write = MemoriesAndInteraction.model_validate(
                {"interaction": [record], "contrary_memories": [update]}
            )
        await core.restore_interaction(org_id, user_id, agent_id, write)

    async def _put_interaction(
        self,
        core: Memora,
        org_id: str,
        user_id: str,
        agent_id: str,
        op: PutOp,
        text: str,
        config: RunnableConfig | None,
    ) -> None:
        assert op.value is not None
        messages = op.value.get("messages")
        conversation = (
            [{"role": str(m["role"]), "content": str(m["content"])} for m in messages]
            if isinstance(messages, list)
            else [{"role": "user", "content": text}]
        )
        await save_conversation(
            core,
            org_id,
            user_id,
            agent_id,
            conversation,
            thread_interaction_id(op.key),
            infer=True,
            config=config,
            metadata=value_metadata(op.value) or None,
        )

    async def _delete(
        self, core: Memora, org_id: str, user_id: str, agent_id: str, key: str
    ) -> None:
        chain = await self._head(core, org_id, user_id, agent_id, key)
        for memory in chain or []:
            await core.delete_memory(org_id, user_id, memory.memory_id)

    # ------------------------------------------------------------------ search
    def _item(self, memory: Memory, score: float | None) -> SearchItem:
        record = item_record(memory)
        key, value = record if record else (memory.memory_id, plain_value(memory))
        return SearchItem(
            namespace=self._namespace_of(memory),
            key=key,
            value=value,
            created_at=memory.obtained_at,
            updated_at=memory.obtained_at,
            score=score,
        )

    async def _search(self, core: Memora, op: SearchOp) -> list[SearchItem]:
        """One page of items: the filter runs inside Memora (a superset of LangGraph's), then
        each item is checked; only when the check drops some is a deeper page fetched."""
        prefix = op.namespace_prefix
        org_id = _checked_id(prefix[0], "org_id (namespace[0])")
        want = op.offset + op.limit
        pushed = pushdown_filter(op.filter)
        fetch = want
        while True:
            try:
                if op.query:
                    hits = await self._query(core, prefix, org_id, op.query, fetch, pushed)
                else:
                    listed = await self._listing(core, prefix, org_id, fetch, pushed)
                    hits = [(m, None) for m in listed]
            except NotFoundError:
                return []
            items = [self._item(m, s) for m, s in hits]
            items = [i for i in items if matches_filter(i.value, op.filter)]
            if len(items) >= want or len(hits) < fetch or fetch >= MAX_PAGE_LIMIT:
                return items[op.offset : want]
            fetch = min(MAX_PAGE_LIMIT, fetch * 4)

    async def _query(
        self,
        core: Memora,
        prefix: tuple[str, ...],
        org_id: str,
        query: str,
        fetch: int,
        pushed: dict[str, Any] | None,
    ) -> list[tuple[Memory, float | None]]:
        if len(prefix) == 1:
            batches = await core.search_memories_as_batch(
                org_id,
                [query],
                memory_search_scope=MemorySearchScope.ORGANIZATION,
                limit=fetch,
                **optional_kwargs(filter=pushed),
            )
            return [(m, None) for m in batches[0]]
        org_id, user_id, agent_id = self._split(prefix)
        scored = await core.search_memories_with_scores(
            org_id,
            user_id,
            [query],
            agent_id=agent_id if len(prefix) == 3 else None,
            search_across_agents=len(prefix) == 2,
            limit=fetch,
            **optional_kwargs(filter=pushed),
        )
        return [(m, s) for m, s in scored]

    async def _listing(
        self,
        core: Memora,
        prefix: tuple[str, ...],
        org_id: str,
        fetch: int,
        pushed: dict[str, Any] | None,
    ) -> list[Memory]:
        if len(prefix) == 1:
            users = [u.user_id for u in await core.list_users(org_id)]
            agent_id = None
        else:
            _, user_id, agent = self._split(prefix)
            users, agent_id = [user_id], (agent if len(prefix) == 3 else None)
        out: list[Memory] = []
        for user_id in users:
            out.extend(
                await core.list_memories(
                    org_id,
                    user_id,
                    agent_id=agent_id,
                    limit=fetch,
                    **optional_kwargs(filter=pushed),
                )
            )
        out.sort(key=lambda m: (m.obtained_at, m.memory_id), reverse=True)
        return out[:fetch]

    # ------------------------------------------------------------------ namespaces
    async def _list_namespaces(self, core: Memora, op: ListNamespacesOp) -> list[tuple[str, ...]]:
        found: set[tuple[str, ...]] = set()
        for org in await core.list_organizations():
            for user in await core.list_users(org.org_id):
                memories = await core.list_memories(
                    org.org_id, user.user_id, include_history=True, limit=MAX_PAGE_LIMIT
                )
                found.update(self._namespace_of(m) for m in memories)
        if op.max_depth is not None:
            found = {ns[: op.max_depth] for ns in found}
        kept = sorted(ns for ns in found if _matches_all(ns, op.match_conditions or ()))
        return kept[op.offset : op.offset + op.limit]


def _matches_all(namespace: tuple[str, ...], conditions: Iterable[Any]) -> bool:
    for condition in conditions:
        path = tuple(condition.path)
        if len(path) > len(namespace):
            return False
        part = (
            namespace[: len(path)] if condition.match_type == "prefix" else namespace[-len(path) :]
        )
        if path and not all(p == "*" or p == n for p, n in zip(path, part, strict=True)):
            return False
    return True
