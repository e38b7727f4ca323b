"""CLI settings: flags, then ``MEMORA_*`` environment variables, then an optional TOML file.

Every setting has one name, one environment variable and one key in the ``[memora]`` table of the
config file (``--config FILE``, else ``$MEMORA_CONFIG``, else ``./memora.toml`` when it exists).
Secrets (passwords, API keys) are held as :class:`pydantic.SecretStr` and never printed.
LLM provider keys (``OPENAI_API_KEY``, ``GROQ_API_KEY``, ...) are read by the LLM layer itself.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, SecretStr, ValidationError

from memora_engine.errors import ConfigurationError

__all__ = [
    "CONFIG_ENV",
    "DEFAULT_CONFIG_FILE",
    "SETTINGS",
    "SettingSpec",
    "Settings",
    "load_settings",
]

#: Environment variable naming the config file.
CONFIG_ENV = "MEMORA_CONFIG"
#: Config file read from the working directory when neither ``--config`` nor ``MEMORA_CONFIG``.
DEFAULT_CONFIG_FILE = "memora.toml"
#: The table of the config file that holds the settings.
CONFIG_TABLE = "memora"


@dataclass(frozen=True)
class SettingSpec:
    """One setting: its name (flag / file key), environment variable, default and meaning."""

    name: str
    env: str
    default: str | None
    help: str
    secret: bool = False


SETTINGS: tuple[SettingSpec, ...] = (
    SettingSpec("path", "MEMORA_PATH", ".memora", "Data directory of the embedded stores."),
    SettingSpec(
        "model",
        "MEMORA_LLM_MODEL",
        None,
        "Chat model for extraction, an init_chat_model string such as "
        "'groq:llama-3.1-8b-instant' (else a provider key found in the environment; else raw "
        "mode).",
    ),
    SettingSpec(
        "search_model",
        "MEMORA_SEARCH_MODEL",
        None,
        "Fast chat model for recall queries (default: the extraction model).",
    ),
    SettingSpec(
        "embedding_model_dir",
        "MEMORA_EMBEDDING_MODEL_DIR",
        None,
        "Local ONNX embedding model folder (no download); else the default model is downloaded.",
    ),
    SettingSpec("neo4j_uri", "MEMORA_NEO4J_URI", None, "Neo4j URI: use Neo4j as the graph store."),
    SettingSpec("neo4j_username", "MEMORA_NEO4J_USER", "neo4j", "Neo4j user name."),
    SettingSpec("neo4j_password", "MEMORA_NEO4J_PASSWORD", None, "Neo4j password.", secret=True),
    SettingSpec("neo4j_database", "MEMORA_NEO4J_DATABASE", "neo4j", "Neo4j database."),
    SettingSpec(
        "qdrant_url", "MEMORA_QDRANT_URL", None, "Qdrant server / Cloud URL: use it for vectors."
    ),
    SettingSpec("qdrant_api_key", "MEMORA_QDRANT_API_KEY", None, "Qdrant API key.", secret=True),
    SettingSpec(
        "qdrant_collection", "MEMORA_QDRANT_COLLECTION", "memora_memories", "Qdrant collection."
    ),
    SettingSpec("org_id", "MEMORA_ORG_ID", None, "Default --org of the commands."),
    SettingSpec("user_id", "MEMORA_USER_ID", None, "Default --user of the commands."),
    SettingSpec("agent_id", "MEMORA_AGENT_ID", None, "Default --agent of the commands."),
)

_SPECS = {spec.name: spec for spec in SETTINGS}


class Settings(BaseModel):
    """The effective CLI settings and where each one came from.

    Examples:
        >>> settings = load_settings({"path": "/tmp/demo"}, env={})
        >>> settings.path, settings.sources["path"]
        (PosixPath('/tmp/demo'), 'flag')
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    path: Path = Path(".memora")
    model: str | None = None
    search_model: str | None = None
    embedding_model_dir: Path | None = None
    neo4j_uri: str | None = None
    neo4j_username: str = "neo4j"
    neo4j_password: SecretStr | None = None
    neo4j_database: str = "neo4j"
    qdrant_url: str | None = None
    qdrant_api_key: SecretStr | None = None
    qdrant_collection: str = "memora_memories"
    org_id: str | None = None
    user_id: str | None = None
    agent_id: str | None = None
    config_file: Path | None = None
    sources: dict[str, str] = {}

    @property
    def embedded(self) -> bool:
        """Whether both stores are the embedded ones under :attr:`path`."""
        return self.neo4j_uri is None and self.qdrant_url is None

    def shown(self) -> list[tuple[str, str, str, str]]:
        """``(name, env, value, source)`` rows for display; secrets are masked."""
        rows = []
        for spec in SETTINGS:
            value = getattr(self, spec.name)
            if value is None:
                text = "-"
            elif spec.secret:
                text = "(set, hidden)"
            else:
                text = str(value)
            rows.append((spec.name, spec.env, text, self.sources.get(spec.name, "default")))
        return rows


def load_settings(
    flags: Mapping[str, Any],
    *,
    env: Mapping[str, str] | None = None,
    config_file: str | Path | None = None,
    cwd: Path | None = None,
) -> Settings:
    """Merge settings: flags (non-``None``) > environment > config file > defaults.

    Raises:
        ConfigurationError: the config file is unreadable, not TOML, or has unknown keys or bad
            values.
    """
    environ = os.environ if env is None else env
    file_path = _config_path(config_file, environ, cwd or Path.cwd())
    file_values = _read_config_file(file_path) if file_path is not None else {}
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for spec in SETTINGS:
        flag = flags.get(spec.name)
        if flag is not None and flag != "":
            values[spec.name], sources[spec.name] = flag, "flag"
        elif environ.get(spec.env, "").strip():
            values[spec.name], sources[spec.name] = environ[spec.env].strip(), f"env {spec.env}"
        elif spec.name in file_values:
            values[spec.name], sources[spec.name] = file_values[spec.name], f"file {file_path}"
        elif spec.default is not None:
            values[spec.name], sources[spec.name] = spec.default, "default"
    try:
        return Settings(**values, config_file=file_path, sources=sources)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()[:5]
        )
        raise ConfigurationError(f"Invalid settings: {problems}") from None


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
    unknown = sorted(set(table) - set(_SPECS))
    if unknown:
        raise ConfigurationError(
            f"Unknown setting(s) {unknown} in [{CONFIG_TABLE}] of {path}; known: {sorted(_SPECS)}."
        )
    return {key: str(value) for key, value in table.items()}
