"""``memora memories add`` and ``memora memories edit``: facts and corrections from the shell.

Both go through ``Memora.add_memories`` / ``Memora.edit_memory``; bad input (a blank fact,
metadata over the limits, a malformed ``--meta``) exits with code 2 and writes nothing.
"""

from __future__ import annotations

from typing import Any

import click

from memora_engine import Memora
from memora_engine.cli._common import (
    CliState,
    dump_json,
    json_option,
    require_value,
    resolve_llm,
    store_options,
    with_memora,
)
from memora_engine.cli._common import console as _console
from memora_engine.cli._render import print_memories
from memora_engine.cli.admin import resolve_ids
from memora_engine.cli.filter_options import build_metadata, metadata_options
from memora_engine.errors import ConfigurationError, InvalidInputError

__all__ = ["memories_add", "memories_edit"]

_org = click.option("--org", "org_id", default=None, help="Organization id [env MEMORA_ORG_ID].")
_user = click.option("--user", "user_id", default=None, help="User id [env MEMORA_USER_ID].")


@click.command("add")
@click.argument("facts", nargs=-1, required=True)
@_org
@_user
@click.option("--agent", "agent_id", default=None, help="Agent id [env MEMORA_AGENT_ID].")
@metadata_options
@click.option(
    "--infer",
    is_flag=True,
    help="Compare with stored memories first (needs a model): a contradicting fact becomes "
    "the new version of the memory it contradicts; a known one is not stored again.",
)
@click.option("--model", default=None, help="Chat model for --infer [env MEMORA_LLM_MODEL].")
@json_option
@store_options
@click.pass_context
def memories_add(
    ctx: click.Context,
    /,
    facts: tuple[str, ...],
    meta: tuple[str, ...],
    metadata_json: str | None,
    infer: bool,
    model: str | None,
    as_json: bool,
    **opts: Any,
) -> None:
    """Add FACTS as memories of the user, stored verbatim (one new interaction, role "fact").

    --meta / --metadata give every fact the same metadata.
    """
    metadata = build_metadata(meta, metadata_json)
    settings, org_id, user_id = resolve_ids(ctx, {**opts, "model": model}, user=True)
    agent_id = require_value(settings.agent_id, "--agent", "agent_id")
    llm = None
    if infer:
        llm = resolve_llm(settings, ctx.find_object(CliState))
        if llm.raw:
            raise ConfigurationError(
                "--infer needs a chat model: pass --model (e.g. groq:llama-3.1-8b-instant) or "
                "set OPENAI_API_KEY / GROQ_API_KEY / TOGETHER_API_KEY / AZURE_OPENAI_*."
            )

    async def body(memora: Memora) -> Any:
        return await memora.add_memories(
            org_id, user_id, agent_id, list(facts), metadata=metadata, infer=infer
        )

    stored = with_memora(settings, body, llm)
    if as_json:
        dump_json(stored)
        return
    print_memories(_console(), stored, title=f"Added {len(stored)} memories", empty="none")


@click.command("edit")
@click.argument("memory_id")
@_org
@_user
@click.option("--text", default=None, help="The corrected text (a new version of the memory).")
@metadata_options
@click.option("--clear-metadata", is_flag=True, help="Remove every metadata entry.")
@json_option
@store_options
@click.pass_context
def memories_edit(
    ctx: click.Context,
    /,
    memory_id: str,
    text: str | None,
    meta: tuple[str, ...],
    metadata_json: str | None,
    clear_metadata: bool,
    as_json: bool,
    **opts: Any,
) -> None:
    """Correct a memory's text (--text: a new version; the old one stays in its history) and/or
    replace its metadata (--meta / --metadata / --clear-metadata: in place, same id)."""
    metadata = build_metadata(meta, metadata_json)
    if clear_metadata:
        if metadata is not None:
            raise InvalidInputError("--clear-metadata cannot be combined with --meta/--metadata.")
        metadata = {}
    if text is None and metadata is None:
        raise InvalidInputError("Nothing to edit: give --text, --meta, --metadata or both.")
    settings, org_id, user_id = resolve_ids(ctx, opts, user=True)
    edited = with_memora(
        settings,
        lambda m: m.edit_memory(org_id, user_id, memory_id, memory=text, metadata=metadata),
    )
    if as_json:
        dump_json(edited)
        return
    print_memories(_console(), [edited], title="Edited memory")
