"""The ``Storage`` protocol on plain dicts, for fast unit tests.

Records are kept as JSON text, exactly as the TinyDB store would write them: callers can
never mutate stored state through a returned object, and what cannot be stored on disk
(a non-JSON value in ``answers`` or the key-value store) fails here too.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from typing import Any

from bot.rules import numbers
from bot.rules.models import Account, AuditEvent, Registration, Status
from storage import numbering
from storage.files import document_name, owner_folder
from storage.protocols import (
    AccountRepository,
    AuditLog,
    DocumentStore,
    Inbox,
    KeyValueStore,
    Processes,
    RegistrationRepository,
    UniqueIndex,
)
from storage.tinydb_store import registration_user


class MemoryAccounts:
    """Accounts by user id."""

    def __init__(self, audit: MemoryAuditLog) -> None:
        self._rows: dict[int, str] = {}
        self._audit = audit

    def get(self, user_id: int) -> Account | None:
        """The account of ``user_id``, or None."""
        row = self._rows.get(user_id)
        return None if row is None else Account.model_validate_json(row)

    def save(self, account: Account, events: Sequence[AuditEvent] = ()) -> None:
        """Insert or replace the account, with its audit events."""
        if account.user_id <= 0:
            raise ValueError(f"invalid user id {account.user_id}")
        if any(e.subject != account.subject for e in events):
            raise ValueError("events must be about the account saved with them")
        self._rows[account.user_id] = account.model_dump_json()
        for event in events:
            self._audit.append(event)

    def delete(self, user_id: int) -> None:
        """Remove the account."""
        self._rows.pop(user_id, None)


class MemoryRegistrations:
    """Registrations by id; ``with_status`` scans (there is no disk to spare)."""

    def __init__(self, audit: MemoryAuditLog) -> None:
        self._rows: dict[str, str] = {}
        self._numbers: dict[str, str] = {}  # public number -> registration id
        self._audit = audit

    def get(self, registration_id: str) -> Registration | None:
        """The registration, or None (also for a malformed id)."""
        row = self._rows.get(registration_id)
        return None if row is None else Registration.model_validate_json(row)

    def by_number(self, number: str) -> Registration | None:
        """The registration with this public number (as typed), or None."""
        wanted = numbers.canonical(number)
        registration_id = None if wanted is None else self._numbers.get(wanted)
        return None if registration_id is None else self.get(registration_id)

    def for_user(self, user_id: int) -> list[Registration]:
        """The user's registrations, oldest first."""
        regs = [r for r in self.all() if r.user_id == user_id]
        return sorted(regs, key=lambda r: (r.created_at, r.id))

    def save(self, registration: Registration, events: Sequence[AuditEvent] = ()) -> None:
        """Insert or replace the registration, with its audit events."""
        # Same rule as on disk, where the id names files.
        if registration_user(registration.id) != registration.user_id or registration.id != (
            Registration.make_id(registration.user_id, registration.role)
        ):
            raise ValueError(f"registration id {registration.id!r} does not match its user/role")
        if any(e.subject != registration.id for e in events):
            raise ValueError("events must be about the registration saved with them")
        old = self.get(registration.id)
        number = numbering.assign(registration, old.number if old else None, self._numbers.get)
        self._numbers[number] = registration.id
        self._rows[registration.id] = registration.model_dump_json()
        for event in events:
            self._audit.append(event)

    def delete(self, registration_id: str) -> None:
        """Remove the registration (no-op when missing) and free its number."""
        row = self._rows.pop(registration_id, None)
        number = None if row is None else Registration.model_validate_json(row).number
        if number is not None:
            self._numbers.pop(number, None)

    def with_status(
        self, *statuses: str, where: Callable[[Registration], bool] | None = None
    ) -> list[Registration]:
        """Registrations in any of ``statuses`` for which ``where`` holds, oldest
        ``updated_at`` first."""
        wanted = {Status(s) for s in statuses}
        found = [r for r in self.all() if r.status in wanted and (where is None or where(r))]
        return sorted(found, key=lambda r: (r.updated_at, r.id))

    def with_pending_notifications(self) -> list[Registration]:
        """Registrations with undelivered notifications."""
        return [r for r in self.all() if r.pending]

    def count(self) -> int:
        """How many registrations are stored."""
        return len(self._rows)

    def all(self) -> Iterator[Registration]:
        """Every registration."""
        for row in list(self._rows.values()):
            yield Registration.model_validate_json(row)


def _normalize(value: str) -> str:
    return value.strip().casefold()


class MemoryUniqueIndex:
    """Claimed values by (kind, normalised value)."""

    def __init__(self) -> None:
        self._owners: dict[tuple[str, str], str] = {}

    def claim(self, kind: str, value: str, owner: str) -> bool:
        """Reserve ``value`` for ``owner``; True when it was free or already ``owner``'s."""
        current = self._owners.setdefault((kind, _normalize(value)), owner)
        return current == owner

    def release(self, kind: str, value: str, owner: str) -> None:
        """Free ``value`` if ``owner`` holds it."""
        key = (kind, _normalize(value))
        if self._owners.get(key) == owner:
            del self._owners[key]

    def owner(self, kind: str, value: str) -> str | None:
        """Who holds ``value``, or None."""
        return self._owners.get((kind, _normalize(value)))


class MemoryAuditLog:
    """Events per subject, in append order."""

    def __init__(self) -> None:
        self._events: dict[str, list[str]] = {}

    def append(self, event: AuditEvent) -> None:
        """Append ``event`` to its subject's log."""
        self._events.setdefault(event.subject, []).append(event.model_dump_json())

    def for_subject(self, subject: str) -> list[AuditEvent]:
        """Events of ``subject`` in the order they were appended."""
        return [AuditEvent.model_validate_json(e) for e in self._events.get(subject, [])]


class MemoryKeyValueStore:
    """JSON documents by namespace and key."""

    def __init__(self) -> None:
        self._data: dict[str, dict[str, str]] = {}

    def get(self, namespace: str, key: str) -> Any | None:
        """The value stored under ``key``, or None."""
        row = self._data.get(namespace, {}).get(key)
        return None if row is None else json.loads(row)

    def get_many(self, entries: Collection[tuple[str, str]]) -> dict[tuple[str, str], Any]:
        """The values stored under each (namespace, key), the missing ones left out."""
        found = {entry: self.get(*entry) for entry in entries}
        return {entry: value for entry, value in found.items() if value is not None}

    def put(self, namespace: str, key: str, value: Any) -> None:
        """Store ``value`` (JSON-serialisable, as on disk) under ``key``."""
        self._data.setdefault(namespace, {})[key] = json.dumps(value, allow_nan=False)

    def delete(self, namespace: str, key: str) -> None:
        """Remove ``key`` (no-op when missing)."""
        self._data.get(namespace, {}).pop(key, None)

    def items(self, namespace: str) -> Mapping[str, Any]:
        """Every (key, value) of ``namespace``."""
        return {k: json.loads(v) for k, v in self._data.get(namespace, {}).items()}


class MemoryDocuments:
    """Documents by name."""

    def __init__(self) -> None:
        self._data: dict[str, bytes] = {}

    def put(self, data: bytes, extension: str, owner: int) -> tuple[str, str]:
        """Store ``data`` for user ``owner``."""
        digest, name = document_name(data, extension, owner)
        self._data.setdefault(name, bytes(data))
        return digest, name

    def read(self, relative: str) -> bytes:
        """The bytes stored under ``relative``."""
        if not relative.startswith("files/"):
            raise ValueError("path outside the file store")
        try:
            return self._data[relative]
        except KeyError:
            raise FileNotFoundError(relative) from None

    def sweep(self, owner: int, keep: Collection[str]) -> int:
        """Delete user ``owner``'s documents not named in ``keep``; how many."""
        prefix = owner_folder(owner) + "/"
        gone = [n for n in self._data if n.startswith(prefix) and n not in keep]
        for name in gone:
            del self._data[name]
        return len(gone)


class MemoryStorage:
    """Everything in process memory; lost on exit."""

    def __init__(self) -> None:
        """An empty storage."""
        audit = MemoryAuditLog()
        self.accounts: AccountRepository = MemoryAccounts(audit)
        self.registrations: RegistrationRepository = MemoryRegistrations(audit)
        self.unique: UniqueIndex = MemoryUniqueIndex()
        self.audit: AuditLog = audit
        self.kv: KeyValueStore = MemoryKeyValueStore()
        self.files: DocumentStore = MemoryDocuments()
        self.inbox: Inbox | None = None
        self.processes: Processes | None = None
        self.commits_in_groups = False

    def begin(self, user_id: int | None = None) -> None:
        """Nothing to track: every change is durable when its call returns."""

    def without_waiting(self) -> None:
        """Nothing to wait for: no other process shares this storage."""

    def end(self) -> None:
        """Nothing to track."""

    def barrier(self) -> None:
        """Nothing to commit: every change is durable when its call returns."""

    async def committed(self) -> None:
        """Nothing to wait for: every change is durable when its call returns."""

    def close(self) -> None:
        """Nothing to release."""
