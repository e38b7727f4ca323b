"""``memora chat``: the personal-assistant loop of the original getting-started guide.

Each turn recalls memories for the user's message (excluding those already recalled in this
conversation), asks the chat model with the recall attached to the message, and keeps two
histories: the clean one (saved as the interaction, and used as context for recall) and the one
with recalls (used for prompting). On exit the conversation is saved and its memories extracted.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import click

from memora_engine import LLMError, Memora, Memory
from memora_engine.cli._common import (
    CliState,
    LLMChoice,
    console,
    llm_options,
    open_memora,
    require_value,
    resolve_llm,
    run,
    settings_from,
    store_options,
)
from memora_engine.cli._render import print_memories
from memora_engine.cli.filter_options import (
    build_filter,
    build_metadata,
    filter_options,
    metadata_options,
)
from memora_engine.llm import BaseBackendLLM

__all__ = ["ChatSession", "chat"]

_QUIT = {"/quit", "/exit", "quit()", "exit()"}
_AGENT_LABEL = "Memora chat"


class ChatSession:
    """One conversation of a user with their assistant, with memory recall and save on exit.

    Examples:
        >>> session = ChatSession(memora, org_id, user_id, agent_id, reply_model, "Jake")
        >>> reply, recalled = await session.turn("What's my wife's name?")  # doctest: +SKIP
        >>> await session.save()  # doctest: +SKIP
    """

    def __init__(
        self,
        memora: Memora,
        org_id: str,
        user_id: str,
        agent_id: str,
        reply_model: BaseBackendLLM,
        user_name: str,
        *,
        infer: bool | None = None,
        filter: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self.memora = memora
        self.filter, self.metadata = filter, metadata
        self.org_id, self.user_id, self.agent_id = org_id, user_id, agent_id
        self.reply_model = reply_model
        self.infer = infer
        system = (
            f"You are {user_name}'s personal assistant. Memories about {user_name} are given "
            "as 'memory recall: ...' before their message; use them when they help."
        )
        self.base_history: list[dict[str, str]] = [{"role": "system", "content": system}]
        self.prompt_history: list[dict[str, str]] = list(self.base_history)
        self.recalled_ids: set[str] = set()
        self.interaction_id: str | None = None

    async def turn(self, message: str) -> tuple[str, list[Memory]]:
        """Recall, reply, and record the turn; returns ``(reply, memories recalled now)``."""
        recalled, ids = await self.memora.recall_memories_for_message(
            self.org_id,
            self.user_id,
            message,
            preceding_msg_for_context=self.base_history[1:],
            filter_out_memory_ids_set=self.recalled_ids,
            filter=self.filter,
        )
        recall = json.dumps([m.memory_and_timestamp_dict() for m in recalled], ensure_ascii=False)
        with_recall = f"memory recall: {recall}\n---\nmessage: {message}"
        reply = await self.reply_model(
            [*self.prompt_history, {"role": "user", "content": with_recall}]
        )
        self.base_history += [
            {"role": "user", "content": message},
            {"role": "assistant", "content": reply},
        ]
        self.prompt_history += [
            {"role": "user", "content": with_recall},
            {"role": "assistant", "content": reply},
        ]
        self.recalled_ids.update(ids)
        return reply, recalled

    async def save(self) -> tuple[str, datetime] | None:
        """Save (or update) the conversation without the system prompt; None if empty."""
        if len(self.base_history) <= 1:
            return None
        saved = await self.memora.save_or_update_interaction_and_memories(
            self.org_id,
            self.user_id,
            self.agent_id,
            self.base_history[1:],
            interaction_id=self.interaction_id,
            infer=self.infer,
            metadata=self.metadata,
        )
        self.interaction_id = saved[0]
        return saved


async def _pick_agent(memora: Memora, org_id: str, user_id: str, agent_id: str | None) -> str:
    if agent_id:
        await memora.get_agent(org_id, agent_id)
        return agent_id
    for agent in await memora.list_agents(org_id, user_id=user_id):
        if agent.agent_label == _AGENT_LABEL:
            return agent.agent_id
    created = await memora.create_agent(org_id, _AGENT_LABEL, user_id)
    return created.agent_id


@click.command()
@click.option("--org", "org_id", default=None, help="Organization id [env MEMORA_ORG_ID].")
@click.option("--user", "user_id", default=None, help="User id [env MEMORA_USER_ID].")
@click.option(
    "--agent",
    "agent_id",
    default=None,
    help=f"Agent id [env MEMORA_AGENT_ID]; default: the user's '{_AGENT_LABEL}' agent.",
)
@click.option("--show-recall/--hide-recall", default=True, help="Print recalled memories.")
@filter_options
@metadata_options
@llm_options
@store_options
@click.pass_context
def chat(
    ctx: click.Context,
    /,
    show_recall: bool,
    filters: tuple[str, ...],
    filter_json: str | None,
    since: str | None,
    until: str | None,
    meta: tuple[str, ...],
    metadata_json: str | None,
    raw: bool,
    model: str | None,
    search_model: str | None,
    **opts: Any,
) -> None:
    """Chat with memory: recall -> reply -> save on exit (/quit or end of input).

    --filter / --filter-json / --since / --until limit what is recalled; --meta / --metadata
    label the memories saved from the conversation.
    """
    wanted = build_filter(filters, filter_json, since, until)
    metadata = build_metadata(meta, metadata_json)
    settings = settings_from(ctx, model=model, search_model=search_model, **opts)
    org_id = require_value(settings.org_id, "--org", "org_id")
    user_id = require_value(settings.user_id, "--user", "user_id")
    state = ctx.find_object(CliState)
    replies = resolve_llm(settings, state)
    if replies.extraction is None:
        raise click.UsageError(
            "memora chat needs a chat model: pass --model (e.g. groq:llama-3.1-8b-instant) or "
            "set OPENAI_API_KEY / GROQ_API_KEY / TOGETHER_API_KEY / AZURE_OPENAI_*."
        )
    memory_llm = LLMChoice(None, None, "raw") if raw else replies
    out = console()
    memora = run(open_memora(settings, memory_llm))
    try:
        user = run(memora.get_user(org_id, user_id))
        agent_id = run(_pick_agent(memora, org_id, user_id, settings.agent_id))
        session = ChatSession(
            memora,
            org_id,
            user_id,
            agent_id,
            replies.extraction,
            user.user_name,
            infer=False if raw else None,
            filter=wanted,
            metadata=metadata,
        )
        out.print(
            f"Chatting as {user.user_name} with {replies.description}"
            f"{' (memories saved verbatim)' if raw else ''}. Type /quit to save and exit."
        )
        while True:
            try:
                message = click.prompt(
                    user.user_name, prompt_suffix=" > ", default="", show_default=False
                )
            except (click.Abort, EOFError):
                break
            if message.strip() in _QUIT:
                break
            if not message.strip():
                continue
            try:
                reply, recalled = run(session.turn(message))
            except LLMError as exc:
                out.print(f"[red]The model failed:[/] {exc} (try again, or /quit to save)")
                continue
            if show_recall and recalled:
                print_memories(out, recalled, title="recalled")
            out.print(f"[bold]assistant[/] > {reply}")
        saved = run(session.save())
        if saved is None:
            out.print("Nothing to save.")
        else:
            interaction = run(memora.get_interaction(org_id, user_id, saved[0]))
            out.print(
                f"Saved interaction {saved[0]} with {len(interaction.messages)} messages and "
                f"{len(interaction.memories)} memories."
            )
    finally:
        run(memora.close())
