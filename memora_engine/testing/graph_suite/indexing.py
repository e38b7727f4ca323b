"""Index texts: a raw turn's context is persisted and read back for indexing only."""

from __future__ import annotations

from memora_engine.graph_db.base import BaseGraphDB
from memora_engine.schema.storage import MemoriesAndInteraction, MemoryToStore, MessageIn
from memora_engine.testing.graph_suite.support import T0, GraphSuiteBase, World

__all__ = ["IndexTextTests"]

MESSAGES = [
    MessageIn(role="user", content="When is the charity run?"),
    MessageIn(role="assistant", content="December 15th."),
]
#: What :func:`memora_engine.indexing.raw_turn_index_text` gives the raw turn at position 1.
EXPECTED = f"[{T0.day} {T0:%B %Y}] user: When is the charity run?\nassistant: December 15th."


def _write() -> MemoriesAndInteraction:
    return MemoriesAndInteraction(
        interaction=MESSAGES,
        interaction_date=T0,
        memories=[
            MemoryToStore(memory="December 15th.", source_msg_block_pos=[1]),
            MemoryToStore(
                memory="The charity run is on December 15th", source_msg_block_pos=[0, 1]
            ),
        ],
    )


class IndexTextTests(GraphSuiteBase):
    async def test_index_text_is_kept_for_indexing_reads_only(
        self, graph_db: BaseGraphDB, world: World
    ) -> None:
        """If this fails, check the store writes NewMemory.index_text with the memory and
        returns it from list_memories_for_indexing only (every other read leaves it None)."""
        write = await graph_db.prepare_interaction_write(
            world.org_id, world.agent_id, world.user_id, _write()
        )
        prepared = {m.memory: m.index_text for m in write.memories}
        assert prepared == {"December 15th.": EXPECTED, "The charity run is on December 15th": None}
        await graph_db.commit_interaction_write(write)
        indexed = {m.memory: m.index_text for m in await graph_db.list_memories_for_indexing()}
        assert indexed == prepared
        org_only = await graph_db.list_memories_for_indexing(org_id=world.org_id)
        assert {m.memory: m.index_text for m in org_only} == prepared
        reads = await graph_db.get_all_user_memories(world.org_id, world.user_id)
        assert len(reads) == 2
        interaction = await graph_db.get_interaction(
            world.org_id, world.user_id, write.interaction_id
        )
        for memory in [*reads, *interaction.memories]:
            assert memory.index_text is None
            assert (await graph_db.get_user_memory(
                world.org_id, world.user_id, memory.memory_id
            )).index_text is None  # fmt: skip

    async def test_index_text_survives_a_metadata_edit(
        self, graph_db: BaseGraphDB, world: World
    ) -> None:
        """If this fails, check a metadata edit leaves the stored index text alone."""
        await graph_db.save_interaction_with_memories(
            world.org_id, world.agent_id, world.user_id, _write()
        )
        (raw,) = [
            m
            for m in await graph_db.get_all_user_memories(world.org_id, world.user_id)
            if m.memory == "December 15th."
        ]
        await graph_db.update_user_memory_metadata(
            world.org_id, world.user_id, raw.memory_id, {"k": "v"}
        )
        indexed = {m.memory_id: m for m in await graph_db.list_memories_for_indexing()}
        assert indexed[raw.memory_id].index_text == EXPECTED
        assert indexed[raw.memory_id].metadata == {"k": "v"}
