"""``memora demo``: the main job end to end, on the embedded stores, with or without an LLM.

Creates an org, a user (Jake) and his personal agent, saves the peanut-allergy / Sarah
conversation of the original getting-started guide, updates it with two more messages, recalls
memories for "Sarah is in pain, we can't sleep", searches, shows a memory's history after a
contradicting update, and prints the stored graph (interaction, messages, memories, sources).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import click
from rich.console import Console
from rich.table import Table
from rich.tree import Tree

from memora_engine import (
    ContraryMemoryToStore,
    Interaction,
    Memora,
    MemoriesAndInteraction,
    Memory,
)
from memora_engine.cli._common import (
    CliState,
    LLMChoice,
    Settings,
    console,
    llm_options,
    open_memora,
    resolve_llm,
    run,
    settings_from,
    store_options,
)
from memora_engine.cli._render import interaction_tree, print_memories

__all__ = ["CONVERSATION", "CORRECTION", "FOLLOW_UP", "RECALL_MESSAGE", "demo"]

#: The conversation of the original getting-started guide.
CONVERSATION: list[dict[str, str]] = [
    {
        "role": "user",
        "content": "I had another peanut incident today; it confirms I am allergic.",
    },
    {
        "role": "assistant",
        "content": "Oh Jake, I'm sorry to hear that. Are you okay? I'll make sure to keep "
        "peanuts away from any future food-related situations.",
    },
    {
        "role": "user",
        "content": "Yes, I'm okay, though it stressed out Sarah, my wife, which isn't cool "
        "because she is due in December.",
    },
    {
        "role": "assistant",
        "content": "I'm glad you're fine now, and that's wonderful news about Sarah's "
        "pregnancy! Congratulations to you both. When in December is she due?",
    },
    {"role": "user", "content": "December 15th."},
    {
        "role": "assistant",
        "content": "Congrats again, and feel free to bombard me with every baby question you "
        "have, we're raising this baby together LOL",
    },
]
#: The update of the guide: two more messages.
FOLLOW_UP: list[dict[str, str]] = [
    {
        "role": "user",
        "content": "Thanks! We're pretty sure it's a girl, but we'll know for certain at the "
        "next ultrasound.",
    },
    {
        "role": "assistant",
        "content": "The anticipation must be building. Do you have any name ideas?",
    },
]
#: A later message that contradicts the due date.
CORRECTION: list[dict[str, str]] = [
    {
        "role": "user",
        "content": "Quick update: the doctor moved Sarah's due date to December 20th.",
    },
    {"role": "assistant", "content": "Got it, December 20th it is. I'll keep that in mind."},
]
#: The message of the guide's recall example.
RECALL_MESSAGE = "Sarah is really in pain more nowadays, so both of us can't sleep."
_show = print_memories
_SEARCH_QUERIES = ["Who is my wife?", "When is my wife due?"]
_NO_PROVIDER = (
    "No LLM provider found (use --model or set OPENAI_API_KEY / GROQ_API_KEY / "
    "TOGETHER_API_KEY / AZURE_OPENAI_*): running in raw mode, messages are stored verbatim."
)


@click.command()
@store_options
@llm_options
@click.pass_context
def demo(
    ctx: click.Context, /, raw: bool, model: str | None, search_model: str | None, **opts: Any
) -> None:
    """Run the main job end to end: save, update, recall, search, history, graph."""
    settings = settings_from(ctx, model=model, search_model=search_model, **opts)
    out = console()
    # A model the user named that cannot be built is an error (one `Error:` line, exit 1).
    llm = resolve_llm(settings, ctx.find_object(CliState), raw=raw)
    if raw:
        out.print("Raw mode (--raw): messages are stored verbatim as memories, no LLM calls.")
    elif llm.raw:
        out.print(_NO_PROVIDER)
    else:
        out.print(f"Extracting memories with [bold]{llm.description}[/].")
    run(_run_demo(settings, llm, out))


async def _run_demo(settings: Settings, llm: LLMChoice, out: Console) -> None:
    memora = await open_memora(settings, llm, create=True)
    try:
        await _steps(memora, llm, out)
    finally:
        await memora.close()
    out.print(f"\n[bold green]Done.[/] Data kept in {settings.path}.")


async def _steps(memora: Memora, llm: LLMChoice, out: Console) -> None:
    infer = None if not llm.raw else False
    # Load the embedding model before writing anything, so a missing model fails cleanly.
    await memora.search_memories_as_one("memora-demo", "memora-demo", ["warm up"])

    out.rule("1. An organization, a user and his personal agent")
    org = await memora.create_organization("Memora demo")
    user = await memora.create_user(org.org_id, "Jake")
    agent = await memora.create_agent(org.org_id, "Jenny, Personal AI", user.user_id)
    ids = Table(show_header=True)
    for column in ("what", "name", "id"):
        ids.add_column(column)
    ids.add_row("organization", org.org_name, org.org_id)
    ids.add_row("user", user.user_name, user.user_id)
    ids.add_row("agent", agent.agent_label, agent.agent_id)
    out.print(ids)
    org_id, user_id, agent_id = org.org_id, user.user_id, agent.agent_id

    out.rule("2. Save a conversation")
    for message in CONVERSATION:
        out.print(f"  [cyan]{message['role']}[/]: {message['content']}")
    interaction_id, _ = await memora.save_or_update_interaction_and_memories(
        org_id, user_id, agent_id, CONVERSATION, current_datetime=_now(), infer=infer
    )
    saved = await memora.get_interaction(org_id, user_id, interaction_id)
    _show(out, _by_position(saved.memories), title=f"Memories of interaction {interaction_id}")

    out.rule("3. Update it with two more messages")
    for message in FOLLOW_UP:
        out.print(f"  [cyan]{message['role']}[/]: {message['content']}")
    updated = CONVERSATION + FOLLOW_UP
    await memora.save_or_update_interaction_and_memories(
        org_id,
        user_id,
        agent_id,
        updated,
        interaction_id=interaction_id,
        current_datetime=_now(),
        infer=infer,
    )
    after = await memora.get_interaction(org_id, user_id, interaction_id)
    _show(out, _by_position(_new_memories(saved, after)), title="New memories from the update")

    out.rule("4. Recall for a new message")
    out.print(f"  [cyan]user[/]: {RECALL_MESSAGE}")
    recalled, _ = await memora.recall_memories_for_message(
        org_id, user_id, RECALL_MESSAGE, agent_id=agent_id
    )
    _show(out, recalled[:5], title="Recalled memories", empty="nothing recalled.")

    out.rule("5. Search")
    scored = await memora.search_memories_with_scores(org_id, user_id, _SEARCH_QUERIES, limit=5)
    _show(
        out,
        [m for m, _ in scored],
        scores=[s for _, s in scored],
        title=f"Search: {' | '.join(_SEARCH_QUERIES)}",
        empty="nothing found.",
    )

    out.rule("6. A contradicting update and the memory's history")
    for message in CORRECTION:
        out.print(f"  [cyan]{message['role']}[/]: {message['content']}")
    newest = await _contradict(memora, llm, out, after, org_id, user_id, agent_id, updated)
    if newest is not None:
        chain = await memora.get_memory_history(org_id, user_id, newest)
        _show(out, chain, title="History (newest first)")
        found = await memora.search_memories_as_one(
            org_id, user_id, ["When is Sarah due?"], limit=3
        )
        _show(out, found, title="Search now resolves to the newest version")

    out.rule("7. The stored graph")
    final = await memora.get_interaction(org_id, user_id, interaction_id)
    links = await memora.list_memory_links(org_id, user_id)
    root = Tree(f"[bold]Organization[/] {org.org_name} [dim]{org_id}[/]")
    user_node = root.add(f"[bold]User[/] {user.user_name} [dim]{user_id}[/]")
    user_node.add(f"[bold]Agent[/] {agent.agent_label} [dim]{agent_id}[/]")
    user_node.add(interaction_tree(final))
    history = user_node.add(f"[bold]History links[/] ({len(links)})")
    for older, newer in links:
        history.add(f"[dim]{older}[/] -> {newer}")
    out.print(root)
    out.print(
        f"\nExplore: memora memories list --org {org_id} --user {user_id}   "
        f'memora search --org {org_id} --user {user_id} "allergies"'
    )


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _by_position(memories: list[Memory]) -> list[Memory]:
    return sorted(memories, key=lambda m: [s.msg_position for s in m.message_sources])


def _new_memories(before: Interaction, after: Interaction) -> list[Memory]:
    known = {m.memory_id for m in before.memories}
    return [m for m in after.memories if m.memory_id not in known]


async def _contradict(
    memora: Memora,
    llm: LLMChoice,
    out: Console,
    current: Interaction,
    org_id: str,
    user_id: str,
    agent_id: str,
    messages: list[dict[str, str]],
) -> str | None:
    """Apply the correction; return the id of the newest version of the changed memory."""
    corrected = messages + CORRECTION
    if not llm.raw:
        await memora.save_or_update_interaction_and_memories(
            org_id,
            user_id,
            agent_id,
            corrected,
            interaction_id=current.interaction_id,
            current_datetime=_now(),
        )
        after = await memora.get_interaction(org_id, user_id, current.interaction_id)
        added = {m.memory_id for m in _new_memories(current, after)}
        links = await memora.list_memory_links(org_id, user_id)
        newer = [new for _, new in links if new in added]
        if not newer:
            out.print("[dim]The model marked no memory as contradicted this time.[/]")
            return None
        return newer[0]
    # Raw mode has no model to detect contradictions: record the correction explicitly as a new
    # version of the due-date memory, through `Memora.restore_interaction`.
    target = next(
        (m for m in current.memories if any(s.msg_position == 4 for s in m.message_sources)),
        None,
    )
    if target is None:
        hits = await memora.search_memories_as_one(org_id, user_id, ["When is Sarah due?"])
        target = hits[0] if hits else None
    if target is None:
        out.print("[dim]No due-date memory to update.[/]")
        return None
    out.print(
        "[dim]Raw mode has no model to detect the contradiction, so the demo records the "
        f"correction explicitly as a new version of memory {target.memory_id}.[/]"
    )
    write = MemoriesAndInteraction.model_validate(
        {
            "interaction": corrected,
            "interaction_date": _now(),
            "contrary_memories": [
                ContraryMemoryToStore(
                    memory=f"user_{user_id}'s wife Sarah is now due on December 20th",
                    source_msg_block_pos=[len(messages)],
                    existing_contrary_memory_id=target.memory_id,
                )
            ],
        }
    )
    await memora.restore_interaction(
        org_id, user_id, agent_id, write, interaction_id=current.interaction_id, update=True
    )
    chain = await memora.get_memory_history(org_id, user_id, target.memory_id)
    return chain[0].memory_id if chain else None
