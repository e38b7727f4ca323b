"""The run config scope: what an engine call hands to each of its model calls."""

from __future__ import annotations

import uuid

import pytest

from memora_engine.errors import InvalidInputError
from memora_engine.tracing import current_run_config, run_config_scope


def test_config_is_current_inside_the_scope_only() -> None:
    assert current_run_config() is None
    with run_config_scope({"tags": ["t"], "metadata": {"k": 1}}):
        assert current_run_config() == {"tags": ["t"], "metadata": {"k": 1}}
        with run_config_scope(None):
            assert current_run_config() == {"tags": ["t"], "metadata": {"k": 1}}
    assert current_run_config() is None


def test_run_id_and_run_name_are_not_shared_by_every_model_call() -> None:
    """A caller's run_id names one run; the several model calls of one save each get their own."""
    with run_config_scope({"run_id": uuid.uuid4(), "run_name": "mine", "tags": ["t"]}):
        assert current_run_config() == {"tags": ["t"]}


def test_a_config_that_is_not_a_mapping_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="RunnableConfig"), run_config_scope(["tags"]):  # type: ignore[arg-type]
        pass
