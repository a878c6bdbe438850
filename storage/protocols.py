"""The contracts the services depend on (the rules in ``bot/rules/`` depend on none);
implementations: ``tinydb_store``, ``memory`` (tests) and ``postgres``.

Every method is synchronous. A change is durable when the call returns, or, where the
storage commits in groups (``Storage.commits_in_groups``: PostgreSQL), once ``barrier``
returns: the application calls it before every Bot API request and e-mail and at the end of
each update, so nothing is acknowledged before its commit.

Changes come from one thread (the event loop's). Reads and scans may also run in a worker
thread meanwhile (exports, searches, the reminders' scan of drafts): files are replaced
atomically, so a reader sees a record before or after a change, never half of it.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from typing import Any, Protocol

from bot.rules.models import Account, AuditEvent, Registration


class CommitFailed(RuntimeError):
    """A group commit holding this unit of work's changes failed: they are gone, and
    nothing that depends on them may be told to anyone."""


class AccountRepository(Protocol):
    def get(self, user_id: int) -> Account | None: ...

    def save(self, account: Account, events: Sequence[AuditEvent] = ()) -> None:
        """Store the account, and its audit events (about ``account:<user id>``) in the
        same atomic write."""

    def delete(self, user_id: int) -> None: ...


class RegistrationRepository(Protocol):
    def get(self, registration_id: str) -> Registration | None: ...

    def for_user(self, user_id: int) -> list[Registration]: ...

    def save(self, registration: Registration, events: Sequence[AuditEvent] = ()) -> None:
        """Store the registration, and its audit events in the same atomic write, and keep
        the status and outbox indexes in step. Events must be about this registration."""

    def delete(self, registration_id: str) -> None: ...

    def with_status(
        self, *statuses: str, where: Callable[[Registration], bool] | None = None
    ) -> list[Registration]:
        """Registrations in any of ``statuses`` (and for which ``where`` holds, when given:
        only those are kept in memory), oldest ``updated_at`` first.

        Served from small per-status indexes (drafts, queue), not by scanning everyone,
        for the statuses that are indexed (every status but approved, rejected and removed);
        those are found by a scan.
        """

    def with_pending_notifications(self) -> list[Registration]:
        """Registrations whose outbox holds undelivered notifications (from an index)."""

    def count(self) -> int: ...

    def all(self) -> Iterator[Registration]:
        """Every registration (a full scan: for exports and searches only)."""


class UniqueIndex(Protocol):
    """Platform-wide uniqueness of values such as e-mail addresses and administrator ids."""

    def claim(self, kind: str, value: str, owner: str) -> bool:
        """Reserve ``value`` for ``owner``; True when it was free or already ``owner``'s."""

    def release(self, kind: str, value: str, owner: str) -> None:
        """Free ``value`` if ``owner`` holds it; otherwise do nothing."""

    def owner(self, kind: str, value: str) -> str | None: ...


class AuditLog(Protocol):
    def append(self, event: AuditEvent) -> None: ...

    def for_subject(self, subject: str) -> list[AuditEvent]:
        """Events of one subject in the order they were appended."""


class KeyValueStore(Protocol):
    """Small JSON documents by (namespace, key): PTB's persistence, support tickets, the
    FAQ and its gaps and drafts, reviewers' change-request drafts."""

    def get(self, namespace: str, key: str) -> Any | None: ...

    def put(self, namespace: str, key: str, value: Any) -> None: ...

    def delete(self, namespace: str, key: str) -> None: ...

    def items(self, namespace: str) -> Mapping[str, Any]:
        """Every (key, value) of a namespace; cost grows with that namespace only."""


class DocumentStore(Protocol):
    """Uploaded documents, named by content in their uploader's space, so nothing a user
    sends can choose a name. Every process of the bot reads the same documents."""

    def put(self, data: bytes, extension: str, owner: int) -> tuple[str, str]:
        """Store ``data`` durably for user ``owner``: (sha256, the name to read it by, which
        is ``files/<uid % 256 as 2 hex>/<uid>/<sha256>.<ext>`` in every implementation).
        ``ValueError`` for an extension that is not alphanumeric or a user id <= 0."""

    def read(self, relative: str) -> bytes:
        """The bytes stored under a name ``put`` returned (``FileNotFoundError`` when there
        are none; ``ValueError`` for a name outside ``files/``)."""

    def sweep(self, owner: int, keep: Collection[str]) -> int:
        """Delete user ``owner``'s documents whose names are not in ``keep``; how many."""


class Inbox(Protocol):
    """Updates received from Telegram, stored before Telegram is told they arrived, so an
    update handed over is handled even when the process dies before handling it."""

    def add(self, update_id: int, payload: Mapping[str, Any]) -> bool:
        """Store an update durably; False when it was received before (handled or not)."""

    def done(self, update_id: int) -> None:
        """Mark an update handled (it is not handed out again; its id is remembered)."""

    def waiting(self) -> list[dict[str, Any]]:
        """The payloads of the updates received and not handled, oldest first."""


class Storage(Protocol):
    """Everything the application stores, opened once per process."""

    accounts: AccountRepository
    registrations: RegistrationRepository
    unique: UniqueIndex
    audit: AuditLog
    kv: KeyValueStore
    files: DocumentStore
    #: None where updates are not stored (TinyDB, memory): as PTB does, Telegram's own
    #: redelivery of unconfirmed updates is all there is.
    inbox: Inbox | None
    #: True where changes are committed in groups by ``barrier`` (PostgreSQL).
    commits_in_groups: bool

    def begin(self) -> None:
        """Start a unit of work (one update) in the current task."""

    def barrier(self) -> None:
        """Make every change made so far durable. Where changes are committed in groups
        (PostgreSQL), nothing may be told to anyone before this returns; it raises when a
        change of this unit of work was lost with its group. Elsewhere a change is durable
        when its call returns and this does nothing."""

    async def committed(self) -> None:
        """Return once every change this unit of work made (or read from others' open
        group) is durable, sharing the commit with the units of work ready at the same
        moment; raises ``CommitFailed`` when it was lost with its group. Nothing may be
        told to anyone before this returns. Where a change is durable when its call
        returns, this returns at once."""

    def close(self) -> None: ...
