"""``MemoraSettings``: one settings object for the engine, the CLI and the factories."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from pydantic import SecretStr

from memora_engine import DISTRIBUTION, ConfigurationError, Memora, MemoraSettings, __version__
from memora_engine.cli import CliState, app
from memora_engine.install import install_hint, installed_version
from memora_engine.llm import GroqBackendLLM, llm_from_settings
from memora_engine.settings import STARTUP_DIR, StoreLayout

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]


def test_flags_beat_environment_beat_file_beat_defaults(tmp_path: Path) -> None:
    (tmp_path / "memora.toml").write_text(
        '[memora]\npath = "/from/file"\nmodel = "groq:file-model"\norg_id = "file-org"\n',
        encoding="utf-8",
    )
    env = {"MEMORA_LLM_MODEL": "groq:env-model", "MEMORA_ORG_ID": "env-org"}
    settings = MemoraSettings.load({"org_id": "flag-org"}, env=env, cwd=tmp_path)
    assert settings.org_id == "flag-org"
    assert settings.model == "groq:env-model"
    assert settings.path == Path("/from/file")
    assert settings.qdrant_collection == "memora_memories"
    assert settings.sources["org_id"] == "flag"
    assert settings.sources["model"] == "env MEMORA_LLM_MODEL"
    assert settings.sources["path"] == f"file {tmp_path / 'memora.toml'}"
    assert settings.sources["qdrant_collection"] == "default"
    plain = MemoraSettings.load({}, env={}, cwd=tmp_path, read_config_file=False)
    assert plain.path == Path(".memora")
    assert plain.model is None


def test_secrets_are_secret_and_never_shown(tmp_path: Path) -> None:
    env = {"MEMORA_NEO4J_PASSWORD": "pw-do-not-print", "GROQ_API_KEY": "gsk-do-not-print"}
    settings = MemoraSettings.load({}, env=env, cwd=tmp_path)
    assert isinstance(settings.neo4j_password, SecretStr)
    assert settings.groq_api_key is not None
    assert settings.groq_api_key.get_secret_value() == "gsk-do-not-print"
    rows = {name: value for name, _, value, _ in settings.shown()}
    assert rows["neo4j_password"] == rows["groq_api_key"] == "(set, hidden)"
    assert "do-not-print" not in repr(settings)
    result = CliRunner().invoke(app, ["config", "--json"], obj=CliState(env=env))
    assert result.exit_code == 0, result.output
    assert "do-not-print" not in result.output
    shown = {row["name"]: row for row in json.loads(result.stdout)["settings"]}
    assert shown["groq_api_key"]["env"] == "GROQ_API_KEY"


def test_a_key_from_the_config_file_builds_the_provider(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GROQ_API_KEY", raising=False)
    config = tmp_path / "memora.toml"
    config.write_text('[memora]\ngroq_api_key = "gsk-from-file"\n', encoding="utf-8")
    settings = MemoraSettings.load({}, env={}, config_file=config)
    assert isinstance(llm_from_settings(settings), GroqBackendLLM)
    named = MemoraSettings.load({"model": "groq:llama-3.1-8b-instant"}, env={}, config_file=config)
    built = llm_from_settings(named)  # the key from the file, not from the environment
    assert built is not None
    assert type(built.chat_model).__name__ == "ChatGroq"
    without = MemoraSettings.load(
        {"model": "groq:llama-3.1-8b-instant"}, env={}, read_config_file=False
    )
    with pytest.raises(ConfigurationError, match="GROQ_API_KEY"):
        llm_from_settings(without)
    assert llm_from_settings(MemoraSettings.load({}, env={}, read_config_file=False)) is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[memora]\nnope = 1\n", "Unknown setting"),
        ("[memora\n", "not valid TOML"),
        ("memora = 3\n", "must be a table"),
    ],
)
def test_a_bad_config_file_is_a_configuration_error(
    tmp_path: Path, text: str, message: str
) -> None:
    config = tmp_path / "bad.toml"
    config.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigurationError, match=message):
        MemoraSettings.load({}, env={}, config_file=config)
    with pytest.raises(ConfigurationError, match="does not exist"):
        MemoraSettings.load({}, env={"MEMORA_CONFIG": str(tmp_path / "missing.toml")})


def test_a_relative_model_folder_is_resolved_once_against_the_start_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    settings = MemoraSettings.load({}, env={"MEMORA_EMBEDDING_MODEL_DIR": "models/minilm"})
    assert settings.embedding_model_dir == STARTUP_DIR / "models" / "minilm"


async def test_embedded_and_from_settings_follow_the_one_layout(tmp_path: Path) -> None:
    settings = MemoraSettings.load({"path": str(tmp_path / "data")}, env=dict(os.environ))
    layout = settings.layout
    assert layout == StoreLayout(tmp_path / "data")
    with pytest.raises(ConfigurationError, match="No Memora store"):
        await Memora.from_settings(settings, create=False)
    assert not layout.root.exists()
    async with await Memora.from_settings(settings) as memora:
        await memora.create_organization("Acme", org_id="acme")
    assert layout.graph_file.is_file()
    assert layout.vector_dir.is_dir()
    async with await Memora.embedded(settings=settings, create=False) as memora:
        assert [o.org_id for o in await memora.list_organizations()] == ["acme"]


def test_the_distribution_name_is_defined_once() -> None:
    """#12 item 9: `memora` on PyPI is someone else's package."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["name"] == DISTRIBUTION == "memora-engine"
    assert project["optional-dependencies"]["all"][0].startswith(f"{DISTRIBUTION}[cli,")
    assert any(d.startswith("click") for d in project["optional-dependencies"]["cli"])
    assert not any(d.startswith(("click", "rich")) for d in project["dependencies"])
    assert install_hint("neo4j") == 'pip install "memora-engine[neo4j]"'
    assert __version__ == installed_version()
