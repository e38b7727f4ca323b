"""``memora doctor``: check settings, stores, encoders, index consistency and the LLM.

Each check reports ``ok``, ``warn`` or ``FAIL`` with a detail and, when something is wrong, what
to do about it. The exit status is 1 when any check fails. Secrets are never shown.
"""

from __future__ import annotations

import contextlib
import sys
import time
from dataclasses import asdict, dataclass
from typing import Any

import click
from rich.table import Table

from memora_engine import MemoraError, __version__
from memora_engine.cli._common import (
    MODEL_HINT,
    CliState,
    Settings,
    console,
    dump_json,
    json_option,
    open_without_models,
    resolve_llm,
    run,
    settings_from,
    store_options,
)
from memora_engine.embeddings import DEFAULT_DENSE_MODEL, resolve_model_dir
from memora_engine.errors import BackendUnavailableError, ConfigurationError

__all__ = ["Check", "doctor", "run_checks"]

_MODEL_FIX = MODEL_HINT


@dataclass
class Check:
    """One line of the doctor's report."""

    name: str
    status: str  # "ok" | "warn" | "FAIL"
    detail: str
    fix: str = ""


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:300]


def _store_fix(exc: BaseException, what: str) -> str:
    if isinstance(exc, BackendUnavailableError):
        return f"Another process may hold the {what}, or its server is unreachable; check it."
    if isinstance(exc, ConfigurationError) and "dimension" in str(exc):
        return "The embedding model changed: run `memora reindex`."
    if isinstance(exc, ConfigurationError):
        return "Fix the setting named in the message (see `memora config`)."
    return f"Check the {what}'s settings (see `memora config`)."


async def run_checks(settings: Settings, state: CliState | None) -> list[Check]:
    """Run every check; never raises for a failing component."""
    checks: list[Check] = [
        Check("memora", "ok", f"version {__version__}, Python {sys.version.split()[0]}"),
        Check(
            "config file",
            "ok",
            str(settings.config_file) if settings.config_file else "none (flags and env only)",
        ),
    ]
    if settings.embedded:
        path = settings.path.resolve()
        if not settings.layout.exists():
            checks.append(
                Check(
                    "data directory",
                    "warn",
                    f"{path}: no store yet (doctor creates nothing)",
                    "Run `memora demo` or `memora import FILE` to create one, or fix --path.",
                )
            )
            checks.append(await _check_dense(settings))
            checks.append(_check_llm(settings, state))
            return checks
        checks.append(Check("data directory", "ok", str(path)))
    checks.append(await _check_dense(settings))
    checks.extend(await _check_stores(settings))
    checks.append(_check_llm(settings, state))
    return checks


async def _check_stores(settings: Settings) -> list[Check]:
    """Open the stores through Memora (no model, creating nothing); check the index."""
    where = settings.where()
    try:
        memora = await open_without_models(settings, create=False)
    except MemoraError as exc:
        return [Check("stores", "FAIL", f"{where}: {_first_line(exc)}", _store_fix(exc, "store"))]
    try:
        orgs = await memora.list_organizations()
        status = await memora.index_status()
    except MemoraError as exc:
        return [Check("stores", "FAIL", f"{where}: {_first_line(exc)}", _store_fix(exc, "store"))]
    finally:
        with contextlib.suppress(MemoraError):
            await memora.close()
    checks = [
        Check("stores", "ok", f"{where}: {len(orgs)} organization(s), {status.points} point(s)")
    ]
    detail = (
        f"{status.memories} memories in the graph, {status.indexed} indexed, "
        f"{status.stray} stray point(s)"
    )
    if status.missing:
        checks.append(Check("index", "FAIL", detail, "Run `memora reindex`."))
    elif status.stray:
        checks.append(Check("index", "warn", detail, "Harmless; `memora reindex` removes them."))
    else:
        checks.append(Check("index", "ok", detail))
    return checks


async def _check_dense(settings: Settings) -> Check:
    from memora_engine.embeddings import default_dense_encoder, default_sparse_encoder

    try:
        folder = resolve_model_dir(settings.embedding_model_dir)
        where = str(folder) if folder else f"{DEFAULT_DENSE_MODEL} (downloaded on first use)"
        encoder = default_dense_encoder(folder)
        started = time.perf_counter()
        [vector] = await encoder.embed_queries(["memora doctor"])
        elapsed = time.perf_counter() - started
        [sparse] = await default_sparse_encoder().embed_queries(["memora doctor"])
    except MemoraError as exc:
        return Check("embedding model", "FAIL", _first_line(exc), _MODEL_FIX)
    return Check(
        "embedding model",
        "ok",
        f"{where}: dim {len(vector)}, loaded and ran in {elapsed:.1f} s; "
        f"BM25 sparse ok ({len(sparse.indices)} terms)",
    )


def _check_llm(settings: Settings, state: CliState | None) -> Check:
    try:
        choice = resolve_llm(settings, state)
    except MemoraError as exc:
        return Check(
            "LLM",
            "FAIL",
            _first_line(exc),
            "Set the API key the message names, install the provider's package, or fix --model.",
        )
    if choice.raw:
        return Check(
            "LLM",
            "warn",
            "no provider configured: raw mode (messages stored verbatim)",
            "Set --model / MEMORA_LLM_MODEL, or OPENAI_API_KEY / GROQ_API_KEY / TOGETHER_API_KEY "
            "/ AZURE_OPENAI_* for extraction.",
        )
    assert choice.extraction is not None
    method = choice.extraction.structured_output_method
    return Check("LLM", "ok", f"{choice.description}; structured output: {method}")


_STYLE = {"ok": "green", "warn": "yellow", "FAIL": "bold red"}


@click.command()
@json_option
@click.option("--model", default=None, help="Chat model to check [env MEMORA_LLM_MODEL].")
@store_options
@click.pass_context
def doctor(ctx: click.Context, /, as_json: bool, model: str | None, **opts: Any) -> None:
    """Check the configured stores, encoders and model, and say what to fix."""
    settings = settings_from(ctx, model=model, **opts)
    checks = run(run_checks(settings, ctx.find_object(CliState)))
    failed = any(c.status == "FAIL" for c in checks)
    if as_json:
        dump_json({"ok": not failed, "checks": [asdict(c) for c in checks]})
    else:
        table = Table(title="memora doctor")
        for column in ("check", "status", "detail", "fix"):
            table.add_column(column, overflow="fold")
        for check in checks:
            style = _STYLE.get(check.status, "")
            table.add_row(check.name, f"[{style}]{check.status}[/]", check.detail, check.fix)
        out = console()
        out.print(table)
        out.print(
            "[red]Some checks failed.[/]" if failed else "[green]All essential checks passed.[/]"
        )
    if failed:
        ctx.exit(1)
