"""End-to-end flows of ``Memora`` on the embedded stores with the real local embedding model.

The extraction model is scripted (the one allowed double); storage, search, resolution and
parsing are real.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from memora_engine import Memora, MemorySearchScope
from tests.scripted_provider import ScriptedProvider, extraction

T0 = datetime(2024, 12, 1, 9, 0, tzinfo=timezone.utc)

FIRST_CHAT = [
    {"role": "user", "content": "My wife Sarah is due in December, and I'm allergic to peanuts."},
    {"role": "assistant", "content": "Congratulations! I'll remember the peanut allergy."},
]


@dataclass
class Tenant:
    org_id: str
    user_id: str
    agent_id: str


@pytest.fixture
async def tenant(memora: Memora) -> Tenant:
    org = await memora.graph.create_organization("Acme")
    user = await memora.graph.create_user(org.org_id, "Jake")
    agent = await memora.graph.create_agent(org.org_id, "Jarvis", user.user_id)
    return Tenant(org.org_id, user.user_id, agent.agent_id)


async def _save_first_chat(memora: Memora, provider: ScriptedProvider, t: Tenant) -> str:
    provider.extractions.append(
        extraction(
            ("#user_#id#'s wife Sarah is due in December 2024", [0]),
            ("#user_#id# is allergic to peanuts", [0, 1]),
        )
    )
    interaction_id, when = await memora.save_or_update_interaction_and_memories(
        t.org_id, t.user_id, t.agent_id, FIRST_CHAT, current_datetime=T0
    )
    assert when == T0
    return interaction_id


async def test_save_then_search_finds_memory_with_sources_and_names(
    memora: Memora, provider: ScriptedProvider, tenant: Tenant
) -> None:
    """If this fails, check extraction -> persist -> hybrid search -> graph resolution."""
    await _save_first_chat(memora, provider, tenant)
    assert provider.counts == {"extraction": 1}  # nothing related yet: no comparison call
    found = await memora.search_memories_as_one(
        tenant.org_id, tenant.user_id, ["Does Jake have any food allergies?"]
    )
    assert found[0].memory == "Jake is allergic to peanuts"
    assert [s.msg_position for s in found[0].message_sources] == [0, 1]
    assert found[0].message_sources[1].role == "assistant"
    assert found[0].obtained_at == T0
    wife = await memora.search_memories_as_one(tenant.org_id, tenant.user_id, ["Who is my wife?"])
    assert wife[0].memory == "Jake's wife Sarah is due in December 2024"


async def test_update_appends_messages_and_sources_index_the_new_list(
    memora: Memora, provider: ScriptedProvider, tenant: Tenant
) -> None:
    """If this fails, check the append branch of the diff and source positions on update."""
    iid = await _save_first_chat(memora, provider, tenant)
    longer = [*FIRST_CHAT, {"role": "user", "content": "Also, my dog Rex needs walks at 7am."}]
    provider.extractions.append(extraction(("#user_#id# has a dog named Rex", [2])))
    later = T0 + timedelta(hours=2)
    again, when = await memora.save_or_update_interaction_and_memories(
        tenant.org_id,
        tenant.user_id,
        tenant.agent_id,
        longer,
        interaction_id=iid,
        current_datetime=later,
    )
    assert (again, when) == (iid, later)
    # The update prompt carried the earlier memories so only new facts are asked for.
    interaction = await memora.graph.get_interaction(tenant.org_id, tenant.user_id, iid)
    assert interaction.messages_as_dicts() == longer
    assert interaction.updated_at == later
    assert interaction.created_at == T0
    dog = await memora.search_memories_as_one(tenant.org_id, tenant.user_id, ["pet dog"])
    assert dog[0].memory == "Jake has a dog named Rex"
    assert [s.content for s in dog[0].message_sources] == [longer[2]["content"]]
    assert provider.counts["extraction"] == 2
    assert provider.counts["comparison"] == 1


async def test_diverging_update_truncates_but_keeps_old_memories(
    memora: Memora, provider: ScriptedProvider, tenant: Tenant
) -> None:
    """If this fails, check the truncate branch: memories stay, losing only message links."""
    iid = await _save_first_chat(memora, provider, tenant)
    edited = [{"role": "user", "content": "Actually let's talk about my garden."}]
    provider.extractions.append(extraction())
    await memora.save_or_update_interaction_and_memories(
        tenant.org_id,
        tenant.user_id,
        tenant.agent_id,
        edited,
        interaction_id=iid,
        current_datetime=T0 + timedelta(minutes=5),
    )
    interaction = await memora.graph.get_interaction(tenant.org_id, tenant.user_id, iid)
    assert interaction.messages_as_dicts() == edited
    assert len(interaction.memories) == 2
    found = await memora.search_memories_as_one(tenant.org_id, tenant.user_id, ["peanut allergy"])
    assert found[0].memory == "Jake is allergic to peanuts"
    assert found[0].message_sources == []


async def test_contradiction_builds_a_chain_search_returns_newest_history_returns_all(
    memora: Memora, provider: ScriptedProvider, tenant: Tenant
) -> None:
    """If this fails, check comparison mapping, contrary links and head resolution."""
    provider.extractions.append(extraction(("#user_#id# lives in Paris", [0])))
    await memora.save_or_update_interaction_and_memories(
        tenant.org_id,
        tenant.user_id,
        tenant.agent_id,
        [{"role": "user", "content": "I live in Paris."}],
        current_datetime=T0,
    )
    [paris] = await memora.search_memories_as_one(tenant.org_id, tenant.user_id, ["where I live"])

    def contradict(
        stored: list[dict[str, Any]], candidates: list[dict[str, Any]]
    ) -> dict[str, Any]:
        target = next(s for s in stored if "Paris" in s["memory"])
        return {
            "new_memories": [],
            "contrary_memories": [
                {
                    "memory": "#user_#id# moved from Paris to Rome",
                    "source_candidate_pos_id": candidates[0]["POS_ID"],
                    "contradicted_memory_id": target["memory_id"],
                }
            ],
        }

    provider.compare = contradict
    provider.extractions.append(extraction(("#user_#id# lives in Rome", [0])))
    await memora.save_or_update_interaction_and_memories(
        tenant.org_id,
        tenant.user_id,
        tenant.agent_id,
        [{"role": "user", "content": "I moved to Rome last week."}],
        current_datetime=T0 + timedelta(days=30),
    )
    # Searching with words of the OLD memory resolves to the newest version.
    newest = await memora.search_memories_as_one(tenant.org_id, tenant.user_id, ["lives in Paris"])
    assert newest[0].memory == "Jake moved from Paris to Rome"
    assert paris.memory_id not in {m.memory_id for m in newest}
    history = await memora.graph.get_user_memory_history(
        tenant.org_id, tenant.user_id, paris.memory_id
    )
    assert [m.memory for m in history] == ["Jake moved from Paris to Rome", "Jake lives in Paris"]
    assert provider.counts == {"extraction": 2, "comparison": 1}


async def test_redundant_candidates_are_dropped(
    memora: Memora, provider: ScriptedProvider, tenant: Tenant
) -> None:
    """If this fails, check that candidates in neither comparison list are not stored."""
    await _save_first_chat(memora, provider, tenant)
    provider.compare = lambda _s, _c: {"new_memories": [], "contrary_memories": []}
    provider.extractions.append(extraction(("#user_#id# is allergic to peanuts", [0])))
    await memora.save_or_update_interaction_and_memories(
        tenant.org_id,
        tenant.user_id,
        tenant.agent_id,
        [{"role": "user", "content": "Remember, peanuts are dangerous for me."}],
    )
    memories = await memora.graph.get_all_user_memories(tenant.org_id, tenant.user_id)
    assert len(memories) == 2


async def test_rename_changes_recalled_text(
    memora: Memora, provider: ScriptedProvider, tenant: Tenant
) -> None:
    """If this fails, check read-time placeholder resolution after update_user."""
    await _save_first_chat(memora, provider, tenant)
    await memora.graph.update_user(tenant.org_id, tenant.user_id, "Jacob")
    provider.queries.append("<< food allergies >>\n<< peanuts >>")
    recalled, ids = await memora.recall_memories_for_message(
        tenant.org_id, tenant.user_id, "Any allergies I should mention to the chef?"
    )
    assert "Jacob is allergic to peanuts" in [m.memory for m in recalled]
    assert ids == [m.memory_id for m in recalled]
    assert provider.counts["queries"] == 1


async def test_recall_excludes_filter_out_set_and_model_filter_ignores_unknown_ids(
    memora: Memora, provider: ScriptedProvider, tenant: Tenant
) -> None:
    """If this fails, check filter-out on resolved ids and validation of filter-model ids."""
    await _save_first_chat(memora, provider, tenant)
    provider.queries.append("<< wife Sarah pregnancy >>\n<< allergies >>")
    first, first_ids = await memora.recall_memories_for_message(
        tenant.org_id, tenant.user_id, "Sarah is in pain, we can't sleep"
    )
    assert len(first_ids) == 2
    provider.queries.append("<< wife Sarah pregnancy >>\n<< allergies >>")
    again, again_ids = await memora.recall_memories_for_message(
        tenant.org_id,
        tenant.user_id,
        "Sarah is in pain, we can't sleep",
        filter_out_memory_ids_set=set(first_ids),
    )
    assert (again, again_ids) == ([], [])

    wife_id = next(m.memory_id for m in first if "Sarah" in m.memory)
    provider.queries.append("<< wife Sarah >>")
    provider.filter = lambda shown: (
        f"- pregnancy matters || << {wife_id} >>\n- made up || << not-a-real-id >>"
    )
    filtered, filtered_ids = await memora.recall_memories_for_message(
        tenant.org_id,
        tenant.user_id,
        "Sarah is in pain",
        enable_final_model_based_memory_filter=True,
    )
    assert filtered_ids == [wife_id]
    assert filtered[0].memory_id == wife_id
    assert provider.counts["filter"] == 1


async def test_invalid_llm_output_retries_then_fails_writing_nothing(
    memora: Memora, provider: ScriptedProvider, tenant: Tenant
) -> None:
    """If this fails, check bounded retries and that nothing is persisted on LLM failure."""
    from memora_engine.errors import LLMResponseInvalidError, MemoraError

    provider.extractions.extend(['{"memories_first_pass": "garbage"'] * 20)
    with pytest.raises(LLMResponseInvalidError) as raised:
        await memora.save_or_update_interaction_and_memories(
            tenant.org_id, tenant.user_id, tenant.agent_id, FIRST_CHAT, max_retries=1
        )
    assert isinstance(raised.value, MemoraError)
    # max_retries=1 -> at most 2 + 1 calls per save, one kept for the comparison: the
    # extraction gets 2 (one corrective retry), and no nested retries on top.
    assert provider.counts["extraction"] == 2
    assert await memora.graph.get_all_user_interactions(tenant.org_id, tenant.user_id) == []
    assert await memora.vector_db.count(tenant.org_id, tenant.user_id) == 0


async def test_unknown_user_fails_before_any_llm_call(
    memora: Memora, provider: ScriptedProvider, tenant: Tenant
) -> None:
    """If this fails, check owner validation happens before extraction."""
    from memora_engine.errors import InvalidInputError, UserNotFoundError

    with pytest.raises(UserNotFoundError):
        await memora.save_or_update_interaction_and_memories(
            tenant.org_id, "nobody", tenant.agent_id, FIRST_CHAT
        )
    with pytest.raises(InvalidInputError):
        await memora.save_or_update_interaction_and_memories(
            tenant.org_id, tenant.user_id, tenant.agent_id, [{"role": "user"}]
        )
    assert sum(provider.counts.values()) == 0


async def test_org_scope_spans_users_and_agent_filter_narrows(
    memora: Memora, provider: ScriptedProvider, tenant: Tenant
) -> None:
    """If this fails, check ORGANIZATION scope and search_across_agents=False."""
    await _save_first_chat(memora, provider, tenant)
    other_user = await memora.graph.create_user(tenant.org_id, "Mia")
    other_agent = await memora.graph.create_agent(tenant.org_id, "Helper")
    provider.extractions.append(extraction(("#user_#id# is allergic to shellfish", [0])))
    await memora.save_or_update_interaction_and_memories(
        tenant.org_id,
        other_user.user_id,
        other_agent.agent_id,
        [{"role": "user", "content": "I'm allergic to shellfish."}],
    )
    [org_wide] = await memora.search_memories_as_batch(
        tenant.org_id, ["food allergy"], memory_search_scope=MemorySearchScope.ORGANIZATION
    )
    texts = {m.memory for m in org_wide}
    assert {"Jake is allergic to peanuts", "Mia is allergic to shellfish"} <= texts
    [mine] = await memora.search_memories_as_batch(
        tenant.org_id, ["food allergy"], user_id=tenant.user_id
    )
    assert all(m.user_id == tenant.user_id for m in mine)
    only_helper = await memora.search_memories_as_batch(
        tenant.org_id,
        ["food allergy", "zebra"],
        agent_id=other_agent.agent_id,
        memory_search_scope=MemorySearchScope.ORGANIZATION,
        search_across_agents=False,
    )
    assert [m.memory for m in only_helper[0]] == ["Mia is allergic to shellfish"]
    narrowed = await memora.search_memories_as_one(
        tenant.org_id,
        tenant.user_id,
        ["allergy"],
        agent_id=other_agent.agent_id,
        search_across_agents=False,
    )
    assert narrowed == []


async def test_empty_results_have_one_shape(
    memora: Memora, provider: ScriptedProvider, tenant: Tenant
) -> None:
    """If this fails, check the documented empty shapes."""
    assert await memora.search_memories_as_one(tenant.org_id, tenant.user_id, ["x"]) == []
    batch = await memora.search_memories_as_batch(tenant.org_id, ["x", "y"], user_id=tenant.user_id)
    assert batch == [[], []]
    provider.queries.append("I could not think of any query.")  # no << >>: falls back
    recalled = await memora.recall_memories_for_message(tenant.org_id, tenant.user_id, "hello")
    assert recalled == ([], [])
