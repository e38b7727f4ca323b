"""Shared plumbing of the ``memora`` commands: options, settings, opening the stores, output.

Commands are thin: they read settings, open a :class:`~memora_engine.Memora` on the
process-wide sync portal (:func:`memora_engine.sync.default_portal`), run one coroutine and print.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import click
from langchain_core.language_models import BaseChatModel
from rich.console import Console

from memora_engine import ConfigurationError, InvalidInputError, Memora, MemoraError
from memora_engine.llm import BaseBackendLLM, as_backend_llm, llm_from_settings
from memora_engine.settings import MemoraSettings, StoreLayout
from memora_engine.sync import default_portal

Settings = MemoraSettings

# Kept for ``memora reindex`` until it becomes a shell over ``Memora.reindex`` (its owner's
# change): the layout now lives in ``MemoraSettings.layout``.
EMBEDDED_VECTOR_DIR = StoreLayout(Path()).vector_dir.name


def build_stores(settings: Settings, dense: Any = None, sparse: Any = None) -> tuple[Any, Any]:
    """Deprecated: :func:`memora_engine.store_factory.build_stores` (for ``memora reindex``)."""
    from memora_engine.store_factory import build_stores as build

    return build(settings, dense_encoder=dense, sparse_encoder=sparse)


__all__ = [
    "MODEL_HINT",
    "CliError",
    "CliState",
    "LLMChoice",
    "MemoraGroup",
    "console",
    "dump_json",
    "err_console",
    "explain",
    "json_option",
    "llm_options",
    "open_memora",
    "require_value",
    "resolve_llm",
    "run",
    "settings_from",
    "store_options",
    "with_memora",
]

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])

ModelLike = BaseBackendLLM | BaseChatModel


@dataclass
class CliState:
    """What the entry point hands to every command (``ctx.obj``).

    Programs embedding the CLI (and tests) can inject a chat model that overrides the configured
    one, e.g. ``main(["demo"], obj=CliState(llm=my_chat_model))``.
    """

    llm: ModelLike | None = None
    env: Mapping[str, str] | None = None


MODEL_HINT = (
    "Set MEMORA_EMBEDDING_MODEL_DIR (or --embedding-model-dir) to a local ONNX embedding model "
    "folder (model.onnx + tokenizer files), or allow the default model to download."
)


def explain(error: MemoraError) -> str:
    """The error's message, with what to set when the embedding model could not be loaded."""
    message = str(error).strip() or type(error).__name__
    if isinstance(error, ConfigurationError) and "embedding model" in message.lower():
        first = message.splitlines()[0][:300]
        return first if "MEMORA_EMBEDDING_MODEL_DIR" in first else f"{first} {MODEL_HINT}"
    return message


class CliError(click.ClickException):
    """A :class:`MemoraError` shown as one ``Error: ...`` line (exit 2 for bad input, else 1)."""

    def __init__(self, error: MemoraError) -> None:
        super().__init__(explain(error))
        self.bad_input = isinstance(error, InvalidInputError)

    @property
    def exit_code(self) -> int:  # type: ignore[override]
        """2 for bad input, 1 for any other Memora error."""
        return 2 if self.bad_input else 1


class MemoraGroup(click.Group):
    """A click group that turns MemoraErrors raised by its commands into clean CLI errors."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except MemoraError as exc:
            raise CliError(exc) from exc


def run(coro: Awaitable[T]) -> T:
    """Run a coroutine on the shared sync portal and return its result.

    The portal re-raises ``SystemExit`` / ``KeyboardInterrupt`` from inside the coroutine (rich
    raises SystemExit on a broken pipe, e.g. ``memora demo | head``) here, in the caller.
    """

    async def awaited() -> T:
        return await coro

    return default_portal().run(awaited())


def console() -> Console:
    """Standard output (rich: colours and styles only when it is a terminal)."""
    return Console(highlight=False, soft_wrap=False)


def err_console() -> Console:
    """Standard error, for progress bars and notes that must not pollute ``--json`` output."""
    return Console(stderr=True, highlight=False)


def dump_json(data: Any) -> None:
    """Print ``data`` as indented JSON (pydantic models are dumped in JSON mode)."""
    click.echo(json.dumps(_jsonable(data), indent=2, ensure_ascii=False))


def _jsonable(data: Any) -> Any:
    if hasattr(data, "model_dump"):
        return data.model_dump(mode="json")
    if isinstance(data, Mapping):
        return {str(k): _jsonable(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [_jsonable(v) for v in data]
    return data


# ---------------------------------------------------------------------- options
def store_options(func: F) -> F:
    """``--path``, ``--config`` and ``--embedding-model-dir`` (settings of the stores)."""
    func = click.option(
        "--embedding-model-dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help="Local ONNX embedding model folder [env MEMORA_EMBEDDING_MODEL_DIR].",
    )(func)
    func = click.option(
        "--config",
        "config_file",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="TOML config file with a [memora] table [env MEMORA_CONFIG; ./memora.toml].",
    )(func)
    func = click.option(
        "--path",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help="Data directory of the embedded stores [env MEMORA_PATH; default ./.memora].",
    )(func)
    return func


def llm_options(func: F) -> F:
    """``--model``, ``--search-model`` and ``--raw``."""
    func = click.option(
        "--raw",
        is_flag=True,
        default=False,
        help="Raw mode: store messages verbatim as memories, no LLM.",
    )(func)
    func = click.option(
        "--search-model",
        default=None,
        help="Fast chat model for recall queries [env MEMORA_SEARCH_MODEL].",
    )(func)
    func = click.option(
        "--model",
        default=None,
        help="Chat model, e.g. 'groq:llama-3.1-8b-instant' [env MEMORA_LLM_MODEL].",
    )(func)
    return func


def json_option(func: F) -> F:
    """``--json``: machine-readable output."""
    return click.option("--json", "as_json", is_flag=True, help="Print JSON.")(func)


def settings_from(ctx: click.Context, /, **flags: Any) -> Settings:
    """Load the settings for a command from its flags (``config_file`` picks the file)."""
    state = ctx.find_object(CliState) or CliState()
    config_file = flags.pop("config_file", None)
    return MemoraSettings.load(flags, env=state.env, config_file=config_file)


def require_value(value: str | None, flag: str, setting: str) -> str:
    """Return a required id given by flag or setting, or fail with a clear usage message."""
    if value:
        return value
    raise click.UsageError(f"Missing {flag} (or set MEMORA_{setting.upper()}).")


# ---------------------------------------------------------------------- models and stores
@dataclass(frozen=True)
class LLMChoice:
    """The chat models a command will use, and a one-line description (no secrets)."""

    extraction: BaseBackendLLM | None
    search: BaseBackendLLM | None
    description: str

    @property
    def raw(self) -> bool:
        """Whether no extraction model is configured (raw mode)."""
        return self.extraction is None


def resolve_llm(settings: Settings, state: CliState | None, *, raw: bool = False) -> LLMChoice:
    """Pick the models: injected > ``--model`` / settings > provider keys in the environment.

    Raises:
        ConfigurationError: a configured model cannot be built (its package or API key is
            missing, or the provider is unknown).
    """
    if raw:
        return LLMChoice(None, None, "raw mode (--raw): messages are stored verbatim")
    extraction: BaseBackendLLM | None
    if state is not None and state.llm is not None:
        extraction = as_backend_llm(state.llm)
        description = f"injected model {type(state.llm).__name__}"
    elif settings.model:
        extraction = as_backend_llm(settings.model)
        description = settings.model
    else:
        extraction = llm_from_settings(settings)
        description = _describe(extraction)
    search = as_backend_llm(settings.search_model) if settings.search_model else extraction
    if extraction is None:
        description = "no LLM provider found"
    return LLMChoice(extraction, search, description)


def _describe(llm: BaseBackendLLM | None) -> str:
    if llm is None:
        return "no LLM provider found"
    kwargs = llm.get_model_kwargs
    model = kwargs.get("model") or kwargs.get("model_name") or kwargs.get("azure_deployment")
    name = type(llm).__name__
    return f"{name} ({model})" if model else name


def no_store_error(settings: Settings) -> ConfigurationError:
    """The error of a read-only command pointed at a folder without a store."""
    return ConfigurationError(
        f"No Memora store at {settings.path.resolve()}. Check --path / MEMORA_PATH; a store is "
        "created by a writing command (`memora demo`, `memora import`, `memora orgs create`)."
    )


async def open_memora(
    settings: Settings, llm: LLMChoice | None = None, *, create: bool = False
) -> Memora:
    """Open a set-up Memora on the configured stores (the caller closes it).

    Only writing commands pass ``create=True``; the others fail with a clear error when no
    embedded store exists at the path, instead of creating one there.
    """
    if not create and not settings.store_exists():
        raise no_store_error(settings)
    if llm is None or llm.raw:
        return await open_without_models(settings, create=create)
    return await Memora.from_settings(
        settings, extraction_model=llm.extraction, memory_search_model=llm.search, create=create
    )


async def open_without_models(settings: Settings, *, create: bool) -> Memora:
    """Open the stores with no model (searches, admin commands, raw mode)."""
    raw = settings.model_copy(
        update={
            "model": None,
            "search_model": None,
            "openai_api_key": None,
            "azure_openai_api_key": None,
            "groq_api_key": None,
            "together_api_key": None,
        }
    )
    return await Memora.from_settings(raw, create=create)


def with_memora(
    settings: Settings,
    body: Callable[[Memora], Awaitable[T]],
    llm: LLMChoice | None = None,
    *,
    create: bool = False,
) -> T:
    """Open the stores, run ``body(memora)`` on the portal, close the stores; return the result.

    ``create=True`` for writing commands only (see :func:`open_memora`).
    """

    async def go() -> T:
        memora = await open_memora(settings, llm, create=create)
        try:
            return await body(memora)
        finally:
            await memora.close()

    try:
        return run(go())
    except ConfigurationError as exc:
        raise CliError(exc) from exc
