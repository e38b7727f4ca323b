"""Every Cypher statement the Neo4j backend can issue passes Neo4j's official linter.

The linter is the npm package ``@neo4j-cypher/language-support`` (``lintCypherQuery``), run by
``tests/cypher_lint/lint.mjs`` under Cypher 5 and Cypher 25. Each statement is linted with its
own declared parameters (so "parameter not defined" is a real finding), the model's labels,
relationship types, property keys and allowed paths, and Neo4j's built-in functions only (so
APOC or a misspelt function is a finding). Zero diagnostics are allowed.

Known-bad canary statements go through the same run and must each be reported, which proves
the linter is live and checking what we rely on.

Needs ``node`` and ``npm ci --prefix tests/cypher_lint``; without them these tests are SKIPPED
with a reason naming that command (CI installs both, so there they always run).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from memora_engine.graph_db.neo4j import cypher

LINT_DIR = Path(__file__).parent / "cypher_lint"
LINTER_PACKAGE = LINT_DIR / "node_modules" / "@neo4j-cypher" / "language-support"
VERSIONS = ("CYPHER 5", "CYPHER 25")

#: ``name -> (query, declared params, words one of the diagnostics must contain)``.
CANARIES: dict[str, tuple[str, list[str], str]] = {
    "canary_misspelt_label": (
        "MATCH (o:Orgg {org_id: $org_id}) RETURN o.org_name AS name",
        ["org_id"],
        "Orgg",
    ),
    "canary_undeclared_param": (
        "MATCH (o:Org {org_id: $org_idd}) RETURN o.org_name AS name",
        ["org_id"],
        "org_idd",
    ),
    "canary_apoc_function": (
        "MATCH (o:Org) RETURN apoc.text.join([o.org_name], ',') AS name",
        [],
        "apoc.text.join",
    ),
    "canary_syntax_error": ("MATCH (o:Org) RETRUN o", [], "RETRUN"),
    "canary_wrong_direction": (
        "MATCH (o:Org)-[:BELONGS_TO]->(u:User) RETURN u.user_id AS id",
        [],
        "BELONGS_TO",
    ),
    "canary_misspelt_property": ("MATCH (o:Org) RETURN o.org_nam AS name", [], "org_nam"),
    "canary_deprecated_function": ("MATCH (o:Org) RETURN id(o) AS n", [], "deprecated"),
}


def _schema() -> dict[str, Any]:
    return {
        "labels": list(cypher.LABELS),
        "relationshipTypes": list(cypher.RELATIONSHIP_TYPES),
        "propertyKeys": list(cypher.PROPERTY_KEYS),
        "graphSchema": [
            {"from": start, "relType": rel, "to": end} for start, rel, end in cypher.GRAPH_SCHEMA
        ],
    }


@pytest.fixture(scope="module")
def lint_report() -> dict[str, Any]:
    """Run the linter once over every backend statement and the canaries."""
    node = shutil.which("node")
    reason = linter_missing_reason(node, LINTER_PACKAGE)
    if reason is not None:
        pytest.skip(reason)
    assert node is not None
    statements = [
        {"name": s.name, "query": s.text, "params": sorted(s.params)} for s in cypher.ALL_STATEMENTS
    ] + [
        {"name": name, "query": query, "params": params}
        for name, (query, params, _) in CANARIES.items()
    ]
    payload = {"statements": statements, "schema": _schema(), "cypherVersions": list(VERSIONS)}
    done = subprocess.run(
        [node, str(LINT_DIR / "lint.mjs")],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if done.returncode != 0:
        pytest.fail(f"lint.mjs failed ({done.returncode}):\n{done.stderr[-4000:]}")
    report: dict[str, Any] = json.loads(done.stdout)
    return report


def linter_missing_reason(node: str | None, package: Path) -> str | None:
    """Why the linter cannot run here (``None``: it can), naming the command that enables it."""
    enable = "install Node.js >= 20, then run `npm ci --prefix tests/cypher_lint`"
    if node is None:
        return f"Cypher linter not available: node is not installed ({enable})."
    if not package.is_dir():
        return (
            "Cypher linter not installed: run `npm ci --prefix tests/cypher_lint` "
            f"(expected {package})."
        )
    return None


def test_missing_linter_skips_with_the_command_that_enables_it(tmp_path: Path) -> None:
    """Regression (#13 bug 2): the README's `pytest` on a fresh clone skips these tests with a
    reason naming the npm command, instead of failing."""
    absent = tmp_path / "node_modules" / "@neo4j-cypher" / "language-support"
    for node in (None, "/usr/bin/node"):
        reason = linter_missing_reason(node, absent)
        assert reason is not None
        assert "npm ci --prefix tests/cypher_lint" in reason
    absent.mkdir(parents=True)
    assert linter_missing_reason("/usr/bin/node", absent) is None


def _diagnostics(report: dict[str, Any], name: str) -> dict[str, list[dict[str, Any]]]:
    return {r["cypherVersion"]: r["diagnostics"] for r in report["results"] if r["name"] == name}


def test_linter_ran_every_statement_under_each_version(lint_report: dict[str, Any]) -> None:
    names = [s.name for s in cypher.ALL_STATEMENTS]
    assert len(names) == len(set(names)), "statement names must be unique"
    for name in [*names, *CANARIES]:
        assert set(_diagnostics(lint_report, name)) == set(VERSIONS), name
    assert lint_report["linterVersion"]


@pytest.mark.parametrize("statement", cypher.ALL_STATEMENTS, ids=lambda s: s.name)
def test_statement_has_no_diagnostics(
    lint_report: dict[str, Any], statement: cypher.Statement
) -> None:
    found = {
        version: [f"{d['severity']}: {d['message']} at {d['text']!r}" for d in diagnostics]
        for version, diagnostics in _diagnostics(lint_report, statement.name).items()
        if diagnostics
    }
    assert found == {}, f"{statement.name}:\n{statement.text}"


@pytest.mark.parametrize("name", list(CANARIES))
def test_linter_reports_the_canary(lint_report: dict[str, Any], name: str) -> None:
    expected = CANARIES[name][2]
    for version, diagnostics in _diagnostics(lint_report, name).items():
        messages = [f"{d['message']} {d['text']}" for d in diagnostics]
        assert any(expected in message for message in messages), (version, messages)
