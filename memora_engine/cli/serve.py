"""``memora serve`` (HTTP API + MCP), ``memora mcp`` (MCP over stdio) and ``memora keys``.

``memora serve`` opens the store once and shares it with every client; it binds 127.0.0.1
unless told otherwise and refuses to start without an API key (``memora keys create``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from memora_engine.cli._common import (
    CliState,
    console,
    dump_json,
    json_option,
    llm_options,
    open_memora,
    resolve_llm,
    settings_from,
    store_options,
)
from memora_engine.cli.config import Settings
from memora_engine.install import install_hint

__all__ = ["COMMANDS", "keys", "mcp_cmd", "serve"]

KEYS_FILE_NAME = "keys.json"


def _keys_file(settings: Settings, keys_file: Path | None) -> Path:
    return keys_file or settings.path / KEYS_FILE_NAME


def _keys_option(func: Any) -> Any:
    return click.option(
        "--keys-file",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="API key file of the service [default: <path>/keys.json].",
    )(func)


def _require_server_extra() -> None:
    try:
        import fastapi  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as exc:
        raise click.ClickException(
            f"memora serve needs the server extra: {install_hint('server')}."
        ) from exc


@click.command("serve")
@store_options
@llm_options
@_keys_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", default=8765, show_default=True, type=int, help="Port to listen on.")
@click.option("--max-body-mb", default=None, type=float, help="Largest request body (MiB).")
@click.option("--no-mcp", is_flag=True, help="Do not mount the MCP endpoint at /mcp.")
@click.pass_context
def serve(
    ctx: click.Context,
    /,
    path: Path | None,
    config_file: Path | None,
    embedding_model_dir: Path | None,
    model: str | None,
    search_model: str | None,
    raw: bool,
    keys_file: Path | None,
    host: str,
    port: int,
    max_body_mb: float | None,
    no_mcp: bool,
) -> None:
    """Serve the store over HTTP (API at /v1, schema at /openapi.json, MCP at /mcp).

    One process owns the store; any number of clients (MemoraClient, MCP clients, curl) share
    it. SIGTERM finishes the in-flight requests before the store is closed.
    """
    _require_server_extra()
    import uvicorn

    from memora_engine.service import ApiKeyStore, create_app
    from memora_engine.service.limits import DEFAULT_MAX_BODY_BYTES
    from memora_engine.service.logs import access_log_config

    settings = settings_from(
        ctx,
        path=path,
        config_file=config_file,
        embedding_model_dir=embedding_model_dir,
        model=model,
        search_model=search_model,
    )
    file = _keys_file(settings, keys_file)
    store = ApiKeyStore.load(file)
    if not store.records:
        raise click.ClickException(
            f"No API keys in {file}: create one with `memora keys create --admin` "
            "(or --org ORG_ID [--user USER_ID])."
        )
    llm = resolve_llm(settings, ctx.find_object(CliState), raw=raw)
    max_bytes = int(max_body_mb * 1024 * 1024) if max_body_mb else DEFAULT_MAX_BODY_BYTES
    app = create_app(
        lambda: open_memora(settings, llm, create=True),
        store,
        max_body_bytes=max_bytes,
        mcp=not no_mcp,
        host=host,
    )
    click.echo(
        f"memora serve: http://{host}:{port} ({llm.description}; keys from {file})", err=True
    )
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level="info",
        log_config=access_log_config(),
        timeout_graceful_shutdown=30,
    )


@click.group("keys")
def keys() -> None:
    """Manage the API keys of `memora serve` (stored hashed in the key file)."""


@keys.command("create")
@store_options
@_keys_option
@click.option("--org", "org_id", default=None, help="Organization the key is bound to.")
@click.option("--user", "user_id", default=None, help="Bind the key to this user too.")
@click.option("--admin", is_flag=True, help="An admin key (tenant management, every org).")
@click.option("--name", default="", help="A label to recognise the key by.")
@json_option
@click.pass_context
def keys_create(
    ctx: click.Context,
    /,
    path: Path | None,
    config_file: Path | None,
    embedding_model_dir: Path | None,
    keys_file: Path | None,
    org_id: str | None,
    user_id: str | None,
    admin: bool,
    name: str,
    as_json: bool,
) -> None:
    """Create a key and print it once (only its hash is stored)."""
    from memora_engine.errors import InvalidInputError
    from memora_engine.service import ApiKeyStore

    settings = settings_from(ctx, path=path, config_file=config_file)
    file = _keys_file(settings, keys_file)
    store = ApiKeyStore.load(file)
    try:
        key, record = store.create(org_id=org_id, user_id=user_id, admin=admin, name=name)
    except InvalidInputError as exc:
        raise click.UsageError(str(exc)) from exc
    store.save(file)
    if as_json:
        dump_json({"key": key, "key_id": record.key_id, "keys_file": str(file)})
        return
    click.echo(key)
    click.echo(f"(key id {record.key_id}, saved hashed in {file}; shown only now)", err=True)


@keys.command("list")
@store_options
@_keys_option
@json_option
@click.pass_context
def keys_list(
    ctx: click.Context,
    /,
    path: Path | None,
    config_file: Path | None,
    embedding_model_dir: Path | None,
    keys_file: Path | None,
    as_json: bool,
) -> None:
    """List the keys (ids and bindings; the keys themselves are not stored)."""
    from memora_engine.service import ApiKeyStore

    settings = settings_from(ctx, path=path, config_file=config_file)
    records = ApiKeyStore.load(_keys_file(settings, keys_file)).records
    rows = [
        {
            "key_id": r.key_id,
            "org_id": r.org_id,
            "user_id": r.user_id,
            "admin": r.admin,
            "name": r.name,
            "created_at": r.created_at,
        }
        for r in records
    ]
    if as_json:
        dump_json(rows)
        return
    for row in rows:
        console().print(" ".join(f"{k}={v}" for k, v in row.items()))


@keys.command("revoke")
@store_options
@_keys_option
@click.argument("key_id")
@click.pass_context
def keys_revoke(
    ctx: click.Context,
    /,
    path: Path | None,
    config_file: Path | None,
    embedding_model_dir: Path | None,
    keys_file: Path | None,
    key_id: str,
) -> None:
    """Revoke a key by its id (restart `memora serve` to apply)."""
    from memora_engine.service import ApiKeyStore

    settings = settings_from(ctx, path=path, config_file=config_file)
    file = _keys_file(settings, keys_file)
    store = ApiKeyStore.load(file)
    if not store.revoke(key_id):
        raise click.ClickException(f"No key {key_id} in {file}.")
    store.save(file)
    click.echo(f"revoked {key_id}")


@click.command("mcp")
@store_options
@llm_options
@click.option("--org", "org_id", default=None, help="Organization [env MEMORA_ORG_ID].")
@click.option("--user", "user_id", default=None, help="User [env MEMORA_USER_ID].")
@click.option("--agent", "agent_id", default=None, help="Agent [env MEMORA_AGENT_ID; mcp].")
@click.option(
    "--url",
    default=None,
    help="Use a running `memora serve` at this URL (key from $MEMORA_API_KEY) instead of "
    "opening the store [env MEMORA_URL].",
)
@click.pass_context
def mcp_cmd(
    ctx: click.Context,
    /,
    path: Path | None,
    config_file: Path | None,
    embedding_model_dir: Path | None,
    model: str | None,
    search_model: str | None,
    raw: bool,
    org_id: str | None,
    user_id: str | None,
    agent_id: str | None,
    url: str | None,
) -> None:
    """Serve Memora's MCP tools over stdio (for Claude Desktop / Claude Code, Cursor, ...).

    The tenant is fixed for the process; the organization, user and agent are created if
    missing. With --url the tools go through a running `memora serve` (shared store).
    """
    import os

    try:
        from memora_engine.mcp_server.stdio import run_stdio
    except ImportError as exc:
        raise click.ClickException(
            f"memora mcp needs the server extra: {install_hint('server')}."
        ) from exc
    from memora_engine.cli._common import require_value, run

    settings = settings_from(
        ctx,
        path=path,
        config_file=config_file,
        embedding_model_dir=embedding_model_dir,
        model=model,
        search_model=search_model,
        org_id=org_id,
        user_id=user_id,
        agent_id=agent_id,
    )
    org = require_value(settings.org_id, "--org", "org_id")
    user = require_value(settings.user_id, "--user", "user_id")
    agent = settings.agent_id or "mcp"
    service_url = url or os.environ.get("MEMORA_URL")

    async def go() -> None:
        memora: Any
        if service_url:
            from memora_engine.client import MemoraClient

            memora = MemoraClient(service_url)
            await memora.setup()
        else:
            llm = resolve_llm(settings, ctx.find_object(CliState), raw=raw)
            memora = await open_memora(settings, llm, create=True)
        try:
            await run_stdio(memora, org, user, agent)
        finally:
            await memora.close()

    run(go())


#: The commands this module adds to ``memora``.
COMMANDS: tuple[click.Command, ...] = (serve, mcp_cmd, keys)
