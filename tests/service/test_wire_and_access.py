"""The pure parts of the service: error mapping both ways, tenancy rules, API keys."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from memora_engine import errors
from memora_engine.errors import (
    ConfigurationError,
    InvalidInputError,
    MemoraError,
    MemoryNotFoundError,
    NotFoundError,
    OrganizationNotFoundError,
    UserNotFoundError,
)
from memora_engine.service.access import authorize
from memora_engine.service.keys import ApiKeyStore, Principal
from memora_engine.service.wire import (
    ROUTES,
    AuthenticationError,
    PayloadTooLargeError,
    PermissionDeniedError,
    error_body,
    error_from_body,
    status_for,
)
from memora_engine.vector_db.base import MemorySearchScope

ALL_ERRORS = [getattr(errors, name) for name in errors.__all__] + [
    AuthenticationError,
    PermissionDeniedError,
    PayloadTooLargeError,
]


@pytest.mark.parametrize("cls", ALL_ERRORS, ids=lambda c: c.__name__)
def test_every_error_class_round_trips_with_its_status(cls: type[MemoraError]) -> None:
    error = cls("something went wrong")
    status = status_for(error)
    back = error_from_body(status, error_body(error))
    assert type(back) is cls
    assert str(back) == "something went wrong"
    if cls is not MemoraError:
        assert 400 <= status < 600


def test_statuses_of_the_main_classes() -> None:
    assert status_for(InvalidInputError("x")) == 422
    assert status_for(PayloadTooLargeError("x")) == 413
    assert status_for(MemoryNotFoundError()) == 404
    assert status_for(errors.ConflictError("x")) == 409
    assert status_for(AuthenticationError("x")) == 401
    assert status_for(PermissionDeniedError("x")) == 403
    assert status_for(errors.BackendUnavailableError("x")) == 503
    assert status_for(ConfigurationError("x")) == 501


def test_not_found_ids_travel_too() -> None:
    error = UserNotFoundError(org_id="acme", user_id="jake")
    back = error_from_body(404, error_body(error))
    assert isinstance(back, UserNotFoundError)
    assert back.ids == {"org_id": "acme", "user_id": "jake"}


def test_an_answer_without_a_memora_body_maps_by_status() -> None:
    assert type(error_from_body(404, {"detail": "Not Found"})) is NotFoundError
    assert type(error_from_body(502, None)) is errors.BackendError
    assert type(error_from_body(504, "gateway")) is errors.BackendUnavailableError
    assert type(error_from_body(418, {"error": {"type": "NoSuchClass"}})) is MemoraError


def test_routes_put_every_id_in_the_path_and_are_unique() -> None:
    seen = {(r.http, r.path) for r in ROUTES.values()}
    assert len(seen) == len(ROUTES)
    assert ROUTES["get_memory"].path_params == ("org_id", "user_id", "memory_id")
    assert ROUTES["search_memories_as_one"].has_body
    assert not ROUTES["list_memories"].has_body


ORG_KEY = Principal("k1", "acme", None, False)
USER_KEY = Principal("k2", "acme", "jake", False)
ADMIN = Principal("k3", None, None, True)


def test_admin_may_do_anything() -> None:
    authorize(ADMIN, "delete_organization", {"org_id": "other"})
    authorize(ADMIN, "list_users", {"org_id": "other"})


def test_org_key_stays_in_its_org_and_cannot_manage_orgs() -> None:
    authorize(ORG_KEY, "list_users", {"org_id": "acme"})
    authorize(ORG_KEY, "get_memory", {"org_id": "acme", "user_id": "anyone", "memory_id": "m"})
    with pytest.raises(OrganizationNotFoundError):
        authorize(ORG_KEY, "get_memory", {"org_id": "other", "user_id": "u", "memory_id": "m"})
    for method in ("create_organization", "list_organizations", "get_or_create_organization"):
        with pytest.raises(PermissionDeniedError):
            authorize(ORG_KEY, method, {})
    authorize(ORG_KEY, "generate_memory_search_queries", {"message": "hi"})


def test_keys_may_get_or_create_their_own_org_only() -> None:
    """The adapters call get_or_create_organization on first use, through any key."""
    for key in (ORG_KEY, USER_KEY):
        authorize(key, "get_or_create_organization", {"org_id": "acme"})
        with pytest.raises(PermissionDeniedError):
            authorize(key, "get_or_create_organization", {"org_id": "other"})


def test_user_key_stays_with_its_user() -> None:
    authorize(USER_KEY, "list_memories", {"org_id": "acme", "user_id": "jake"})
    authorize(USER_KEY, "list_agents", {"org_id": "acme", "user_id": None})
    with pytest.raises(UserNotFoundError):
        authorize(USER_KEY, "list_memories", {"org_id": "acme", "user_id": "mia"})
    with pytest.raises(UserNotFoundError):
        authorize(USER_KEY, "search_memories_as_batch", {"org_id": "acme", "user_id": None})
    with pytest.raises(PermissionDeniedError):
        authorize(
            USER_KEY,
            "search_memories_as_batch",
            {
                "org_id": "acme",
                "user_id": "jake",
                "memory_search_scope": MemorySearchScope.ORGANIZATION,
            },
        )
    for method in ("list_users", "create_user", "delete_agent"):
        with pytest.raises(PermissionDeniedError):
            authorize(USER_KEY, method, {"org_id": "acme"})


def test_keys_are_stored_hashed_and_authenticate(tmp_path: Path) -> None:
    store = ApiKeyStore()
    key, record = store.create(org_id="acme", user_id="jake", name="laptop")
    admin_key, _ = store.create(admin=True)
    file = tmp_path / "keys.json"
    store.save(file)
    assert key not in file.read_text()
    assert stat.S_IMODE(file.stat().st_mode) == 0o600
    loaded = ApiKeyStore.load(file)
    assert loaded.authenticate(key) == Principal(record.key_id, "acme", "jake", False)
    assert loaded.authenticate(admin_key).admin
    for wrong in (None, "", "mem_nope", key + "x"):
        with pytest.raises(AuthenticationError):
            loaded.authenticate(wrong)
    assert loaded.revoke(record.key_id) is True
    with pytest.raises(AuthenticationError):
        loaded.authenticate(key)


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"user_id": "jake"}, {"admin": True, "org_id": "acme"}, {"org_id": "bad id/.."}],
)
def test_bad_key_bindings_are_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises(InvalidInputError):
        ApiKeyStore().create(**kwargs)  # type: ignore[arg-type]


def test_a_broken_key_file_is_a_configuration_error(tmp_path: Path) -> None:
    file = tmp_path / "keys.json"
    file.write_text("{not json")
    with pytest.raises(ConfigurationError):
        ApiKeyStore.load(file)
