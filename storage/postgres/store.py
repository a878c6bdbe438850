"""The ``Storage`` protocol on PostgreSQL (psycopg 3 and its connection pool).

Every change that must be atomic is one transaction: a record, its audit events and its
outbox entries (which travel inside the registration) commit together or not at all.
Uniqueness is the primary key of ``unique_claims``; nothing is checked and then written
in two steps that another process could interleave.

Records are stored as the same JSON the TinyDB store writes (``json`` columns keep the text
as written), beside the few columns the indexes need.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import hashlib
import json
import threading
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.rows import TupleRow
from psycopg_pool import ConnectionPool

from bot.rules import numbers
from bot.rules.models import Account, AuditEvent, Registration, Status
from storage import numbering
from storage.files import document_name
from storage.postgres.migrations import migrate
from storage.postgres.processes import CHANNEL, PostgresProcesses, application_name
from storage.protocols import (
    AccountRepository,
    AuditLog,
    CommitFailed,
    DocumentStore,
    HeldElsewhere,
    Inbox,
    KeyValueStore,
    NumberTaken,
    Processes,
    RegistrationRepository,
    UniqueIndex,
)
from storage.tinydb_store import StorageClosed, registration_user

#: The database's advisory lock: shared by the bot processes (``run``, ``webhook``), taken
#: alone by the console and ``migrate`` (which refuse while bots run, and vice versa).
PROCESS_LOCK = 0x6F6E_0002
#: Rows fetched per round trip by full scans (exports, searches).
SCAN_BATCH = 500

Conn = psycopg.Connection[TupleRow]


class DatabaseUnavailable(RuntimeError):
    """The database cannot be reached or refused the connection."""


class DatabaseInUse(RuntimeError):
    """Another bot process holds the database."""


#: Turns of the event loop a barrier lets pass before it commits, so that the updates
#: running meanwhile reach their barriers and share the commit (with 100 applicants at once
#: one turn gave about one commit per update, ten about a third; nothing else ready, a turn
#: costs microseconds).
GATHER_TURNS = 8

#: The group-commit batches (by number) the current unit of work (an update, a job) used.
_BATCHES: contextvars.ContextVar[set[int] | None] = contextvars.ContextVar(
    "postgres_batches", default=None
)


#: The user whose update the current unit of work handles, until their lock and records
#: are read (``PostgresStorage.begin``, ``_Pool.read_with_user``).
_USER: contextvars.ContextVar[int | None] = contextvars.ContextVar("postgres_user", default=None)

#: The users a job's task read without their lock (another process held it), or None in a
#: task that waits for locks (an update): ``PostgresStorage.without_waiting``.
_UNLOCKED: contextvars.ContextVar[set[int] | None] = contextvars.ContextVar(
    "postgres_unlocked", default=None
)

#: Held until the transaction ends (``_Pool.serialize``); taken only when free, by a job
#: that does not wait (``_UNLOCKED``).
LOCK = "SELECT pg_advisory_xact_lock(%s)"
TRY_LOCK = "SELECT pg_try_advisory_xact_lock(%s)"


def _lock_key(name: str) -> int:
    """The advisory lock's key of a record's name."""
    return int.from_bytes(
        hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True
    )


@dataclass
class UserRecords:
    """A user's account and registrations (by id, oldest first) as stored: JSON texts;
    this process's writes change them in place (``_Pool.wrote_user``)."""

    account: str | None
    registrations: dict[str, str]


def _user_records(rows: list[TupleRow]) -> UserRecords:
    """A user's records from the rows ``_Pool._lock_and_read`` reads."""
    account = next((doc for kind, _, _, doc in rows if kind == 0), None)
    return UserRecords(account, {rid: doc for kind, rid, _, doc in rows if kind == 1})


class _Group:
    """Group commit: on the event loop's thread every repository call uses one connection,
    and every change joins one open transaction (a batch), which ``settle`` commits in a
    worker thread (the application's barrier before every Bot API request that tells
    anyone anything and every e-mail, and at the end of each update) while the event loop
    goes on with other updates; the units of work (updates, jobs) whose changes are in it
    share that commit.

    Reads join the open batch (an update reads what others wrote before their commit, and
    fails with them if that commit fails); with no batch open they run on their own, with
    no transaction to begin or commit. Every unit of work that used a failed batch gets
    ``CommitFailed`` at its next barrier, and the batch is dropped. One connection, used by
    one thread at a time (``lock``): a statement waits for the commit in flight, so it reads
    and writes after it, and no two transactions can overwrite each other's changes.
    """

    def __init__(self, pool: ConnectionPool[Conn]) -> None:
        self.pool = pool
        self.thread = threading.get_ident()
        self.conn = pool.getconn()
        self.lock = threading.Lock()
        self.batch = 0  # the number of the open (or next) transaction
        self.open = False
        self.failed: set[int] = set()
        self.committing: dict[int, asyncio.Future[None]] = {}
        self.committer = ThreadPoolExecutor(1, thread_name_prefix="group-commit")
        #: What the open transaction holds a lock on (``_Pool.serialize``).
        self.locked: set[str] = set()
        #: Users' records as the open transaction read them under their lock
        #: (``_Pool.user_records``).
        self.users: dict[int, UserRecords] = {}

    @contextlib.contextmanager
    def use(self, write: bool) -> Iterator[Conn]:
        with self.lock:
            if write or self.open:
                self.join()
            try:
                yield self.conn
            finally:
                if self.conn.info.transaction_status == psycopg.pq.TransactionStatus.INERROR:
                    self._drop()

    def join(self) -> None:
        """Make the current unit of work part of the open batch (beginning one); the lock
        held."""
        if not self.open:
            self.conn.execute("BEGIN")
            self.open = True
        used = _BATCHES.get()
        if used is None:
            used = set()
            _BATCHES.set(used)
        used.add(self.batch)

    async def settle(self) -> None:
        """Wait until the batches this unit of work used are committed, sharing the commit
        with the units that are ready to add their changes; ``CommitFailed`` when one failed."""
        used = _BATCHES.get()
        if not used:
            return
        if self.open and self.batch in used:
            # Let the units that are running add their changes first: they share the commit.
            for _ in range(GATHER_TURNS):
                await asyncio.sleep(0)
            if self.open and self.batch in used:
                self._start_commit()
        waiting = [self.committing[b] for b in used if b in self.committing]
        if waiting:
            await asyncio.gather(*(asyncio.shield(w) for w in waiting))
        self._check(used)

    def commit(self) -> None:
        """Commit the open batch now (and wait for the commits in flight); ``CommitFailed``
        when a batch this unit used failed."""
        with self.lock:
            if self.open:
                self._close_and_commit()
        used = _BATCHES.get()
        if used:
            self._check(used)

    def _check(self, used: set[int]) -> None:
        lost = used & self.failed
        used.clear()
        if lost:
            raise CommitFailed(f"group commit of batch {min(lost)} failed")

    def _start_commit(self) -> None:
        """Close the open batch and commit it in a worker thread, which holds the connection
        until the commit is done: the next statement waits for it."""
        self.lock.acquire()  # released by the worker thread
        try:
            number = self.batch
            self.open = False
            self.batch += 1
            self._forget_transaction()
            # Submitted at once (not when a task first runs): whoever waits for the lock
            # meanwhile, even the event loop's thread, waits for this commit only.
            done = asyncio.get_running_loop().run_in_executor(
                self.committer, self._commit_and_release, number
            )
        except BaseException:
            self.lock.release()
            raise
        self.committing[number] = done
        done.add_done_callback(lambda _: self.committing.pop(number, None))

    def _commit_and_release(self, number: int) -> None:
        try:
            self._commit(number)
        finally:
            self.lock.release()

    def _close_and_commit(self) -> None:
        number = self.batch
        self.open = False
        self.batch += 1
        self._forget_transaction()
        self._commit(number)

    def _commit(self, number: int) -> None:
        """COMMIT batch ``number`` (the lock held, the batch closed); a failed one is dropped."""
        try:
            self.conn.execute("COMMIT")
        except psycopg.Error:
            with contextlib.suppress(psycopg.Error):
                self.conn.execute("ROLLBACK")
            self.failed.add(number)

    def _forget_transaction(self) -> None:
        """What held only inside the transaction that ended: its locks, and what it read
        under them."""
        self.locked.clear()
        self.users.clear()

    def _drop(self) -> None:
        with contextlib.suppress(psycopg.Error):
            self.conn.execute("ROLLBACK")
        self.failed.add(self.batch)
        self.open = False
        self.batch += 1
        self._forget_transaction()

    def close(self) -> None:
        """Commit what is open (a clean stop: PTB's last persistence flush), then let go."""
        with self.lock:
            if self.open:
                self._close_and_commit()
        self.committer.shutdown()
        self.pool.putconn(self.conn)


class _Pool:
    """The connection pool, the closed flag and group commit, shared by the repositories."""

    def __init__(self, pool: ConnectionPool[Conn], shared: bool = False) -> None:
        self.pool = pool
        self.closed = False
        self.group: _Group | None = None
        #: Other processes change the same records (``serialize``).
        self.shared = shared

    def serialize(self, conn: Conn, *what: object) -> None:
        """Hold ``what`` (a record's name) until the group's transaction ends, so that a
        read, the change made from it and its write in this process are not interleaved
        with another process's: without it, an applicant's answer (saved by one process)
        and the outbox marking their decision sent (another process) would each write the
        registration as they had read it, and one change would be lost.

        A transaction-level advisory lock: taken before the read (whose snapshot then
        includes the other process's commit), released by the commit at the next barrier.
        A user's account and registrations are one name (``user:<id>``): an update reads
        both, and one lock is one round trip. Only in the group's transaction; a wait on a
        deadlock is ended by the server (one batch fails, and its updates are handled
        again).

        A job that does not wait (``_UNLOCKED``) gets ``HeldElsewhere`` instead of waiting,
        and also for a user it last read without their lock (what it would write may be
        older than the other process's change)."""
        group = self._group_of(conn)
        if group is None:
            return
        name = ":".join(str(part) for part in what)
        unlocked = _UNLOCKED.get()
        if unlocked is not None and what[0] == "user" and what[1] in unlocked:
            raise HeldElsewhere(name)
        if name not in group.locked:
            group.join()  # a read holds its lock only inside the batch's transaction
            if not self._held(group, name, self._lock(group, conn, name)):
                raise HeldElsewhere(name)

    def user_records(self, conn: Conn, user_id: int) -> UserRecords | None:
        """A user's account and registrations (JSON texts) as the group's transaction sees
        them, read once under the user's lock (``serialize``): while it is held no other
        process changes them, and this one's writes keep them current (``wrote_user``). An
        update reads them several times (services, the form, the profile); one statement
        instead. None outside the group's transaction of shared processes."""
        group = self._group_of(conn)
        if group is None:
            return None
        records = group.users.get(user_id)
        unlocked = _UNLOCKED.get()
        if records is None:
            with conn.pipeline():
                taken, cursor = self._lock_and_read(group, conn, user_id)
            rows = cursor.fetchall()
            if not self._held(group, f"user:{user_id}", taken):
                # A job that does not wait, and another process holds the user: what it
                # last committed, not kept (nothing may be written from it).
                assert unlocked is not None
                unlocked.add(user_id)
                return _user_records(rows)
            records = group.users[user_id] = _user_records(rows)
        if unlocked is not None:
            unlocked.discard(user_id)
        return records

    def read_with_user(self, conn: Conn, query: str, params: Sequence[object]) -> list[TupleRow]:
        """The rows of ``query``; the first read of a shared process's update (``begin``
        named its user) also takes that user's lock and reads their records, in the same
        round trip: an update's persistence and records, read at its start."""
        group = self._group_of(conn)
        user_id = _USER.get()
        if group is None or user_id is None or user_id in group.users:
            return conn.execute(query, params).fetchall()
        _USER.set(None)
        with conn.pipeline():
            _, records = self._lock_and_read(group, conn, user_id)  # an update: it waits
            cursor = conn.execute(query, params)
        group.users[user_id] = _user_records(records.fetchall())
        return cursor.fetchall()

    def _group_of(self, conn: Conn) -> _Group | None:
        group = self.group
        if not self.shared or group is None or conn is not group.conn:
            return None
        return group

    @staticmethod
    def _lock(group: _Group, conn: Conn, name: str) -> psycopg.Cursor[TupleRow] | None:
        """Take ``name``'s lock in the open batch: waiting for it (None), or, in a job that
        does not wait, only if it is free (the cursor saying whether it was: ``_held``)."""
        if _UNLOCKED.get() is None:
            conn.execute(LOCK, (_lock_key(name),))
            group.locked.add(name)
            return None
        return conn.execute(TRY_LOCK, (_lock_key(name),))

    @staticmethod
    def _held(group: _Group, name: str, trying: psycopg.Cursor[TupleRow] | None) -> bool:
        """Whether the batch holds ``name``'s lock after ``_lock`` (read once the pipeline
        it ran in is done)."""
        if trying is None:
            return True
        row = trying.fetchone()
        if row is None or not row[0]:
            return False
        group.locked.add(name)
        return True

    @staticmethod
    def _lock_and_read(
        group: _Group, conn: Conn, user_id: int
    ) -> tuple[psycopg.Cursor[TupleRow] | None, psycopg.Cursor[TupleRow]]:
        """In a pipeline: the batch begun, the user's lock taken and their records read
        (the server runs them in order, so the read's snapshot is taken once the lock is
        held); the lock's cursor (``_lock``) and the read's."""
        name = f"user:{user_id}"
        group.join()
        taken = None if name in group.locked else _Pool._lock(group, conn, name)
        return taken, conn.execute(
            "SELECT 0, NULL, NULL::timestamptz, doc::text FROM accounts "
            "WHERE user_id = %s UNION ALL SELECT 1, id, created_at, doc::text "
            "FROM registrations WHERE user_id = %s ORDER BY 1, 3, 2",
            (user_id, user_id),
        )

    def wrote_user(
        self,
        conn: Conn,
        user_id: int,
        account: str | None = None,
        registration: tuple[str, str] | None = None,
    ) -> None:
        """This process wrote the user's account or a registration (its JSON text) in the
        group's transaction: what was read of them stays current without reading again. A
        registration not read before (a new one) is read again with the rest, in order."""
        group = self._group_of(conn)
        records = None if group is None else group.users.get(user_id)
        if group is None or records is None:
            return
        if account is not None:
            records.account = account
        if registration is not None:
            rid, text = registration
            if rid in records.registrations:
                records.registrations[rid] = text
            else:
                del group.users[user_id]

    def forget_user(self, user_id: int) -> None:
        """This process changed the user's records: read them again when next asked."""
        if self.group is not None:
            self.group.users.pop(user_id, None)

    @contextlib.contextmanager
    def connection(self, write: bool = True) -> Iterator[Conn]:
        """A connection in autocommit mode: each statement is its own transaction unless
        the caller opens one with ``conn.transaction()``. On the event loop's thread once
        group commit is on: the group's connection, where a ``write`` joins the open batch
        (beginning one) and a read joins it when one is open. The repositories change
        nothing in more than one statement, so no savepoint is needed in a batch."""
        if self.closed:
            raise StorageClosed("PostgreSQL storage is closed")
        group = self.group
        if group is not None and threading.get_ident() == group.thread:
            with group.use(write) as conn:
                yield conn
            return
        with self.pool.connection() as conn:
            yield conn


def _normalize(value: str) -> str:
    return value.strip().casefold()


def _events(conn: Conn, events: Sequence[AuditEvent]) -> None:
    if events:
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO audit (subject, doc) VALUES (%s, %s::json)",
                [(e.subject, e.model_dump_json()) for e in events],
            )


def _save(conn: Conn, upsert: str, params: tuple[Any, ...], events: Sequence[AuditEvent]) -> int:
    """A record's upsert and its audit events in one statement (events in a data-modifying
    ``WITH``, in their order): atomic on its own, so no savepoint is needed inside a group's
    batch, and one round trip. How many records it wrote: 0 where the upsert's condition
    held the change back, and then no event is written either."""
    if not events:
        return conn.execute(upsert, params).rowcount
    row = conn.execute(
        f"WITH saved AS ({upsert} RETURNING 1), "
        "logged AS (INSERT INTO audit (subject, doc) SELECT %s, e.doc::json "
        "FROM unnest(%s::text[]) WITH ORDINALITY AS e(doc, n) "
        "WHERE EXISTS (SELECT FROM saved) ORDER BY e.n) "
        "SELECT count(*) FROM saved",
        (*params, events[0].subject, [e.model_dump_json() for e in events]),
    ).fetchone()
    return int(row[0]) if row else 0


def _text(conn: Conn, query: str, key: object) -> str | None:
    """The one text column of the row ``query`` finds by ``key``, or None."""
    row = conn.execute(query, (key,)).fetchone()
    return None if row is None else str(row[0])


class PostgresAccounts:
    """Accounts by user id."""

    def __init__(self, db: _Pool) -> None:
        self._db = db

    def get(self, user_id: int) -> Account | None:
        """The account of ``user_id``, or None."""
        with self._db.connection(write=False) as conn:
            records = self._db.user_records(conn, user_id)
            text = (
                records.account
                if records is not None
                else _text(conn, "SELECT doc::text FROM accounts WHERE user_id = %s", user_id)
            )
        return None if text is None else Account.model_validate_json(text)

    def save(self, account: Account, events: Sequence[AuditEvent] = ()) -> None:
        """Insert or replace the account with its audit events, in one transaction."""
        if account.user_id <= 0:
            raise ValueError(f"invalid user id {account.user_id}")
        if any(e.subject != account.subject for e in events):
            raise ValueError("events must be about the account saved with them")
        with self._db.connection() as conn:
            self._db.serialize(conn, "user", account.user_id)
            text = account.model_dump_json()
            _save(
                conn,
                "INSERT INTO accounts (user_id, doc) VALUES (%s, %s::json) "
                "ON CONFLICT (user_id) DO UPDATE SET doc = excluded.doc",
                (account.user_id, text),
                events,
            )
            self._db.wrote_user(conn, account.user_id, account=text)

    def delete(self, user_id: int) -> None:
        """Remove the account (its registrations and audit events stay)."""
        with self._db.connection() as conn:
            self._db.forget_user(user_id)
            conn.execute("DELETE FROM accounts WHERE user_id = %s", (user_id,))


class PostgresRegistrations:
    """Registrations, indexed by user, by status and by pending notifications."""

    def __init__(self, db: _Pool) -> None:
        self._db = db

    def get(self, registration_id: str) -> Registration | None:
        """The registration, or None (also for a malformed id)."""
        user_id = registration_user(registration_id)
        if user_id is None:
            return None
        with self._db.connection(write=False) as conn:
            records = self._db.user_records(conn, user_id)
            text = (
                records.registrations.get(registration_id)
                if records is not None
                else _text(
                    conn, "SELECT doc::text FROM registrations WHERE id = %s", registration_id
                )
            )
        return None if text is None else Registration.model_validate_json(text)

    def by_number(self, number: str) -> Registration | None:
        """The registration with this public number (as typed), or None."""
        wanted = numbers.canonical(number)
        if wanted is None:
            return None
        with self._db.connection(write=False) as conn:
            row = conn.execute(
                "SELECT doc::text FROM registrations WHERE number = %s", (wanted,)
            ).fetchone()
        return None if row is None else Registration.model_validate_json(row[0])

    def for_user(self, user_id: int) -> list[Registration]:
        """The user's registrations, oldest first."""
        with self._db.connection(write=False) as conn:
            records = self._db.user_records(conn, user_id)
            if records is not None:
                texts = list(records.registrations.values())
            else:
                rows = conn.execute(
                    "SELECT doc::text FROM registrations WHERE user_id = %s "
                    "ORDER BY created_at, id",
                    (user_id,),
                ).fetchall()
                texts = [str(row[0]) for row in rows]
        return [Registration.model_validate_json(text) for text in texts]

    def save(self, registration: Registration, events: Sequence[AuditEvent] = ()) -> None:
        """Insert or replace the registration with its audit events, in one transaction."""
        rid = registration.id
        if registration.user_id <= 0 or rid != Registration.make_id(
            registration.user_id, registration.role
        ):
            raise ValueError(f"registration id {rid!r} does not match its user and role")
        if any(e.subject != rid for e in events):
            raise ValueError("events must be about the registration saved with them")
        with self._db.connection() as conn:
            self._db.serialize(conn, "user", registration.user_id)
            stored = None
            if not registration.number:
                row = conn.execute(
                    "SELECT number FROM registrations WHERE id = %s", (rid,)
                ).fetchone()
                stored = None if row is None else str(row[0])

            def holder(number: str) -> str | None:
                row = conn.execute(
                    "SELECT id FROM registrations WHERE number = %s", (number,)
                ).fetchone()
                return None if row is None else str(row[0])

            while (written := self._save(conn, registration, events, stored, holder)) is None:
                registration.number = ""  # another process drew it meanwhile: again
            self._db.wrote_user(conn, registration.user_id, registration=(rid, written))

    @staticmethod
    def _save(
        conn: Conn,
        registration: Registration,
        events: Sequence[AuditEvent],
        stored: str | None,
        holder: Callable[[str], str | None],
    ) -> str | None:
        """One attempt: the registration's JSON as written, or None when the freshly drawn
        number was taken by another process between the check and the write. Only a fresh
        number may collide in the normal course, so only then is the write a savepoint in
        the group's transaction (two more round trips); any other failure fails the
        group's batch."""
        drawn = stored is None and not registration.number
        number = numbering.assign(registration, stored, holder, unique_index=True)
        text = registration.model_dump_json()
        try:
            with conn.transaction() if drawn else contextlib.nullcontext():
                written = _save(
                    conn,
                    "INSERT INTO registrations "
                    "(id, user_id, status, created_at, updated_at, pending, number, doc) "
                    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s::json) "
                    "ON CONFLICT (id) DO UPDATE SET status = excluded.status, "
                    "created_at = excluded.created_at, updated_at = excluded.updated_at, "
                    "pending = excluded.pending, doc = excluded.doc "
                    "WHERE registrations.number = excluded.number",
                    (
                        registration.id,
                        registration.user_id,
                        registration.status.value,
                        registration.created_at,
                        registration.updated_at,
                        bool(registration.pending),
                        number,
                        text,
                    ),
                    events,
                )
                if written != 1:
                    raise ValueError(f"registration {registration.id} has another number")
        except psycopg.errors.UniqueViolation:
            if not drawn:
                raise NumberTaken(number) from None
            return None
        return text

    def delete(self, registration_id: str) -> None:
        """Remove the registration (no-op when missing)."""
        user_id = registration_user(registration_id)
        with self._db.connection() as conn:
            if user_id is not None:
                self._db.forget_user(user_id)
            conn.execute("DELETE FROM registrations WHERE id = %s", (registration_id,))

    def with_status(
        self, *statuses: str, where: Callable[[Registration], bool] | None = None
    ) -> list[Registration]:
        """Registrations in any of ``statuses`` for which ``where`` holds, oldest
        ``updated_at`` first (from the status index)."""
        wanted = sorted({Status(s).value for s in statuses})
        found: list[Registration] = []
        with self._db.connection(write=False) as conn, conn.cursor() as cur:
            cur.execute(
                "SELECT doc::text FROM registrations WHERE status = ANY(%s) "
                "ORDER BY updated_at, id",
                (wanted,),
            )
            while batch := cur.fetchmany(SCAN_BATCH):
                for row in batch:
                    reg = Registration.model_validate_json(row[0])
                    if where is None or where(reg):
                        found.append(reg)
        return found

    def with_pending_notifications(self) -> list[Registration]:
        """Registrations with undelivered notifications (from a partial index)."""
        with self._db.connection(write=False) as conn:
            rows = conn.execute(
                "SELECT doc::text FROM registrations WHERE pending ORDER BY id"
            ).fetchall()
        return [Registration.model_validate_json(row[0]) for row in rows]

    def count(self) -> int:
        """How many registrations are stored."""
        with self._db.connection(write=False) as conn:
            row = conn.execute("SELECT count(*) FROM registrations").fetchone()
        return int(row[0]) if row else 0

    def all(self) -> Iterator[Registration]:
        """Every registration, by id, fetched in batches (no connection held in between)."""
        last = ""
        while True:
            with self._db.connection(write=False) as conn:
                rows = conn.execute(
                    "SELECT id, doc::text FROM registrations WHERE id > %s ORDER BY id LIMIT %s",
                    (last, SCAN_BATCH),
                ).fetchall()
            for _, doc in rows:
                yield Registration.model_validate_json(doc)
            if len(rows) < SCAN_BATCH:
                return
            last = rows[-1][0]


class PostgresUniqueIndex:
    """Claimed values, one row each; values compare case-insensitively."""

    def __init__(self, db: _Pool) -> None:
        self._db = db

    def claim(self, kind: str, value: str, owner: str) -> bool:
        """Reserve ``value`` for ``owner``; True when it was free or already ``owner``'s."""
        normalized = _normalize(value)
        with self._db.connection() as conn:
            # The insert either takes the value or waits for whoever holds it; the select
            # then reads the holder. Released in between: try again.
            while True:
                row = conn.execute(
                    "INSERT INTO unique_claims (kind, value, owner) VALUES (%s, %s, %s) "
                    "ON CONFLICT (kind, value) DO NOTHING RETURNING owner",
                    (kind, normalized, owner),
                ).fetchone()
                if row is None:
                    row = conn.execute(
                        "SELECT owner FROM unique_claims WHERE kind = %s AND value = %s",
                        (kind, normalized),
                    ).fetchone()
                if row is not None:
                    return bool(row[0] == owner)

    def release(self, kind: str, value: str, owner: str) -> None:
        """Free ``value`` if ``owner`` holds it."""
        with self._db.connection() as conn:
            conn.execute(
                "DELETE FROM unique_claims WHERE kind = %s AND value = %s AND owner = %s",
                (kind, _normalize(value), owner),
            )

    def owner(self, kind: str, value: str) -> str | None:
        """Who holds ``value``, or None."""
        with self._db.connection(write=False) as conn:
            row = conn.execute(
                "SELECT owner FROM unique_claims WHERE kind = %s AND value = %s",
                (kind, _normalize(value)),
            ).fetchone()
        return None if row is None else str(row[0])


class PostgresAuditLog:
    """Append-only events in one table, numbered by a sequence."""

    def __init__(self, db: _Pool) -> None:
        self._db = db

    def append(self, event: AuditEvent) -> None:
        """Append ``event`` to its subject's log."""
        with self._db.connection() as conn:
            _events(conn, [event])

    def for_subject(self, subject: str) -> list[AuditEvent]:
        """Events of ``subject`` in the order they were appended."""
        with self._db.connection(write=False) as conn:
            rows = conn.execute(
                "SELECT doc::text FROM audit WHERE subject = %s ORDER BY seq", (subject,)
            ).fetchall()
        return [AuditEvent.model_validate_json(row[0]) for row in rows]


class PostgresKeyValueStore:
    """JSON documents by (namespace, key)."""

    def __init__(self, db: _Pool) -> None:
        self._db = db

    def _serialize(self, conn: Conn, namespace: str, key: str) -> None:
        # PTB's entries belong to one user, whose updates one process handles at a time.
        if not namespace.startswith("ptb."):
            self._db.serialize(conn, "kv", namespace, key)

    def get(self, namespace: str, key: str) -> Any | None:
        """The value stored under ``key``, or None."""
        with self._db.connection(write=False) as conn:
            self._serialize(conn, namespace, key)
            row = conn.execute(
                "SELECT value::text FROM kv WHERE namespace = %s AND key = %s", (namespace, key)
            ).fetchone()
        return None if row is None else json.loads(row[0])

    def get_many(self, entries: Collection[tuple[str, str]]) -> dict[tuple[str, str], Any]:
        """The values stored under each (namespace, key), the missing ones left out: one
        statement."""
        pairs = list(entries)
        if not pairs:
            return {}
        with self._db.connection(write=False) as conn:
            for namespace, key in pairs:
                self._serialize(conn, namespace, key)
            # Pairs as scalar parameters, not two arrays: half the time (arrays are dumped
            # element by element in Python); the same few pairs each update, so prepared.
            rows = self._db.read_with_user(
                conn,
                "SELECT namespace, key, value::text FROM kv WHERE (namespace, key) IN ("
                + ", ".join(["(%s, %s)"] * len(pairs))
                + ")",
                [part for pair in pairs for part in pair],
            )
        return {(namespace, key): json.loads(text) for namespace, key, text in rows}

    def put(self, namespace: str, key: str, value: Any) -> None:
        """Store ``value`` (JSON-serialisable) under ``key``."""
        text = json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
        with self._db.connection() as conn:
            self._serialize(conn, namespace, key)
            conn.execute(
                "INSERT INTO kv (namespace, key, value) VALUES (%s, %s, %s::json) "
                "ON CONFLICT (namespace, key) DO UPDATE SET value = excluded.value",
                (namespace, key, text),
            )

    def delete(self, namespace: str, key: str) -> None:
        """Remove ``key`` (no-op when missing)."""
        with self._db.connection() as conn:
            self._serialize(conn, namespace, key)
            conn.execute("DELETE FROM kv WHERE namespace = %s AND key = %s", (namespace, key))

    def items(self, namespace: str) -> Mapping[str, Any]:
        """Every (key, value) of ``namespace`` (from the primary key's index)."""
        with self._db.connection(write=False) as conn:
            rows = conn.execute(
                "SELECT key, value::text FROM kv WHERE namespace = %s ORDER BY key", (namespace,)
            ).fetchall()
        return {key: json.loads(text) for key, text in rows}


class PostgresDocuments:
    """Uploaded documents in the ``documents`` table, by the file store's names."""

    def __init__(self, db: _Pool) -> None:
        self._db = db

    def put(self, data: bytes, extension: str, owner: int) -> tuple[str, str]:
        """Store ``data`` for user ``owner`` (once: the name is its content's digest)."""
        digest, name = document_name(data, extension, owner)
        with self._db.connection() as conn:
            conn.execute(
                "INSERT INTO documents (name, owner, data) VALUES (%s, %s, %s) "
                "ON CONFLICT (name) DO NOTHING",
                (name, owner, data),
            )
        return digest, name

    def read(self, relative: str) -> bytes:
        """The bytes stored under ``relative``."""
        if not relative.startswith("files/"):
            raise ValueError("path outside the file store")
        with self._db.connection(write=False) as conn:
            row = conn.execute("SELECT data FROM documents WHERE name = %s", (relative,)).fetchone()
        if row is None:
            raise FileNotFoundError(relative)
        return bytes(row[0])

    def sweep(self, owner: int, keep: Collection[str]) -> int:
        """Delete user ``owner``'s documents not named in ``keep``; how many."""
        with self._db.connection() as conn:
            cur = conn.execute(
                "DELETE FROM documents WHERE owner = %s AND NOT (name = ANY(%s))",
                (owner, list(keep)),
            )
            return cur.rowcount


class PostgresInbox:
    """Received updates in the ``inbox`` table."""

    #: Telegram keeps an unconfirmed update for 24 hours: a handled one's id is kept longer.
    KEEP_HANDLED = "2 days"

    def __init__(self, db: _Pool) -> None:
        self._db = db

    def add(self, update_id: int, payload: Mapping[str, Any], sender: int = 0) -> bool:
        """Store the update; False when its id was stored before. Every process listening
        hears of it once it is committed."""
        text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
        with self._db.connection() as conn:
            cur = conn.execute(
                "INSERT INTO inbox (update_id, payload, sender) VALUES (%s, %s::json, %s) "
                "ON CONFLICT (update_id) DO NOTHING",
                (update_id, text, sender),
            )
            if cur.rowcount != 1:
                return False
            conn.execute("SELECT pg_notify(%s, 'inbox')", (CHANNEL,))
            return True

    def done(self, update_id: int) -> None:
        """Mark the update handled."""
        with self._db.connection() as conn:
            conn.execute(
                "UPDATE inbox SET handled_at = now() WHERE update_id = %s AND handled_at IS NULL",
                (update_id,),
            )

    def waiting(self) -> list[dict[str, Any]]:
        """Updates not handled yet, oldest first."""
        with self._db.connection(write=False) as conn:
            rows = conn.execute(
                "SELECT payload::text FROM inbox WHERE handled_at IS NULL ORDER BY update_id"
            ).fetchall()
        return [json.loads(row[0]) for row in rows]

    def prune(self) -> int:
        """Forget handled updates Telegram can no longer hand over; how many."""
        with self._db.connection() as conn:
            cur = conn.execute(
                "DELETE FROM inbox WHERE handled_at < now() - %s::interval", (self.KEEP_HANDLED,)
            )
            return cur.rowcount


class PostgresStorage:
    """The application's storage in one PostgreSQL database; open with ``open``."""

    def __init__(
        self, pool: ConnectionPool[Conn], lock: Conn | None, shared_by: str | None = None
    ) -> None:
        """Use ``open``: it migrates the schema and takes the process lock first."""
        self._db = _Pool(pool, shared=shared_by is not None)
        self._lock = lock
        self._close_lock = threading.Lock()
        self.accounts: AccountRepository = PostgresAccounts(self._db)
        self.registrations: RegistrationRepository = PostgresRegistrations(self._db)
        self.unique: UniqueIndex = PostgresUniqueIndex(self._db)
        self.audit: AuditLog = PostgresAuditLog(self._db)
        self.kv: KeyValueStore = PostgresKeyValueStore(self._db)
        self.files: DocumentStore = PostgresDocuments(self._db)
        self.inbox: Inbox | None = PostgresInbox(self._db)
        #: Changes wait for ``barrier`` (once ``begin`` has turned group commit on).
        self.commits_in_groups = True
        self.processes: Processes | None = None
        if shared_by is not None and lock is not None:
            self.processes = PostgresProcesses(shared_by, lock, self._db)

    @classmethod
    def open(
        cls,
        conninfo: str,
        *,
        exclusive: bool = True,
        shared: bool = False,
        pool_size: int = 4,
    ) -> PostgresStorage:
        """Connect, apply the missing migrations, and hold the database until ``close``:
        ``shared`` with the other bot processes (``processes`` then coordinates them),
        else ``exclusive``ly (the console, ``migrate``). ``DatabaseInUse`` when that
        cannot be had (bots running, or the console or a copy in progress).
        """
        lock = _connect(conninfo)
        try:
            if exclusive or shared:
                _take_process_lock(lock, shared)
                migrate(lock)
            else:
                migrate(lock)
                lock.close()
            pool: ConnectionPool[Conn] = ConnectionPool(
                conninfo,
                min_size=1,
                max_size=pool_size,
                kwargs={"autocommit": True, "application_name": application_name()},
                open=True,
                name="storage",
            )
            try:
                pool.wait(timeout=10)
            except BaseException:
                pool.close()
                raise
        except BaseException:
            lock.close()
            raise
        store = cls(pool, lock if exclusive or shared else None, conninfo if shared else None)
        PostgresInbox(store._db).prune()
        return store

    def connection(self) -> contextlib.AbstractContextManager[Conn]:
        """A pooled autocommit connection, for work beyond the repositories (bulk copies)."""
        return self._db.connection()

    def begin(self, user_id: int | None = None) -> None:
        """Start a unit of work (an update) in the current task: the barrier answers for
        the batches it uses from now on. The first call (on the event loop's thread) turns
        group commit on. Processes sharing the database take the user's lock and read
        their records with the unit's first read (``_Pool.read_with_user``)."""
        if self._db.group is None:
            self._db.group = _Group(self._db.pool)
        _BATCHES.set(set())
        _USER.set(user_id if self._db.shared else None)

    def without_waiting(self) -> None:
        """The current task (a job) takes a record's lock only when no other process holds
        it: it reads what was last committed, and a change raises ``HeldElsewhere``. Turns
        group commit on, as ``begin`` does: a job run before the first update still takes
        the locks it changes records under."""
        if self._db.group is None:
            self._db.group = _Group(self._db.pool)
        _UNLOCKED.set(set())

    def end(self) -> None:
        """The unit of work's user is no longer read first (an update that read nothing of
        theirs); its changes need nothing: once group commit is on, every change on the
        event loop's thread joins the open batch, in a unit of work or not."""
        _USER.set(None)

    def barrier(self) -> None:
        """Make every change made so far durable (commit the group's open batch);
        ``CommitFailed`` when this unit of work's changes were in a batch that failed."""
        if self._db.group is not None and threading.get_ident() == self._db.group.thread:
            self._db.group.commit()

    async def committed(self) -> None:
        """Return once what this unit of work changed or read is committed; the units of
        work ready at the same moment share the commit, and the event loop goes on with the
        others while it runs. ``CommitFailed`` when it failed."""
        if self._db.group is not None:
            await self._db.group.settle()

    def close(self) -> None:
        """Close the pool and release the database; further use raises ``StorageClosed``."""
        with self._close_lock:
            if self._db.closed:
                return
            self._db.closed = True
        if self._db.group is not None:
            self._db.group.close()
        if self.processes is not None:
            self.processes.close()
        self._db.pool.close()
        if self._lock is not None:
            _release_process_lock(self._lock)

    def __enter__(self) -> PostgresStorage:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _release_process_lock(conn: Conn) -> None:
    """Give the database up now. Closing the connection alone releases the lock only once
    the server's backend has exited, a moment later (longer on a busy machine), so a
    process reopening at once (a restart) would find it still held."""
    with contextlib.suppress(psycopg.Error):  # a lost connection holds nothing
        # Every lock of the session: the database's, and the roles and users this process
        # held (storage/postgres/processes.py), so the others take them over at once.
        conn.execute("SELECT pg_advisory_unlock_all()")
    conn.close()


def _connect(conninfo: str) -> Conn:
    """One autocommit connection, or ``DatabaseUnavailable`` saying why (never the URL,
    which may hold a password)."""
    try:
        return psycopg.connect(
            conninfo, autocommit=True, connect_timeout=10, application_name=application_name()
        )
    except psycopg.Error as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DatabaseUnavailable(f"cannot connect to the database: {reason}") from None


def holder(conn: Conn, lock: int = PROCESS_LOCK) -> int | None:
    """The pid of the bot process holding ``lock`` (the receiver's, the job leader's), or
    None."""
    row = conn.execute(
        "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
        "WHERE l.locktype = 'advisory' AND l.classid = %s::oid AND l.objid = %s::oid "
        "AND l.objsubid = 1 AND l.granted",
        (lock >> 32, lock & 0xFFFF_FFFF),
    ).fetchone()
    name = str(row[0]) if row else ""
    return int(name.rpartition(" ")[2]) if name.startswith("onboarding-bot ") else None


def _take_process_lock(conn: Conn, shared: bool) -> None:
    take = "pg_try_advisory_lock_shared" if shared else "pg_try_advisory_lock"
    row = conn.execute(f"SELECT {take}(%s)", (PROCESS_LOCK,)).fetchone()
    if row and row[0]:
        return
    if shared:
        raise DatabaseInUse(
            "the database is held by the console or a copy (migrate); wait for it to end"
        )
    raise DatabaseInUse(
        "the database is in use by another bot process; stop it or point DATABASE_URL "
        "at another database"
    )
