"""One settings object for the engine, the CLI and the factories: :class:`MemoraSettings`.

Sources, highest first: values passed in (CLI flags), environment variables (``MEMORA_*``, and
the providers' own ``OPENAI_API_KEY`` ...), the ``[memora]`` table of a TOML file
(``MEMORA_CONFIG``, else ``./memora.toml`` when it exists), then defaults. Secrets (passwords and
API keys) are :class:`pydantic.SecretStr` and never printed. The embedded data-folder layout is
defined once, in :class:`StoreLayout`.

A relative embedding-model folder is resolved once, against the working directory the process
started in (:data:`STARTUP_DIR`), so changing directory later does not break it.

Examples:
    >>> settings = MemoraSettings.load({"path": "/tmp/demo"}, env={})
    >>> settings.path, settings.sources["path"]
    (PosixPath('/tmp/demo'), 'flag')
    >>> settings.layout.graph_file.name
    'graph.sqlite3'
"""

from __future__ import annotations

import contextvars
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from memora_engine.errors import ConfigurationError

__all__ = [
    "CONFIG_ENV",
    "CONFIG_TABLE",
    "DEFAULT_CONFIG_FILE",
    "STARTUP_DIR",
    "MemoraSettings",
    "StoreLayout",
    "resolve_startup_path",
]

#: Environment variable naming the config file.
CONFIG_ENV = "MEMORA_CONFIG"
#: Config file read from the working directory when no other file is named.
DEFAULT_CONFIG_FILE = "memora.toml"
#: The table of the config file that holds the settings.
CONFIG_TABLE = "memora"


def _startup_dir() -> Path:
    try:
        return Path.cwd()
    except OSError:  # pragma: no cover - the working directory was deleted
        return Path("/")


#: The working directory when Memora was first imported (relative model folders start here).
STARTUP_DIR = _startup_dir()


def resolve_startup_path(value: str | Path) -> Path:
    """``value`` with ``~`` expanded, made absolute against :data:`STARTUP_DIR`."""
    path = Path(value).expanduser()
    return path if path.is_absolute() else STARTUP_DIR / path


@dataclass(frozen=True)
class StoreLayout:
    """Where the embedded stores keep their files under one data folder.

    Examples:
        >>> StoreLayout(Path(".memora")).vector_dir
        PosixPath('.memora/vectors')
    """

    root: Path

    @property
    def graph_file(self) -> Path:
        """The SQLite graph store."""
        return self.root / "graph.sqlite3"

    @property
    def vector_dir(self) -> Path:
        """The Qdrant Edge vector index."""
        return self.root / "vectors"

    @property
    def import_state_dir(self) -> Path:
        """Progress of resumable imports (one small file per imported file)."""
        return self.root / "imports"

    def exists(self) -> bool:
        """Whether a store was created here (its graph file exists)."""
        return self.graph_file.is_file()

    def prepare(self, *, create: bool) -> None:
        """Check (and with ``create`` make) the data folder; OS errors become
        :class:`~memora_engine.errors.ConfigurationError`."""
        root = self.root
        if root.exists() and not root.is_dir():
            raise ConfigurationError(
                f"{root} is a file, not a Memora data folder; pick another path."
            )
        if not create:
            if not self.exists():
                raise ConfigurationError(
                    f"No Memora store at {root} (no {self.graph_file.name} there). Check the "
                    "path (--path / MEMORA_PATH); a store is created by the first write."
                )
            return
        try:
            root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigurationError(
                f"Cannot create the Memora data folder {root}: {exc}"
            ) from None


def _env(*names: str) -> Any:
    """Accept the field's name (flags, the TOML file) and its environment variable(s)."""
    return AliasChoices(*names)


_SECRET_HIDDEN = "(set, hidden)"
# ``(load, env, config file)`` of the current :meth:`MemoraSettings.load` call.
_LOAD: contextvars.ContextVar[tuple[Mapping[str, str] | None, Path | None, bool]] = (
    contextvars.ContextVar("memora_settings_load", default=(None, None, True))
)


class MemoraSettings(BaseSettings):
    """Every Memora setting, with its environment variable and ``[memora]`` TOML key.

    Build it with :meth:`load` (which also records where each value came from), or plainly
    ``MemoraSettings()`` (environment and config file only). Frozen: derive variants with
    ``model_copy(update=...)``.

    Examples:
        >>> settings = MemoraSettings.load({}, env={"MEMORA_PATH": "/data/memora"})
        >>> settings.path, settings.embedded
        (PosixPath('/data/memora'), True)
    """

    model_config = SettingsConfigDict(
        env_prefix="MEMORA_",
        frozen=True,
        extra="forbid",
        populate_by_name=True,
        env_ignore_empty=True,
    )

    path: Path = Field(
        Path(".memora"),
        validation_alias=_env("path", "MEMORA_PATH"),
        description="Data directory of the embedded stores.",
    )
    model: str | None = Field(
        None,
        validation_alias=_env("model", "MEMORA_LLM_MODEL"),
        description="Chat model for extraction, an init_chat_model string such as "
        "'groq:llama-3.1-8b-instant' (else a provider key found in the environment; else raw "
        "mode).",
    )
    search_model: str | None = Field(
        None,
        validation_alias=_env("search_model", "MEMORA_SEARCH_MODEL"),
        description="Fast chat model for recall queries (default: the extraction model).",
    )
    embedding_model_dir: Path | None = Field(
        None,
        validation_alias=_env("embedding_model_dir", "MEMORA_EMBEDDING_MODEL_DIR"),
        description="Local ONNX embedding model folder (no download); a relative folder is "
        "resolved against the directory Memora started in.",
    )
    neo4j_uri: str | None = Field(
        None,
        validation_alias=_env("neo4j_uri", "MEMORA_NEO4J_URI"),
        description="Neo4j URI: use Neo4j as the graph store.",
    )
    neo4j_username: str = Field(
        "neo4j", validation_alias=_env("neo4j_username", "MEMORA_NEO4J_USER")
    )
    neo4j_password: SecretStr | None = Field(
        None, validation_alias=_env("neo4j_password", "MEMORA_NEO4J_PASSWORD")
    )
    neo4j_database: str = Field(
        "neo4j", validation_alias=_env("neo4j_database", "MEMORA_NEO4J_DATABASE")
    )
    qdrant_url: str | None = Field(
        None,
        validation_alias=_env("qdrant_url", "MEMORA_QDRANT_URL"),
        description="Qdrant server / Cloud URL: use it for vectors.",
    )
    qdrant_api_key: SecretStr | None = Field(
        None, validation_alias=_env("qdrant_api_key", "MEMORA_QDRANT_API_KEY")
    )
    qdrant_collection: str = Field(
        "memora_memories", validation_alias=_env("qdrant_collection", "MEMORA_QDRANT_COLLECTION")
    )
    metadata_indexes: dict[str, Literal["keyword", "float"]] = Field(
        default_factory=dict,
        validation_alias=_env("metadata_indexes", "MEMORA_METADATA_INDEXES"),
        description='Vector payload indexes on metadata keys you filter on, {"project": '
        '"keyword", "priority": "float"} (JSON in the environment); they make filtered search '
        "fast and never change results.",
    )
    context_indexing: bool = Field(
        True,
        validation_alias=_env("context_indexing", "MEMORA_CONTEXT_INDEXING"),
        description="Index a raw turn's BM25 vector from the turn in context (date, previous "
        "message); false indexes every memory from its own text (run `memora reindex` after "
        "switching).",
    )
    org_id: str | None = Field(None, validation_alias=_env("org_id", "MEMORA_ORG_ID"))
    user_id: str | None = Field(None, validation_alias=_env("user_id", "MEMORA_USER_ID"))
    agent_id: str | None = Field(None, validation_alias=_env("agent_id", "MEMORA_AGENT_ID"))
    # Provider keys, under the providers' own variable names (read by the provider factory).
    openai_api_key: SecretStr | None = Field(
        None, validation_alias=_env("openai_api_key", "OPENAI_API_KEY")
    )
    azure_openai_api_key: SecretStr | None = Field(
        None, validation_alias=_env("azure_openai_api_key", "AZURE_OPENAI_API_KEY")
    )
    azure_openai_endpoint: str | None = Field(
        None, validation_alias=_env("azure_openai_endpoint", "AZURE_OPENAI_ENDPOINT")
    )
    azure_openai_deployment: str | None = Field(
        None, validation_alias=_env("azure_openai_deployment", "AZURE_OPENAI_DEPLOYMENT")
    )
    openai_api_version: str | None = Field(
        None, validation_alias=_env("openai_api_version", "OPENAI_API_VERSION")
    )
    groq_api_key: SecretStr | None = Field(
        None, validation_alias=_env("groq_api_key", "GROQ_API_KEY")
    )
    together_api_key: SecretStr | None = Field(
        None, validation_alias=_env("together_api_key", "TOGETHER_API_KEY")
    )
    config_file: Path | None = Field(None, exclude=True)
    sources: dict[str, str] = Field(default_factory=dict, exclude=True)

    @field_validator("embedding_model_dir")
    @classmethod
    def _resolve_model_dir(cls, value: Path | None) -> Path | None:
        return None if value is None or str(value) == "" else resolve_startup_path(value)

    @field_validator("model", "search_model", "neo4j_uri", "qdrant_url", mode="before")
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Flags (init), then the environment, then the TOML file; no ``.env`` file."""
        return init_settings, _EnvSource(settings_cls), _TomlTableSource(settings_cls)

    # ------------------------------------------------------------------ loading
    @classmethod
    def load(
        cls,
        flags: Mapping[str, Any] | None = None,
        *,
        env: Mapping[str, str] | None = None,
        config_file: str | Path | None = None,
        cwd: Path | None = None,
        read_config_file: bool = True,
    ) -> MemoraSettings:
        """Merge flags (non-empty) > environment > config file > defaults; record the sources.

        Args:
            flags: Values given explicitly (e.g. CLI flags), by field name; ``None`` is unset.
            env: The environment to read (default ``os.environ``).
            config_file: The TOML file (default ``$MEMORA_CONFIG``, else ``./memora.toml``).
            cwd: Where ``memora.toml`` is looked for (default: the working directory).
            read_config_file: ``False`` ignores every config file (flags and environment only).

        Raises:
            ConfigurationError: the config file is missing, unreadable, not TOML, or has
                unknown keys or bad values.
        """
        environ = os.environ if env is None else env
        file_path = (
            _config_path(config_file, environ, cwd or Path.cwd()) if read_config_file else None
        )
        given = {k: v for k, v in (flags or {}).items() if v is not None and v != ""}
        unknown = sorted(set(given) - set(_field_names()))
        if unknown:
            raise ConfigurationError(f"Unknown setting(s) {unknown}.")
        file_values = _read_config_file(file_path) if file_path is not None else {}
        env_values = _env_values(environ)
        sources: dict[str, str] = {}
        for name in _field_names():
            if name in given:
                sources[name] = "flag"
            elif name in env_values:
                sources[name] = f"env {env_values[name]}"
            elif name in file_values:
                sources[name] = f"file {file_path}"
            else:
                sources[name] = "default"
        with _loading(env, file_path, read_config_file):
            try:
                return cls(**given, config_file=file_path, sources=sources)
            except ValidationError as exc:
                problems = "; ".join(
                    f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}"
                    for err in exc.errors()[:5]
                )
                raise ConfigurationError(f"Invalid settings: {problems}") from None

    # ------------------------------------------------------------------ derived
    @property
    def embedded(self) -> bool:
        """Whether both stores are the embedded ones under :attr:`path`."""
        return self.neo4j_uri is None and self.qdrant_url is None

    @property
    def layout(self) -> StoreLayout:
        """The embedded data-folder layout under :attr:`path`."""
        return StoreLayout(self.path)

    def store_exists(self) -> bool:
        """Whether the configured stores exist (server stores are assumed to)."""
        return not self.embedded or self.layout.exists()

    def where(self) -> str:
        """A one-line description of the configured stores (no secrets)."""
        graph = self.neo4j_uri or str(self.layout.graph_file)
        vector = self.qdrant_url or str(self.layout.vector_dir)
        return f"graph {graph}, vectors {vector}"

    def shown(self) -> list[tuple[str, str, str, str]]:
        """``(name, environment variable, value, source)`` rows; secrets are masked."""
        rows = []
        for name, info in _fields().items():
            value = getattr(self, name)
            if value is None:
                text = "-"
            elif isinstance(value, SecretStr):
                text = _SECRET_HIDDEN
            else:
                text = str(value)
            rows.append((name, _env_name(info), text, self.sources.get(name, "default")))
        return rows


# ---------------------------------------------------------------------- sources
def _fields() -> dict[str, FieldInfo]:
    hidden = {"config_file", "sources"}
    return {n: f for n, f in MemoraSettings.model_fields.items() if n not in hidden}


def _field_names() -> list[str]:
    return list(_fields())


def _env_name(info: FieldInfo) -> str:
    alias = info.validation_alias
    assert isinstance(alias, AliasChoices)
    return str(alias.choices[-1])


def _env_values(environ: Mapping[str, str]) -> dict[str, str]:
    """``field -> environment variable`` for every setting set (non-blank) in ``environ``."""
    found: dict[str, str] = {}
    for name, info in _fields().items():
        variable = _env_name(info)
        if environ.get(variable, "").strip():
            found[name] = variable
    return found


@contextmanager
def _loading(
    env: Mapping[str, str] | None, config_file: Path | None, read_file: bool
) -> Iterator[None]:
    token = _LOAD.set((env, config_file, read_file))
    try:
        yield
    finally:
        _LOAD.reset(token)


class _EnvSource(EnvSettingsSource):
    """The environment (``os.environ``, or the mapping given to :meth:`MemoraSettings.load`)."""

    def __init__(self, settings_cls: type[BaseSettings]) -> None:
        super().__init__(settings_cls, case_sensitive=True)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        env, _, _ = _LOAD.get()
        source = os.environ if env is None else env
        names = {_env_name(info) for info in _fields().values()}
        return {k: v.strip() for k, v in source.items() if k in names and v.strip()}


class _TomlTableSource(PydanticBaseSettingsSource):
    """The ``[memora]`` table of the config file."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # pragma: no cover - __call__ is used instead

    def __call__(self) -> dict[str, Any]:
        env, file_path, read_file = _LOAD.get()
        if not read_file:
            return {}
        if file_path is None:
            file_path = _config_path(None, os.environ if env is None else env, Path.cwd())
        return _read_config_file(file_path) if file_path is not None else {}


def _config_path(explicit: str | Path | None, environ: Mapping[str, str], cwd: Path) -> Path | None:
    if explicit is not None and str(explicit) != "":
        path = Path(explicit).expanduser()
        if not path.is_file():
            raise ConfigurationError(f"Config file {path} does not exist.")
        return path
    if environ.get(CONFIG_ENV, "").strip():
        path = Path(environ[CONFIG_ENV].strip()).expanduser()
        if not path.is_file():
            raise ConfigurationError(f"{CONFIG_ENV}={path} does not exist.")
        return path
    default = cwd / DEFAULT_CONFIG_FILE
    return default if default.is_file() else None


def _read_config_file(path: Path) -> dict[str, Any]:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        try:
            import tomli as tomllib
        except ModuleNotFoundError:
            raise ConfigurationError(
                f"Reading {path} on Python 3.10 needs the 'tomli' package: pip install tomli"
            ) from None
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"Cannot read config file {path}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"Config file {path} is not valid TOML: {exc}") from None
    table = data.get(CONFIG_TABLE, {})
    if not isinstance(table, dict):
        raise ConfigurationError(f"[{CONFIG_TABLE}] in {path} must be a table.")
    known = set(_field_names())
    unknown = sorted(set(table) - known)
    if unknown:
        raise ConfigurationError(
            f"Unknown setting(s) {unknown} in [{CONFIG_TABLE}] of {path}; known: {sorted(known)}."
        )
    return {key: str(value) for key, value in table.items()}
