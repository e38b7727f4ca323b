"""Logs: opt-in, structured (ids and counts), never message contents or API keys."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from memora_engine import Memora
from memora_engine.embeddings import DenseEncoder, SparseEncoder
from memora_engine.testing.scripted import ScriptedChatModel

SECRET_KEY = "sk-test-ZZ9-PLURAL-Z-ALPHA-0000"
SECRET_TEXT = "my bank PIN is 4417 and my diagnosis is private"


def _answers() -> list[str]:
    memory = {"memory": f"#user_#id# said: {SECRET_TEXT}", "msg_source_ids": [0]}
    invalid = json.dumps({"memories_first_pass": SECRET_TEXT})  # fails validation: a retry
    return [invalid, json.dumps({"memories_first_pass": [memory]}), "<< bank PIN >>"]


async def _run_flows(memora: Memora) -> None:
    org = await memora.graph.create_organization("Acme")
    user = await memora.graph.create_user(org.org_id, "Jake")
    agent = await memora.graph.create_agent(org.org_id, "Jarvis")
    chat = [{"role": "user", "content": f"{SECRET_TEXT}; key {SECRET_KEY}"}]
    await memora.save_or_update_interaction_and_memories(
        org.org_id, user.user_id, agent.agent_id, chat, max_retries=2
    )
    await memora.save_or_update_interaction_and_memories(
        org.org_id, user.user_id, agent.agent_id, chat, infer=False
    )
    await memora.search_memories_as_one(org.org_id, user.user_id, [SECRET_TEXT])
    await memora.recall_memories_for_message(org.org_id, user.user_id, SECRET_TEXT)


@pytest.mark.parametrize("enable_logging", [False, True])
async def test_logs_never_hold_contents_or_keys_and_are_opt_in(
    tmp_path: Path,
    dense_encoder: DenseEncoder,
    sparse_encoder: SparseEncoder,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    enable_logging: bool,
) -> None:
    """If this fails, check every logger call in memora_engine: ids and counts only."""
    monkeypatch.setenv("OPENAI_API_KEY", SECRET_KEY)
    caplog.set_level(logging.DEBUG)  # stricter than the default level: everything is captured
    model = ScriptedChatModel(responses=_answers())
    engine_logger = logging.getLogger("memora_engine")
    try:
        async with await Memora.embedded(
            tmp_path / "m", extraction_model=model, dense_encoder=dense_encoder,
            sparse_encoder=sparse_encoder, enable_logging=enable_logging,
        ) as memora:  # fmt: skip
            await _run_flows(memora)
        records = [r for r in caplog.records if r.name.startswith("memora")]
        for record in caplog.records:
            text = record.getMessage() + repr(record.__dict__)
            assert SECRET_TEXT not in text
            assert "4417" not in text
            assert SECRET_KEY not in text
        stderr = capfd.readouterr().err
        assert SECRET_TEXT not in stderr
        assert SECRET_KEY not in stderr
        if enable_logging:
            saves = [r for r in records if r.getMessage().startswith("memora.save ")]
            assert len(saves) == 2
            assert "org=" in saves[0].getMessage()
            assert "memora.save" in stderr  # opt-in logging writes to stderr
        else:
            assert "memora" not in stderr  # silent unless asked
            assert not any(isinstance(h, logging.StreamHandler) and
                           not isinstance(h, logging.NullHandler)
                           for h in engine_logger.handlers)  # fmt: skip
    finally:
        for handler in list(engine_logger.handlers):
            if not isinstance(handler, logging.NullHandler):
                engine_logger.removeHandler(handler)
        engine_logger.setLevel(logging.NOTSET)
