"""Executes a validated :class:`~memora_engine.transfer.records.ImportPlan` through ``Memora``.

Only ``Memora``'s public methods are used. Order: check every reference against the store
(nothing written if any fails), then entities
(with their creation times, when given), then restored interactions (each memory after the one
it supersedes, so history links are recreated; then ``updated_at`` and the last agent are set),
then conversations through ``save_or_update_interaction_and_memories`` (new ones in raw mode
in batches through ``restore_interactions``). Memory text is written
as given, placeholders included. Every step skips what is already present, so a run
that stopped half way continues when started again.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from memora_engine.bulk_api import RestoreItem
from memora_engine.errors import NotFoundError
from memora_engine.ids import new_short_id
from memora_engine.schema.models import Interaction
from memora_engine.transfer.raw_batches import message_batches, raw_restore_item
from memora_engine.transfer.records import (
    ImportFileError,
    ImportPlan,
    InteractionRecord,
    MemoryRecord,
    build_write,
)
from memora_engine.transfer.resume_log import ResumeLog

if TYPE_CHECKING:
    from memora_engine.memora import Memora

__all__ = ["ImportCounts", "Importer"]

_Key = tuple[str, str, str]


@dataclass
class ImportCounts:
    """What an import did (or, in a dry run, found)."""

    organizations_created: int = 0
    organizations_present: int = 0
    users_created: int = 0
    users_present: int = 0
    agents_created: int = 0
    agents_present: int = 0
    interactions_restored: int = 0
    interactions_present: int = 0
    conversations_saved: int = 0
    conversations_already_imported: int = 0
    memories_restored: int = 0
    memories_extracted: int = 0


def _key(record: InteractionRecord) -> _Key:
    return (record.org_id or "", record.user_id or "", record.interaction_id or "")


def _pairs(record: InteractionRecord) -> list[tuple[str, str]]:
    return [(m.role, m.content) for m in record.messages]


class Importer:
    """One import run. Call :meth:`check_against_store`, then (with no problems) :meth:`run`.

    ``state_file`` logs the conversations already saved, so a second run resumes; ``None``
    keeps no log (restores and entities are still skipped when present). New conversations in
    raw mode are written in batches (:mod:`~memora_engine.transfer.raw_batches`).
    """

    def __init__(
        self, memora: Memora, plan: ImportPlan, *, state_file: Path | None, infer: bool | None
    ) -> None:
        self.memora = memora
        self.plan = plan
        self.state_file = state_file
        self.infer = infer
        self.counts = ImportCounts()
        self._present_orgs: set[str] = set()
        self._present_users: set[tuple[str, str]] = set()
        self._present_agents: set[tuple[str, str]] = set()
        self._present_interactions: set[_Key] = set()
        self._external_memories: set[str] = set()
        self._log = ResumeLog(state_file)

    # ------------------------------------------------------------------ validation
    async def check_against_store(self) -> list[str]:
        """Check every reference the file does not define itself; fill the dry-run counts.

        Returns:
            Every problem (missing orgs / users / agents / memories, an agent of another
            organization, a memory id already in use, a restored interaction that exists with
            other messages), each naming its line; empty when the import can run.
        """
        memora = self.memora
        plan = self.plan
        problems: list[str] = []
        file_orgs = {o.org_id for o in plan.orgs}
        file_users = {(u.org_id, u.user_id) for u in plan.users}
        file_agents = {(a.org_id, a.agent_id) for a in plan.agents}
        for org in plan.orgs:
            if await _exists(memora.get_organization(org.org_id)):
                self._present_orgs.add(org.org_id)
        for user in plan.users:
            if user.org_id in self._present_orgs and await _exists(
                memora.get_user(user.org_id, user.user_id)
            ):
                self._present_users.add((user.org_id, user.user_id))
        for agent in plan.agents:
            if agent.org_id in self._present_orgs and await _exists(
                memora.get_agent(agent.org_id, agent.agent_id)
            ):
                self._present_agents.add((agent.org_id, agent.agent_id))
        store_orgs: set[str] = set(self._present_orgs)
        store_users: set[tuple[str, str]] = set(self._present_users)
        store_agents: set[tuple[str, str]] = set(self._present_agents)

        async def org_known(org_id: str) -> bool:
            if org_id in file_orgs or org_id in store_orgs:
                return True
            if await _exists(memora.get_organization(org_id)):
                store_orgs.add(org_id)
                return True
            return False

        async def user_known(org_id: str, user_id: str) -> bool:
            if (org_id, user_id) in file_users or (org_id, user_id) in store_users:
                return True
            if await _exists(memora.get_user(org_id, user_id)):
                store_users.add((org_id, user_id))
                return True
            return False

        async def agent_known(org_id: str, agent_id: str) -> bool:
            if (org_id, agent_id) in file_agents or (org_id, agent_id) in store_agents:
                return True
            if await _exists(memora.get_agent(org_id, agent_id)):
                store_agents.add((org_id, agent_id))
                return True
            return False

        for user in plan.users:
            if not await org_known(user.org_id):
                problems.append(f"user {user.user_id}: organization {user.org_id} not found")
        for agent in plan.agents:
            if not await org_known(agent.org_id):
                problems.append(f"agent {agent.agent_id}: organization {agent.org_id} not found")
            elif agent.user_id and not await user_known(agent.org_id, agent.user_id):
                problems.append(f"agent {agent.agent_id}: user {agent.user_id} not found")
        in_file_memories = {m.memory_id for _, r in plan.restores for m in r.memories or []}
        taken = (
            await memora.memory_ids_in_use(sorted(in_file_memories)) if in_file_memories else set()
        )
        for number, record in plan.interactions:
            org_id, user_id, agent_id = record.org_id or "", record.user_id or "", record.agent_id
            where = f"line {number}"
            if not await org_known(org_id):
                problems.append(f"{where}: organization {org_id} not found")
                continue
            if not await user_known(org_id, user_id):
                problems.append(f"{where}: user {user_id} not found in organization {org_id}")
                continue
            # Memories may name a deleted agent (kept as is); the interaction's agent must exist.
            if agent_id and not await agent_known(org_id, agent_id):
                problems.append(f"{where}: agent {agent_id} not found in organization {org_id}")
            for memory_agent in sorted({m.agent_id for m in record.memories or [] if m.agent_id}):
                if memory_agent != agent_id and not await agent_known(org_id, memory_agent):
                    problems.append(
                        f"{where}: a memory's agent {memory_agent} not found in organization "
                        f"{org_id}"
                    )
            in_store = (org_id, user_id) in store_users
            present: set[str] = set()
            if record.interaction_id and in_store:
                stored = await _get_interaction(
                    memora, org_id, user_id, record.interaction_id, with_memories=True
                )
                if stored is not None and record.is_restore:
                    present = {m.memory_id for m in stored.memories}
                    pairs = [(m.role, m.content) for m in stored.messages]
                    if pairs != _pairs(record):
                        problems.append(
                            f"{where}: interaction {record.interaction_id} already exists with "
                            "other messages"
                        )
                    self._present_interactions.add(_key(record))
                if stored is None and not record.is_restore:
                    problems.append(f"{where}: interaction {record.interaction_id} not found")
            elif record.interaction_id and not record.is_restore:
                problems.append(f"{where}: interaction {record.interaction_id} not found")
            for memory in record.memories or []:
                if memory.memory_id in taken and memory.memory_id not in present:
                    problems.append(
                        f"{where}: memory_id {memory.memory_id} is already used by another "
                        "memory in this store"
                    )
                older = memory.supersedes
                if older is None or older in in_file_memories:
                    continue
                if in_store and await _exists(memora.get_memory(org_id, user_id, older)):
                    self._external_memories.add(older)
                else:
                    problems.append(
                        f"{where}: memory {memory.memory_id} supersedes unknown {older}"
                    )
        counts = self.counts
        counts.organizations_present = len(self._present_orgs)
        counts.users_present = len(self._present_users)
        counts.agents_present = len(self._present_agents)
        counts.interactions_present = len(self._present_interactions)
        return problems

    def planned_counts(self) -> ImportCounts:
        """What :meth:`run` would write (after :meth:`check_against_store`), for a dry run."""
        plan, counts = self.plan, self.counts
        restores = [r for _, r in plan.restores]
        return ImportCounts(
            organizations_created=len(plan.orgs) - counts.organizations_present,
            organizations_present=counts.organizations_present,
            users_created=len(plan.users) - counts.users_present,
            users_present=counts.users_present,
            agents_created=len(plan.agents) - counts.agents_present,
            agents_present=counts.agents_present,
            interactions_restored=len(restores) - counts.interactions_present,
            interactions_present=counts.interactions_present,
            conversations_saved=len(plan.conversations),
            memories_restored=sum(
                len(r.memories or []) for r in restores if _key(r) not in self._present_interactions
            ),
        )

    # ------------------------------------------------------------------ writing
    async def run(self, on_interaction: Callable[[], None] | None = None) -> ImportCounts:
        """Write the plan (after :meth:`check_against_store`) and return the counts."""
        tick = on_interaction or (lambda: None)
        memora = self.memora
        counts = self.counts
        for org in self.plan.orgs:
            if org.org_id not in self._present_orgs:
                await memora.create_organization(
                    org.org_name, org_id=org.org_id, created_at=org.created_at
                )
                counts.organizations_created += 1
        for user in self.plan.users:
            if (user.org_id, user.user_id) not in self._present_users:
                await memora.create_user(
                    user.org_id, user.user_name, user_id=user.user_id, created_at=user.created_at
                )
                counts.users_created += 1
        for agent in self.plan.agents:
            if (agent.org_id, agent.agent_id) not in self._present_agents:
                await memora.create_agent(
                    agent.org_id,
                    agent.agent_label,
                    agent.user_id,
                    agent_id=agent.agent_id,
                    created_at=agent.created_at,
                )
                counts.agents_created += 1
        await self._restore(tick)
        await self._conversations(tick)
        return counts

    async def _restore(self, tick: Callable[[], None]) -> None:
        written: set[str] = set(self._external_memories)
        deferred: dict[_Key, list[MemoryRecord]] = {}
        records = sorted(
            (r for _, r in self.plan.restores),
            key=lambda r: (r.created_at is None, r.created_at, r.interaction_id),
        )
        by_key = {_key(r): r for r in records}
        for record in records:
            key = _key(record)
            todo = list(record.memories or [])
            exists = key in self._present_interactions
            if exists:
                stored = await _get_interaction(self.memora, *key, with_memories=True)
                have = {m.memory_id for m in stored.memories} if stored else set()
                written |= have
                todo = [m for m in todo if m.memory_id not in have]
            ready = [m for m in todo if m.supersedes is None or m.supersedes in written]
            deferred[key] = [m for m in todo if m not in ready]
            if not exists:
                created = record.created_at or record.updated_at
                write = build_write(record, ready, created)
                org_id, user_id, interaction_id = key
                await self.memora.restore_interaction(
                    org_id, user_id, record.agent_id or "", write, interaction_id=interaction_id
                )
                self.counts.interactions_restored += 1
            elif ready:
                await self._update(record, ready)
            written |= {m.memory_id for m in ready}
            self.counts.memories_restored += len(ready)
            tick()
        while any(deferred.values()):
            progressed = False
            for key, pending in deferred.items():
                ready = [m for m in pending if m.supersedes in written]
                if not ready:
                    continue
                await self._update(by_key[key], ready)
                written |= {m.memory_id for m in ready}
                self.counts.memories_restored += len(ready)
                deferred[key] = [m for m in pending if m not in ready]
                progressed = True
            if not progressed:
                raise ImportFileError("import", ["history links could not be ordered"])
        for record in records:
            stored = await _get_interaction(self.memora, *_key(record), with_messages=False)
            if stored is None:
                continue
            target = record.updated_at or record.created_at
            if (target is not None and stored.updated_at != target) or (
                stored.agent_id != record.agent_id
            ):
                await self._update(record, [])

    async def _update(self, record: InteractionRecord, memories: list[MemoryRecord]) -> None:
        org_id, user_id, interaction_id = _key(record)
        when = record.updated_at or record.created_at
        await self.memora.restore_interaction(
            org_id,
            user_id,
            record.agent_id or "",
            build_write(record, memories, when),
            interaction_id=interaction_id,
            update=True,
        )

    async def _conversations(self, tick: Callable[[], None]) -> None:
        conversations = self.plan.conversations
        if not conversations:
            return
        done = self._log.load()
        raw = self.infer is False or (self.infer is None and self.memora.extraction_model is None)
        check_adoption = True
        batch: list[tuple[int, InteractionRecord]] = []
        for number, record in conversations:
            if number in done:
                self.counts.conversations_already_imported += 1
                tick()
                continue
            if check_adoption and record.interaction_id is None:
                check_adoption = False
                adopted = None if number in self._log.pending else await self._adopt(record)
                if adopted is not None:
                    self._log.append([(number, adopted)])
                    self.counts.conversations_already_imported += 1
                    tick()
                    continue
            if raw and record.interaction_id is None:
                batch.append((number, record))
                continue
            for run in message_batches(batch):
                await self._save_raw_batch(run, tick)
            batch = []
            await self._save_one(number, record)
            tick()
        for run in message_batches(batch):
            await self._save_raw_batch(run, tick)

    async def _save_one(self, number: int, record: InteractionRecord) -> None:
        org_id, user_id, agent_id = record.org_id or "", record.user_id or "", record.agent_id
        before = 0
        if record.interaction_id is not None:
            old = await _get_interaction(
                self.memora, org_id, user_id, record.interaction_id, with_memories=True
            )
            before = len(old.memories) if old else 0
        interaction_id, _ = await self.memora.save_or_update_interaction_and_memories(
            org_id,
            user_id,
            agent_id or "",
            record.messages_as_dicts(),
            interaction_id=record.interaction_id,
            current_datetime=record.updated_at or record.created_at,
            infer=self.infer,
            metadata=record.metadata,
        )
        self._log.append([(number, interaction_id)])
        saved = await _get_interaction(
            self.memora, org_id, user_id, interaction_id, with_memories=True
        )
        self.counts.memories_extracted += (len(saved.memories) if saved else 0) - before
        self.counts.conversations_saved += 1

    async def _save_raw_batch(
        self, batch: list[tuple[int, InteractionRecord]], tick: Callable[[], None]
    ) -> None:
        """New raw-mode conversations in one :meth:`Memora.restore_interactions` call (see
        :mod:`~memora_engine.transfer.raw_batches`): ids logged as pending first."""
        todo: list[tuple[int, RestoreItem]] = []
        for number, record in batch:
            interaction_id = self._log.pending.get(number)
            if interaction_id is not None and await _get_interaction(
                self.memora, record.org_id or "", record.user_id or "", interaction_id,
                with_messages=False,
            ):  # fmt: skip
                self._log.append([(number, interaction_id)])  # committed just before a crash
                self.counts.conversations_already_imported += 1
                tick()
                continue
            todo.append((number, raw_restore_item(record, interaction_id or new_short_id())))
        if not todo:
            return
        logged = [(number, str(item.interaction_id)) for number, item in todo]
        self._log.append(logged, pending=True)
        await self.memora.restore_interactions([item for _, item in todo])
        self._log.append(logged)
        for _, item in todo:
            self.counts.memories_extracted += len(item.record.memories)
            self.counts.conversations_saved += 1
            tick()

    async def _adopt(self, record: InteractionRecord) -> str | None:
        """A save that finished just before a crash, not yet logged: adopt the newest match."""
        if self.state_file is None or (self._log.is_empty() and not self._log.started_before):
            return None
        newest = await self.memora.list_interactions(
            record.org_id or "", record.user_id or "", with_memories=False, limit=1
        )
        if not newest:
            return None
        candidate = newest[0]
        same = [(m.role, m.content) for m in candidate.messages] == _pairs(record)
        same_time = record.created_at is None or candidate.created_at == record.created_at
        return candidate.interaction_id if same and same_time else None


async def _exists(lookup: Awaitable[object]) -> bool:
    try:
        await lookup
    except NotFoundError:
        return False
    return True


async def _get_interaction(
    memora: Memora,
    org_id: str,
    user_id: str,
    interaction_id: str,
    *,
    with_messages: bool = True,
    with_memories: bool = False,
) -> Interaction | None:
    try:
        return await memora.get_interaction(
            org_id,
            user_id,
            interaction_id,
            with_messages=with_messages,
            with_memories=with_memories,
        )
    except NotFoundError:
        return None
