"""API keys of ``memora serve``: each bound to an organization (optionally one user), or admin.

Keys are random tokens shown once at creation; the key file stores only their SHA-256 digest
(a key is 256 random bits, so a fast hash is safe), with the tenant it is bound to. The file
belongs to the service, not to the graph store, and is written with owner-only permissions.

Examples:
    >>> store = ApiKeyStore()
    >>> key, record = store.create(org_id="acme", user_id=None)
    >>> store.authenticate(key).org_id
    'acme'
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

from memora_engine.errors import ConfigurationError, InvalidInputError
from memora_engine.ids import require_id
from memora_engine.service.wire import AuthenticationError

__all__ = ["ApiKeyStore", "KeyRecord", "Principal"]

_PREFIX = "mem_"


@dataclass(frozen=True)
class Principal:
    """Who is calling: the tenant a key is bound to (admin keys are bound to none)."""

    key_id: str
    org_id: str | None
    user_id: str | None
    admin: bool


@dataclass(frozen=True)
class KeyRecord:
    """One stored key: its public id, the digest of the secret, and what it is bound to."""

    key_id: str
    sha256: str
    org_id: str | None
    user_id: str | None
    admin: bool
    name: str
    created_at: str

    def principal(self) -> Principal:
        """The caller this key authenticates."""
        return Principal(self.key_id, self.org_id, self.user_id, self.admin)


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


class ApiKeyStore:
    """The service's API keys, looked up by digest (plaintext keys are never stored).

    Examples:
        >>> store = ApiKeyStore.load("keys.json")  # doctest: +SKIP
        >>> admin_key, _ = store.create(admin=True, name="ops")  # doctest: +SKIP
        >>> store.save("keys.json")  # doctest: +SKIP
    """

    def __init__(self, records: Iterable[KeyRecord] = ()) -> None:
        self._by_digest = {r.sha256: r for r in records}

    @property
    def records(self) -> list[KeyRecord]:
        """Every key record, oldest first."""
        return sorted(self._by_digest.values(), key=lambda r: r.created_at)

    def create(
        self,
        *,
        org_id: str | None = None,
        user_id: str | None = None,
        admin: bool = False,
        name: str = "",
    ) -> tuple[str, KeyRecord]:
        """Make a new key; returns ``(key, record)``. The key is not recoverable later.

        Raises:
            InvalidInputError: neither ``admin`` nor ``org_id``, or ``user_id`` without
                ``org_id``, or an admin key bound to a tenant.
        """
        if admin and (org_id or user_id):
            raise InvalidInputError("An admin key is not bound to an organization or user.")
        if not admin:
            if org_id is None:
                raise InvalidInputError("A key needs an org_id (or admin=True).")
            require_id(org_id, "org_id")
            if user_id is not None:
                require_id(user_id, "user_id")
        secret = secrets.token_urlsafe(32)
        key = f"{_PREFIX}{secret}"
        record = KeyRecord(
            key_id=_digest(key)[:12],
            sha256=_digest(key),
            org_id=org_id,
            user_id=user_id,
            admin=admin,
            name=name,
            created_at=datetime.now(timezone.utc).isoformat(),
        )
        self._by_digest[record.sha256] = record
        return key, record

    def revoke(self, key_id: str) -> bool:
        """Remove the key with that public id; ``False`` if there was none."""
        for digest, record in list(self._by_digest.items()):
            if record.key_id == key_id:
                del self._by_digest[digest]
                return True
        return False

    def authenticate(self, key: str | None) -> Principal:
        """The caller a presented key stands for.

        Raises:
            AuthenticationError: no key, or not one of ours.
        """
        if not key:
            raise AuthenticationError("An API key is required (Authorization: Bearer <key>).")
        record = self._by_digest.get(_digest(key))
        if record is None:
            raise AuthenticationError("The API key is not valid.")
        return record.principal()

    @classmethod
    def load(cls, path: str | Path) -> ApiKeyStore:
        """Read a key file (a missing file is an empty store).

        Raises:
            ConfigurationError: the file is not a key file.
        """
        file = Path(path)
        if not file.exists():
            return cls()
        try:
            data = json.loads(file.read_text(encoding="utf-8"))
            return cls(KeyRecord(**item) for item in data["keys"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ConfigurationError(f"{file} is not a Memora key file: {exc}") from None

    def save(self, path: str | Path) -> None:
        """Write the key file atomically, readable by its owner only."""
        file = Path(path)
        file.parent.mkdir(parents=True, exist_ok=True)
        tmp = file.with_name(file.name + ".tmp")
        payload = json.dumps({"keys": [asdict(r) for r in self.records]}, indent=2)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(payload)
        os.replace(tmp, file)
