"""``memora keys`` and the start-up checks of ``memora serve`` / ``memora mcp``."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner, Result

from memora_engine.cli._common import CliState
from memora_engine.cli.app import app
from memora_engine.service import ApiKeyStore


def invoke(args: list[str]) -> Result:
    return CliRunner().invoke(app, args, obj=CliState(env={}))


def test_keys_create_list_revoke(tmp_path: Path) -> None:
    created = invoke(["keys", "create", "--path", str(tmp_path), "--org", "acme", "--json"])
    assert created.exit_code == 0, created.output
    data = json.loads(created.output)
    keys_file = tmp_path / "keys.json"
    assert data["keys_file"] == str(keys_file)
    assert data["key"] not in keys_file.read_text()
    assert ApiKeyStore.load(keys_file).authenticate(data["key"]).org_id == "acme"
    listed = invoke(["keys", "list", "--path", str(tmp_path), "--json"])
    assert [row["key_id"] for row in json.loads(listed.output)] == [data["key_id"]]
    revoked = invoke(["keys", "revoke", "--path", str(tmp_path), data["key_id"]])
    assert revoked.exit_code == 0
    assert ApiKeyStore.load(keys_file).records == []
    assert invoke(["keys", "revoke", "--path", str(tmp_path), data["key_id"]]).exit_code == 1


def test_keys_create_refuses_a_key_bound_to_nothing(tmp_path: Path) -> None:
    result = invoke(["keys", "create", "--path", str(tmp_path)])
    assert result.exit_code == 2
    assert "org_id" in result.output
    assert not (tmp_path / "keys.json").exists()


def test_serve_refuses_to_start_without_keys(tmp_path: Path) -> None:
    result = invoke(["serve", "--path", str(tmp_path), "--raw"])
    assert result.exit_code == 1
    assert "memora keys create" in result.output


def test_mcp_needs_a_user(tmp_path: Path) -> None:
    result = invoke(["mcp", "--path", str(tmp_path), "--org", "acme", "--raw"])
    assert result.exit_code == 2
    assert "--user" in result.output
