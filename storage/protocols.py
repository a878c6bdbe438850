"""The contracts the services depend on (the rules in ``bot/rules/`` depend on none);
implementations: ``tinydb_store``, ``memory`` (tests) and ``postgres``.

Every method is synchronous. A change is durable when the call returns, or, where the
storage commits in groups (``Storage.commits_in_groups``: PostgreSQL), once ``barrier``
returns: the application calls it before every Bot API request that tells anyone anything
(not a file's look-up or download: ``bot/commit_barrier.py``), every e-mail and at the end
of each update, so nothing is acknowledged before its commit.

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


class HeldElsewhere(RuntimeError):
    """Another process holds the record (it is handling its user's update), and the job
    changing it does not wait for that (``Storage.without_waiting``): nothing was written,
    and the job leaves the record for its next run."""


class AccountRepository(Protocol):
    def get(self, user_id: int) -> Account | None: ...

    def save(self, account: Account, events: Sequence[AuditEvent] = ()) -> None:
        """Store the account, and its audit events (about ``account:<user id>``) in the
        same atomic write."""

    def delete(self, user_id: int) -> None: ...


class NumberTaken(ValueError):
    """A registration saved with a public number another registration holds."""


class RegistrationRepository(Protocol):
    def get(self, registration_id: str) -> Registration | None: ...

    def by_number(self, number: str) -> Registration | None:
        """The registration with this public number, as a person may type it (any case,
        with or without the hyphen; ``bot.rules.numbers.canonical``); None when none has it
        or it is no number."""

    def for_user(self, user_id: int) -> list[Registration]: ...

    def save(self, registration: Registration, events: Sequence[AuditEvent] = ()) -> None:
        """Store the registration, and its audit events in the same atomic write, and keep
        the status, outbox and number indexes in step. Events must be about this
        registration.

        Public numbers are unique by the store: a registration saved without one gets a
        fresh one (set on ``registration``, so the caller sees it); one saved with a number
        keeps it (``NumberTaken`` when another registration holds it, ``ValueError`` when
        it is not the number stored for this registration before: numbers never change).
        Stores give every registration stored before numbers existed its number when they
        open (TinyDB) or in a migration (PostgreSQL)."""

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

    def get_many(self, entries: Collection[tuple[str, str]]) -> dict[tuple[str, str], Any]:
        """The values stored under several (namespace, key) pairs, the missing ones left
        out: one read where the store can (a user's entries before each update)."""

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

    def add(self, update_id: int, payload: Mapping[str, Any], sender: int = 0) -> bool:
        """Store an update durably, with whose it is (``sender``: the user's id, 0 for an
        update without a user); False when it was received before (handled or not)."""

    def done(self, update_id: int) -> None:
        """Mark an update handled (it is not handed out again; its id is remembered)."""

    def waiting(self) -> list[dict[str, Any]]:
        """The payloads of the updates received and not handled, oldest first."""


class Processes(Protocol):
    """Several bot processes on one database (PostgreSQL), all handling updates.

    Exactly one takes updates from Telegram by polling (``receiving``); every process
    claims stored updates (``claim``): a user's one at a time and in order, different
    users' in parallel. A claim is held until ``release`` or until its process dies. The
    repeating jobs run in the one process ``leading``. Every method but ``news`` is
    called from the event loop's thread.
    """

    def receiving(self) -> bool:
        """Whether this process takes updates from Telegram (it becomes the one when no
        living process is); once True, True until the process ends."""

    def leading(self) -> bool:
        """Whether this process runs the repeating jobs (as ``receiving``, for jobs)."""

    def claim(self, limit: int) -> list[dict[str, Any]]:
        """Up to ``limit`` stored updates, each the oldest not handled of a sender no
        process holds; each sender is held by this process until ``release``."""

    def next_for(self, sender: int) -> dict[str, Any] | None:
        """The oldest update of a sender this process holds that is not handled, or None."""

    def release(self, sender: int) -> None:
        """Let other processes claim this sender's updates (after its last one's commit)."""

    def nudge(self, topic: str) -> None:
        """Tell every process ``topic`` once the current changes commit."""

    async def news(self, seconds: float) -> list[str]:
        """The topics nudged since the last call (updates stored: ``"inbox"``), waiting up
        to ``seconds`` for the first."""

    def close(self) -> None: ...


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
    #: Not None where several processes share the storage (PostgreSQL, ``run``/``webhook``).
    processes: Processes | None
    #: True where changes are committed in groups by ``barrier`` (PostgreSQL).
    commits_in_groups: bool

    def begin(self, user_id: int | None = None) -> None:
        """Start a unit of work (one update, of ``user_id`` when it has a user) in the
        current task."""

    def without_waiting(self) -> None:
        """The current task (a job run once across processes: the outbox, reminders, the
        digest) never waits for a record another process holds: it reads a user's records
        as that process last committed them, and a change of a held record raises
        ``HeldElsewhere`` (as does the read of a shared key-value entry, which is taken
        for the change that follows it; no such job reads one).
        A job takes the records of many users in turn, so a wait of its own could close a
        circle with a process waiting for one the job already holds (a deadlock, which
        fails every update sharing the job's commit). Where one process owns the storage
        this does nothing."""

    def end(self) -> None:
        """End the current task's unit of work (after its last barrier): what the task
        changes afterwards (a job it started, a test's own calls) is no part of it."""

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
