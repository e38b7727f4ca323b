"""Auth and tenancy of ``memora serve``: every bypass attempt is refused and writes nothing."""

from __future__ import annotations

import httpx
import pytest

from memora_engine.client import MemoraClient
from memora_engine.errors import (
    InvalidInputError,
    MemoryNotFoundError,
    OrganizationNotFoundError,
    UserNotFoundError,
)
from memora_engine.service.wire import (
    AuthenticationError,
    PayloadTooLargeError,
    PermissionDeniedError,
)
from tests.service.conftest import AGENT_A, ORG_A, ORG_B, USER_A1, USER_A2, USER_B1, Served

SAVE = "/v1/orgs/{org}/users/{user}/interactions"


def _count(served: Served, org: str, user: str) -> int:
    response = httpx.get(
        f"{served.url}/v1/orgs/{org}/users/{user}/interactions",
        headers={"Authorization": f"Bearer {served.keys.admin}"},
    )
    assert response.status_code == 200
    return len(response.json())


def _save_body(text: str = "I like jazz.") -> dict[str, object]:
    return {"agent_id": AGENT_A, "interaction": [{"role": "user", "content": text}]}


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer mem_wrong"}, {"X-API-Key": ""}])
def test_missing_or_wrong_key_is_401_and_writes_nothing(
    served: Served, headers: dict[str, str]
) -> None:
    before = _count(served, ORG_A, USER_A1)
    response = httpx.post(
        served.url + SAVE.format(org=ORG_A, user=USER_A1), json=_save_body(), headers=headers
    )
    assert response.status_code == 401
    assert response.json()["error"]["type"] == "AuthenticationError"
    assert _count(served, ORG_A, USER_A1) == before


def test_x_api_key_header_is_accepted(served: Served) -> None:
    response = httpx.get(f"{served.url}/v1/orgs/{ORG_A}", headers={"X-API-Key": served.keys.org_a})
    assert response.status_code == 200


async def test_another_orgs_key_sees_the_org_as_missing_and_writes_nothing(served: Served) -> None:
    before = _count(served, ORG_A, USER_A1)
    async with MemoraClient(served.url, served.keys.org_b) as memora:
        with pytest.raises(OrganizationNotFoundError):
            await memora.save_or_update_interaction_and_memories(
                ORG_A, USER_A1, AGENT_A, [{"role": "user", "content": "sneaky"}]
            )
        with pytest.raises(OrganizationNotFoundError):
            await memora.search_memories_as_one(ORG_A, USER_A1, ["jazz"])
        with pytest.raises(OrganizationNotFoundError):
            await memora.delete_all_memories(ORG_A, USER_A1)
        with pytest.raises(OrganizationNotFoundError):
            await memora.list_users(ORG_A)
    assert _count(served, ORG_A, USER_A1) == before


async def test_another_orgs_memory_id_behaves_as_missing(served: Served) -> None:
    async with MemoraClient(served.url, served.keys.org_a) as a:
        iid, _ = await a.save_or_update_interaction_and_memories(
            ORG_A, USER_A1, AGENT_A, [{"role": "user", "content": "My locker code is 4512."}]
        )
        memory_id = (await a.get_interaction(ORG_A, USER_A1, iid)).memories[0].memory_id
    async with MemoraClient(served.url, served.keys.org_b) as b:
        # Org B asks for org A's memory under its own tenant: missing, exactly as in the engine.
        with pytest.raises(MemoryNotFoundError):
            await b.get_memory(ORG_B, USER_B1, memory_id)
        assert await b.delete_memory(ORG_B, USER_B1, memory_id) is False
        assert await b.search_memories_as_one(ORG_B, USER_B1, ["locker code"]) == []
    async with MemoraClient(served.url, served.keys.org_a) as a:
        assert (await a.get_memory(ORG_A, USER_A1, memory_id)).memory_id == memory_id
        assert await a.delete_interaction(ORG_A, USER_A1, iid) is True


async def test_a_users_key_cannot_read_or_write_another_user(served: Served) -> None:
    before = _count(served, ORG_A, USER_A2)
    async with MemoraClient(served.url, served.keys.user_a1) as memora:
        with pytest.raises(UserNotFoundError):
            await memora.list_memories(ORG_A, USER_A2)
        with pytest.raises(UserNotFoundError):
            await memora.save_or_update_interaction_and_memories(
                ORG_A, USER_A2, AGENT_A, [{"role": "user", "content": "sneaky"}]
            )
        with pytest.raises(PermissionDeniedError):
            await memora.list_users(ORG_A)
        with pytest.raises(UserNotFoundError):
            await memora.search_memories_as_batch(ORG_A, ["x"], user_id=USER_A2)
        with pytest.raises(UserNotFoundError):
            await memora.search_memories_as_batch(ORG_A, ["x"])
        assert (await memora.get_user(ORG_A, USER_A1)).user_id == USER_A1
    assert _count(served, ORG_A, USER_A2) == before


async def test_tenant_management_needs_the_admin_key(served: Served) -> None:
    async with MemoraClient(served.url, served.keys.org_a) as memora:
        with pytest.raises(PermissionDeniedError):
            await memora.create_organization("Evil Corp")
        with pytest.raises(PermissionDeniedError):
            await memora.list_organizations()
        with pytest.raises(PermissionDeniedError):
            await memora.delete_organization(ORG_B)
    async with MemoraClient(served.url, served.keys.admin) as admin:
        org = await admin.create_organization("Temp Org")
        assert org.org_id in {o.org_id for o in await admin.list_organizations()}
        assert await admin.delete_organization(org.org_id) is True
    async with MemoraClient(served.url, "mem_not_a_key") as stranger:
        with pytest.raises(AuthenticationError):
            await stranger.get_organization(ORG_A)


def test_oversized_body_is_413_and_writes_nothing(served: Served) -> None:
    before = _count(served, ORG_A, USER_A1)
    huge = "x" * (30 * 1024 * 1024)
    response = httpx.post(
        served.url + SAVE.format(org=ORG_A, user=USER_A1),
        json=_save_body(huge),
        headers={"Authorization": f"Bearer {served.keys.org_a}"},
    )
    assert response.status_code == 413
    assert response.json()["error"]["type"] == PayloadTooLargeError.__name__
    assert _count(served, ORG_A, USER_A1) == before


def test_chunked_oversized_body_is_refused_too(served: Served) -> None:
    before = _count(served, ORG_A, USER_A1)

    def chunks() -> object:
        for _ in range(40):
            yield b"x" * (1024 * 1024)

    response = httpx.post(
        served.url + SAVE.format(org=ORG_A, user=USER_A1),
        content=chunks(),  # type: ignore[arg-type]
        headers={
            "Authorization": f"Bearer {served.keys.org_a}",
            "Content-Type": "application/json",
        },
    )
    assert response.status_code == 413
    assert _count(served, ORG_A, USER_A1) == before


def test_over_the_engine_limits_is_422_and_writes_nothing(served: Served) -> None:
    before = _count(served, ORG_A, USER_A1)
    response = httpx.post(
        served.url + SAVE.format(org=ORG_A, user=USER_A1),
        json=_save_body("y" * 100_001),
        headers={"Authorization": f"Bearer {served.keys.org_a}"},
    )
    assert response.status_code == 422
    assert response.json()["error"]["type"] == InvalidInputError.__name__
    assert "y" * 50 not in response.text  # the offending text is not echoed back
    assert _count(served, ORG_A, USER_A1) == before


@pytest.mark.parametrize(
    "content", [b"{not json", b"[]", b'{"agent_id": "agentA"}', b'{"interaction": [], "evil": 1}']
)
def test_malformed_json_is_422_and_writes_nothing(served: Served, content: bytes) -> None:
    before = _count(served, ORG_A, USER_A1)
    response = httpx.post(
        served.url + SAVE.format(org=ORG_A, user=USER_A1),
        content=content,
        headers={
            "Authorization": f"Bearer {served.keys.org_a}",
            "Content-Type": "application/json",
        },
    )
    assert response.status_code == 422
    assert response.json()["error"]["type"] == "InvalidInputError"
    assert _count(served, ORG_A, USER_A1) == before


def test_probes_and_schema_need_no_key(served: Served) -> None:
    assert httpx.get(served.url + "/healthz").json() == {"status": "ok"}
    assert httpx.get(served.url + "/readyz").json() == {"status": "ready"}
    schema = httpx.get(served.url + "/openapi.json").json()
    assert "/v1/orgs/{org_id}/users/{user_id}/search" in schema["paths"]


def test_no_key_or_message_text_in_the_server_log(served: Served) -> None:
    secret = "my-secret-diary-entry-42"
    response = httpx.post(
        served.url + SAVE.format(org=ORG_A, user=USER_A1),
        json=_save_body(secret),
        headers={"Authorization": f"Bearer {served.keys.org_a}"},
    )
    assert response.status_code == 200
    assert served.server.log is not None
    log = served.server.log.read_text()
    assert "POST /v1/orgs/orgA/users/userA1/interactions" in log
    assert secret not in log
    for key in (served.keys.admin, served.keys.org_a, served.keys.org_b, served.keys.user_a1):
        assert key not in log
