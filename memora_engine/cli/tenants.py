"""Tenants: ``memora orgs|users|agents list|create|show|rename|delete`` (all with ``--json``)."""

from __future__ import annotations

from typing import Any

import click

from memora_engine import Memora
from memora_engine.cli._common import (
    MemoraGroup,
    json_option,
    settings_from,
    store_options,
    with_memora,
)
from memora_engine.cli._render import agents_table, orgs_table, users_table
from memora_engine.cli.admin import confirm as _confirm
from memora_engine.cli.admin import deleted as _deleted
from memora_engine.cli.admin import emit as _emit
from memora_engine.cli.admin import resolve_ids as _ids

__all__ = ["agents", "orgs", "users"]

_org = click.option("--org", "org_id", default=None, help="Organization id [env MEMORA_ORG_ID].")
_user = click.option("--user", "user_id", default=None, help="User id [env MEMORA_USER_ID].")
_yes = click.option("--yes", is_flag=True, help="Do not ask for confirmation.")


# ---------------------------------------------------------------------- orgs
@click.group(cls=MemoraGroup)
def orgs() -> None:
    """Organizations: list, create, show, rename, delete."""


@orgs.command("list")
@json_option
@store_options
@click.pass_context
def orgs_list(ctx: click.Context, /, as_json: bool, **opts: Any) -> None:
    """Every organization, newest first."""
    settings = settings_from(ctx, **opts)
    found = with_memora(settings, lambda m: m.list_organizations())
    _emit(as_json, found, orgs_table(found))


@orgs.command("create")
@click.argument("name")
@click.option("--id", "new_id", default=None, help="Bring your own id (else a shortuuid).")
@json_option
@store_options
@click.pass_context
def orgs_create(
    ctx: click.Context, /, name: str, new_id: str | None, as_json: bool, **opts: Any
) -> None:
    """Create an organization."""
    settings = settings_from(ctx, **opts)
    org = with_memora(settings, lambda m: m.create_organization(name, org_id=new_id), create=True)
    _emit(as_json, org, orgs_table([org]))


@orgs.command("show")
@click.argument("org_id")
@json_option
@store_options
@click.pass_context
def orgs_show(ctx: click.Context, /, org_id: str, as_json: bool, **opts: Any) -> None:
    """One organization."""
    settings = settings_from(ctx, **opts)
    org = with_memora(settings, lambda m: m.get_organization(org_id))
    _emit(as_json, org, orgs_table([org]))


@orgs.command("rename")
@click.argument("org_id")
@click.argument("name")
@json_option
@store_options
@click.pass_context
def orgs_rename(ctx: click.Context, /, org_id: str, name: str, as_json: bool, **opts: Any) -> None:
    """Rename an organization."""
    settings = settings_from(ctx, **opts)
    org = with_memora(settings, lambda m: m.update_organization(org_id, name))
    _emit(as_json, org, orgs_table([org]))


@orgs.command("delete")
@click.argument("org_id")
@_yes
@store_options
@click.pass_context
def orgs_delete(ctx: click.Context, /, org_id: str, yes: bool, **opts: Any) -> None:
    """Delete an organization and everything in it (users, agents, memories, vectors)."""
    settings = settings_from(ctx, **opts)
    _confirm(yes, f"organization {org_id} and everything in it")
    done = with_memora(settings, lambda m: m.delete_organization(org_id))
    _deleted(done, f"organization {org_id}")


# ---------------------------------------------------------------------- users
@click.group(cls=MemoraGroup)
def users() -> None:
    """Users of an organization: list, create, show, rename, delete."""


@users.command("list")
@_org
@json_option
@store_options
@click.pass_context
def users_list(ctx: click.Context, /, as_json: bool, **opts: Any) -> None:
    """Every user of the organization, newest first."""
    settings, org_id, _ = _ids(ctx, opts)
    found = with_memora(settings, lambda m: m.list_users(org_id))
    _emit(as_json, found, users_table(found))


@users.command("create")
@click.argument("name")
@_org
@click.option("--id", "new_id", default=None, help="Bring your own id (e.g. your app's).")
@json_option
@store_options
@click.pass_context
def users_create(
    ctx: click.Context, /, name: str, new_id: str | None, as_json: bool, **opts: Any
) -> None:
    """Create a user in the organization."""
    settings, org_id, _ = _ids(ctx, opts)
    user = with_memora(settings, lambda m: m.create_user(org_id, name, user_id=new_id))
    _emit(as_json, user, users_table([user]))


@users.command("show")
@click.argument("user_id")
@_org
@json_option
@store_options
@click.pass_context
def users_show(ctx: click.Context, /, user_id: str, as_json: bool, **opts: Any) -> None:
    """One user."""
    settings, org_id, _ = _ids(ctx, opts)
    user = with_memora(settings, lambda m: m.get_user(org_id, user_id))
    _emit(as_json, user, users_table([user]))


@users.command("rename")
@click.argument("user_id")
@click.argument("name")
@_org
@json_option
@store_options
@click.pass_context
def users_rename(
    ctx: click.Context, /, user_id: str, name: str, as_json: bool, **opts: Any
) -> None:
    """Rename a user (memories mentioning them read differently at once)."""
    settings, org_id, _ = _ids(ctx, opts)
    user = with_memora(settings, lambda m: m.update_user(org_id, user_id, name))
    _emit(as_json, user, users_table([user]))


@users.command("delete")
@click.argument("user_id")
@_org
@_yes
@store_options
@click.pass_context
def users_delete(ctx: click.Context, /, user_id: str, yes: bool, **opts: Any) -> None:
    """Delete a user with their interactions, memories and vectors."""
    settings, org_id, _ = _ids(ctx, opts)
    _confirm(yes, f"user {user_id} and all their data")
    done = with_memora(settings, lambda m: m.delete_user(org_id, user_id))
    _deleted(done, f"user {user_id}")


# ---------------------------------------------------------------------- agents
@click.group(cls=MemoraGroup)
def agents() -> None:
    """Agents of an organization (optionally owned by a user)."""


@agents.command("list")
@_org
@_user
@json_option
@store_options
@click.pass_context
def agents_list(ctx: click.Context, /, as_json: bool, **opts: Any) -> None:
    """The organization's agents, or with --user that user's agents."""
    settings, org_id, _ = _ids(ctx, opts)
    user_id = settings.user_id

    async def body(memora: Memora) -> Any:
        if user_id:
            return await memora.list_agents(org_id, user_id=user_id)
        return await memora.list_agents(org_id)

    found = with_memora(settings, body)
    _emit(as_json, found, agents_table(found))


@agents.command("create")
@click.argument("label")
@_org
@click.option("--user", "owner", default=None, help="Make it a personal agent of this user.")
@click.option("--id", "new_id", default=None, help="Bring your own id.")
@json_option
@store_options
@click.pass_context
def agents_create(
    ctx: click.Context,
    /,
    label: str,
    owner: str | None,
    new_id: str | None,
    as_json: bool,
    **opts: Any,
) -> None:
    """Create an agent (org-level, or with --user a user's personal agent)."""
    settings, org_id, _ = _ids(ctx, opts)
    agent = with_memora(settings, lambda m: m.create_agent(org_id, label, owner, agent_id=new_id))
    _emit(as_json, agent, agents_table([agent]))


@agents.command("show")
@click.argument("agent_id")
@_org
@json_option
@store_options
@click.pass_context
def agents_show(ctx: click.Context, /, agent_id: str, as_json: bool, **opts: Any) -> None:
    """One agent."""
    settings, org_id, _ = _ids(ctx, opts)
    agent = with_memora(settings, lambda m: m.get_agent(org_id, agent_id))
    _emit(as_json, agent, agents_table([agent]))


@agents.command("rename")
@click.argument("agent_id")
@click.argument("label")
@_org
@json_option
@store_options
@click.pass_context
def agents_rename(
    ctx: click.Context, /, agent_id: str, label: str, as_json: bool, **opts: Any
) -> None:
    """Change an agent's label."""
    settings, org_id, _ = _ids(ctx, opts)
    agent = with_memora(settings, lambda m: m.update_agent(org_id, agent_id, label))
    _emit(as_json, agent, agents_table([agent]))


@agents.command("delete")
@click.argument("agent_id")
@_org
@_yes
@store_options
@click.pass_context
def agents_delete(ctx: click.Context, /, agent_id: str, yes: bool, **opts: Any) -> None:
    """Delete an agent (its interactions and memories stay)."""
    settings, org_id, _ = _ids(ctx, opts)
    _confirm(yes, f"agent {agent_id}")
    done = with_memora(settings, lambda m: m.delete_agent(org_id, agent_id))
    _deleted(done, f"agent {agent_id}")
