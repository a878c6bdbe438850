"""The ``Storage`` protocol on many small TinyDB/JSON files, so a write never grows with n.

On-disk layout under ``data_dir``::

    .lock                            DataDirLock (one bot process per folder)
    users/<uid % 256 as 2 hex>/<uid>.json
                                     TinyDB per Telegram user: tables account, registrations,
                                     audit (events of that user's account and registrations),
                                     ptb (the user's PTB persistence entries)
    index/status/<status>/<reg id>   empty marker files: drafts and waiting registrations
    index/registrations.json         {"count": n, "pending": ...}: the registration counter
    index/number/<number>            {"id": reg id}: who holds each public number
    index/numbers.json               written once every registration had its number
    index/ptb/<uid>                  empty marker files: the users with PTB entries
    unique/<kind>/<sha256>.json      one file per claimed value: {"kind", "value", "owner"}
    audit/<sha256>.json              events of any other subject: {"subject", "events"}
    kv/<namespace>/<sha256>.json     one file per key: {"key", "value"} (PTB entries keyed
                                     by no user, e.g. a group chat's, too)

Every file is replaced atomically (``storage.atomic``). A save that touches several files
writes them in an order that a crash between two of them can only leave *extra* index
entries, which readers verify against the user's file and drop; the counter records its
pending change first and is settled from the user's file on the next open or count.

Inside a unit of work (``TinyDBStorage.begin``: one update of the bot) a user's file is not
written at each change: its new content is held (``_Root.held``; every read sees it) and
written once at the barrier (``TinyDBStorage.committed``), which the application passes
before every Bot API request that tells anyone anything, every e-mail and at the end of
each update: one replace of the file for all the update's changes of it. Writes keep their
order: any other write (a claim, a marker, a document's removal, a key) first writes what
is held, so a crash leaves what it left before, a prefix of the writes, only with a file's
consecutive changes joined.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import tempfile
import threading
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import orjson

from bot.rules import numbers
from bot.rules.models import Account, AuditEvent, Registration, Role, Status
from storage import numbering
from storage.atomic import (
    clean_temp,
    dumps,
    fsync_dir_after_change,
    is_temp,
    make_dirs,
    read_json,
    remove_durable,
    write_bytes_atomic,
    write_json_atomic,
)
from storage.files import FileStore
from storage.lock import DataDirLock
from storage.protocols import (
    AccountRepository,
    AuditLog,
    CommitFailed,
    DocumentStore,
    Inbox,
    KeyValueStore,
    Processes,
    RegistrationRepository,
    UniqueIndex,
)

#: Statuses served from marker files; approved and rejected ones pile up forever and are
#: only needed by exports, so they are found by a scan instead.
#: Final and legacy statuses are found by a scan (nothing scans them on a timer).
INDEXED_STATUSES = frozenset(Status) - {Status.APPROVED, Status.REJECTED, Status.REMOVED}

log = logging.getLogger(__name__)

_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
_ACCOUNT_SUBJECT = re.compile(r"account:([1-9][0-9]*)")


class DataDirNotWritable(OSError):
    """DATA_DIR cannot be created or written (permissions, read-only disk, a file in the way)."""


class HeldWriteFailed(OSError, CommitFailed):
    """A held user file could not be written (the disk is full …): the changes held are
    gone. An ``OSError`` (with the disk's errno) to whoever wrote when it happened, and
    ``CommitFailed`` to the units of work that made them."""


class StorageClosed(RuntimeError):
    """The storage was used after ``close``."""


def safe_name(name: str) -> str:
    """A file name for ``name`` that can never leave its folder (hashed unless plainly safe)."""
    if _SAFE_NAME.fullmatch(name) and not name.endswith(".tmp"):
        return name
    # "_" never starts a plain name, so hashed and plain names cannot collide.
    return "_" + _sha(name)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def registration_user(registration_id: str) -> int | None:
    """The user of ``registration_id`` if it is exactly what ``Registration.make_id`` gives.

    Anything else (``"01-isv"``, ``"1_0-isv"``, ``"../x"``) is None, so an id used as a file
    name or to find a user's file can never point anywhere unexpected.
    """
    try:
        user_id = Registration.user_of(registration_id)
        role = Role(registration_id.partition("-")[2])
    except ValueError:
        return None
    if user_id <= 0 or Registration.make_id(user_id, role) != registration_id:
        return None
    return user_id


def user_path(data_dir: Path, user_id: int) -> Path:
    """The TinyDB file of one user (256 shard folders keep directories small)."""
    return data_dir.joinpath("users", f"{user_id % 256:02x}", f"{user_id}.json")


def status_dir(data_dir: Path, status: Status) -> Path:
    """The folder of marker files for one indexed status."""
    return data_dir / "index" / "status" / status.value


def counter_path(data_dir: Path) -> Path:
    """The registration counter."""
    return data_dir / "index" / "registrations.json"


class _Unit:
    """One unit of work (an update): whether a change it made was lost with a failed write."""

    def __init__(self, root: _Root) -> None:
        self.root = root
        self.failed = False
        #: Ended (``TinyDBStorage.end``): also for the tasks that copied the update's
        #: context (a job it started), whose changes are then written at once.
        self.ended = False
        #: Its next change of a user file is written at once (``TinyDBUniqueIndex.claim``).
        self.write_next_now = False


#: The unit of work of the current task (``TinyDBStorage.begin``); None outside one, where
#: every change is written when it is made (jobs, the command line, scripts).
_UNIT: ContextVar[_Unit | None] = ContextVar("tinydb_unit", default=None)


class _Partition:
    """One user's TinyDB file, read whole and parsed on every use (nothing is cached: files
    are small, and a caller can never change what another one reads). Inside a unit of work
    its writes are held by the root until the barrier (see the module docstring)."""

    def __init__(self, root: _Root, path: Path) -> None:
        self.root = root
        self.path = path

    def _raw(self) -> dict[str, dict[str, Any]]:
        held = self.root.held.get(self.path)
        if held is not None:
            parsed: dict[str, dict[str, Any]] = orjson.loads(held[0])
            return parsed
        raw: dict[str, dict[str, Any]] = read_json(self.path, default={})
        return raw

    def rows(self, table: str) -> list[dict[str, Any]]:
        """The documents of ``table`` in insertion order ([] for a missing file)."""
        docs = self._raw().get(table, {})
        return [docs[doc_id] for doc_id in sorted(docs, key=int)]

    def find(self, table: str, field: str, value: Any) -> dict[str, Any] | None:
        """The first document of ``table`` whose ``field`` equals ``value``."""
        return next((doc for doc in self.rows(table) if doc.get(field) == value), None)

    # TinyDB's Tables re-read and re-write the whole file for every table operation; these
    # read it once and write it once, in TinyDB's format (same format, atomic write).
    # Reads parse TinyDB's JSON ({"<table>": {"<doc id>": doc}}) directly for the same reason.

    def put(
        self,
        table: str,
        field: str,
        data: dict[str, Any],
        also: Sequence[tuple[str, dict[str, Any]]] = (),
        now: bool = False,
    ) -> None:
        """Insert or replace the document whose ``field`` equals ``data[field]``, and insert
        the ``also`` documents (table, document), all in one atomic write of the file
        (``now``: written before this returns, even inside a unit of work)."""
        raw = self._raw()
        docs = raw.setdefault(table, {})
        key = next((k for k, d in docs.items() if d.get(field) == data[field]), None)
        docs[key or _next_id(docs)] = data
        for other, doc in also:
            rows = raw.setdefault(other, {})
            rows[_next_id(rows)] = doc
        self._write(raw, now)

    def remove(self, table: str, field: str, value: Any, now: bool = False) -> bool:
        """Remove the documents whose ``field`` equals ``value``; False if there were none."""
        raw = self._raw()
        docs = raw.get(table, {})
        kept = {k: d for k, d in docs.items() if d.get(field) != value}
        if len(kept) == len(docs):
            return False
        raw[table] = kept
        self._write(raw, now)
        return True

    def set_entry(
        self, table: str, data: dict[str, Any], fields: Sequence[str], drop: bool = False
    ) -> None:
        """Insert or replace the document whose ``fields`` equal ``data``'s, or remove it
        (``drop``; no write when there is none)."""
        raw = self._raw()
        docs = raw.setdefault(table, {})
        key = next((k for k, d in docs.items() if all(d[f] == data[f] for f in fields)), None)
        if drop:
            if key is None:
                return
            del docs[key]
        else:
            docs[key or _next_id(docs)] = data
        self._write(raw)

    def append(self, table: str, data: dict[str, Any]) -> None:
        """Insert ``data`` as a new document."""
        raw = self._raw()
        rows = raw.setdefault(table, {})
        rows[_next_id(rows)] = data
        self._write(raw)

    def _write(self, raw: dict[str, dict[str, Any]], now: bool = False) -> None:
        self.root.write_user_file(self.path, dumps(raw), now)


def _next_id(docs: Mapping[str, Any]) -> str:
    """TinyDB's next document id for a table: one more than the largest."""
    return str(max((int(k) for k in docs), default=0) + 1)


class _Root:
    """Paths under ``data_dir``, the closed flag and the held writes, shared by the
    repositories."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.closed = False
        # Scans may run in a worker thread while the event loop saves: a scan's repair of
        # an index entry re-checks under this lock, which every save and delete holds.
        self.index_lock = threading.RLock()
        #: User files written inside units of work and not yet on disk: their new content
        #: (JSON bytes: a reader in another thread parses its own copy) and the units that
        #: changed them. Only the event loop's thread changes it.
        self.held: dict[Path, tuple[bytes, list[_Unit]]] = {}
        self._holder: int | None = None  # the thread that holds them

    def before_write(self) -> None:
        """Called before any other file is written or removed: what is held goes first.
        (A scan in a worker thread repairing an index entry writes nothing held first: the
        entries it repairs never depend on a held change.)"""
        if self.held and threading.get_ident() == self._holder:
            self.flush()

    def write_json(self, path: Path, doc: Any) -> None:
        """Replace a file other than a user's (what is held goes first)."""
        self.before_write()
        write_json_atomic(path, doc)

    def remove(self, path: Path) -> None:
        """Remove a file other than a user's (what is held goes first)."""
        self.before_write()
        remove_durable(path)

    def touch(self, directory: Path, name: str) -> None:
        """Create a marker file (what is held goes first)."""
        self.before_write()
        _touch(directory, name)

    def unit(self) -> _Unit | None:
        """The current task's unit of work on this storage, if any."""
        unit = _UNIT.get()
        return unit if unit is not None and unit.root is self and not unit.ended else None

    def write_user_file(self, path: Path, data: bytes, now: bool) -> None:
        """Write a user file, or hold it until the barrier inside a unit of work."""
        unit = self.unit()
        if unit is not None and unit.write_next_now:
            unit.write_next_now, now = False, True
        if (unit is None or now) and not self.held:
            write_bytes_atomic(path, data)
            return
        self._holder = threading.get_ident()
        units = self.held[path][1] if path in self.held else []
        if unit is not None and unit not in units:
            units.append(unit)
        # A file held before keeps its place: the files are written in the order of their
        # first change.
        self.held[path] = (data, units)
        if unit is None or now:
            self.flush()

    def flush(self) -> None:
        """Write every held user file. When one cannot be written, none of the held
        changes is kept: each unit that made one fails (``CommitFailed``)."""
        while self.held:
            path, (data, _units) = next(iter(self.held.items()))
            try:
                write_bytes_atomic(path, data)
            except OSError as exc:
                dropped, self.held = self.held, {}
                for _, units in dropped.values():
                    for unit in units:
                        unit.failed = True
                log.error("writing %s failed; the changes held are dropped", path)
                raise HeldWriteFailed(exc.errno, f"writing {path} failed: {exc}") from exc
            # Written first, forgotten after: a reader in another thread sees the new
            # content all along.
            del self.held[path]

    def check(self) -> None:
        if self.closed:
            raise StorageClosed(f"storage at {self.data_dir} is closed")

    def partition(self, user_id: int) -> _Partition:
        self.check()
        return _Partition(self, user_path(self.data_dir, user_id))

    def partitions(self) -> Iterator[_Partition]:
        self.check()
        for shard in sorted((self.data_dir / "users").iterdir()):
            for entry in sorted(os.scandir(shard), key=lambda e: e.name):
                if entry.name.endswith(".json") and not is_temp(entry.name):
                    yield _Partition(self, Path(entry.path))

    def status_dir(self, status: Status) -> Path:
        self.check()
        return status_dir(self.data_dir, status)

    def outbox_dir(self) -> Path:
        self.check()
        return self.data_dir / "index" / "outbox"

    def counter_file(self) -> Path:
        self.check()
        return counter_path(self.data_dir)

    def number_file(self, number: str) -> Path:
        self.check()
        assert numbers.is_number(number)  # a safe file name
        return self.data_dir / "index" / "number" / number

    def unique_file(self, kind: str, normalized: str) -> Path:
        self.check()
        return self.data_dir / "unique" / safe_name(kind) / f"{_sha(normalized)}.json"

    def audit_file(self, subject: str) -> Path:
        self.check()
        return self.data_dir / "audit" / f"{_sha(subject)}.json"

    def ptb_dir(self) -> Path:
        self.check()
        return self.data_dir / "index" / "ptb"

    def kv_dir(self, namespace: str) -> Path:
        self.check()
        return self.data_dir / "kv" / safe_name(namespace)


class TinyDBAccounts:
    """Accounts, one document in each user's file."""

    def __init__(self, root: _Root) -> None:
        self._root = root

    def get(self, user_id: int) -> Account | None:
        """The account of ``user_id``, or None."""
        doc = self._root.partition(user_id).find("account", "user_id", user_id)
        return None if doc is None else Account.model_validate(doc)

    def save(self, account: Account, events: Sequence[AuditEvent] = ()) -> None:
        """Insert or replace the account, with its audit events (one write of its file)."""
        if account.user_id <= 0:
            raise ValueError(f"invalid user id {account.user_id}")
        if any(e.subject != account.subject for e in events):
            raise ValueError("events must be about the account saved with them")
        self._root.partition(account.user_id).put(
            "account",
            "user_id",
            account.model_dump(mode="json"),
            also=[("audit", e.model_dump(mode="json")) for e in events],
        )

    def delete(self, user_id: int) -> None:
        """Remove the account (its registrations and audit events stay)."""
        self._root.partition(user_id).remove("account", "user_id", user_id, now=True)


class _Counter:
    """The number of registrations, kept exact across crashes by a recorded pending change."""

    def __init__(self, root: _Root) -> None:
        self._root = root

    def _read(self) -> dict[str, Any]:
        state: dict[str, Any] = read_json(
            self._root.counter_file(), default={"count": 0, "pending": None}
        )
        return state

    def settle(self) -> int:
        """Resolve a change a crash (or a failed write) left pending; return the count."""
        state = self._read()
        pending = state["pending"]
        if pending is None:
            return int(state["count"])
        user_id = registration_user(pending["id"])
        exists = False
        if user_id is not None:
            found = self._root.partition(user_id).find("registrations", "id", pending["id"])
            exists = found is not None
        count = int(state["count"]) + int(exists) - int(pending["existed"])
        self._root.write_json(self._root.counter_file(), {"count": count, "pending": None})
        return count

    def begin(self, registration_id: str, existed: bool) -> int:
        """Record that ``registration_id`` is about to be created or removed."""
        count = self.settle()
        pending = {"id": registration_id, "existed": existed}
        self._root.write_json(self._root.counter_file(), {"count": count, "pending": pending})
        return count

    def commit(self, count: int) -> None:
        """Store the new count once the user's file holds the change."""
        self._root.write_json(self._root.counter_file(), {"count": count, "pending": None})


class TinyDBRegistrations:
    """Registrations in their user's file, plus status markers and a counter."""

    def __init__(self, root: _Root) -> None:
        self._root = root
        self._counter = _Counter(root)

    def get(self, registration_id: str) -> Registration | None:
        """The registration, or None (also for a malformed id)."""
        user_id = registration_user(registration_id)
        if user_id is None:
            return None
        doc = self._root.partition(user_id).find("registrations", "id", registration_id)
        return None if doc is None else Registration.model_validate(doc)

    def by_number(self, number: str) -> Registration | None:
        """The registration with this public number (as typed), or None."""
        wanted = numbers.canonical(number)
        if wanted is None:
            return None
        entry = read_json(self._root.number_file(wanted), default=None)
        registration = None if entry is None else self.get(str(entry["id"]))
        # An entry a crash left before its registration was written names none (or one
        # without this number): no one holds the number.
        return registration if registration is not None and registration.number == wanted else None

    def _holder(self, number: str) -> str | None:
        found = self.by_number(number)
        return None if found is None else found.id

    def for_user(self, user_id: int) -> list[Registration]:
        """The user's registrations, oldest first."""
        regs = [
            Registration.model_validate(doc)
            for doc in self._root.partition(user_id).rows("registrations")
        ]
        return sorted(regs, key=lambda r: (r.created_at, r.id))

    def save(self, registration: Registration, events: Sequence[AuditEvent] = ()) -> None:
        """Store the registration with its audit events (one write of the user's file) and
        keep the status and outbox markers and the counter in step."""
        rid = registration.id
        if registration.user_id <= 0 or rid != Registration.make_id(
            registration.user_id, registration.role
        ):
            raise ValueError(f"registration id {rid!r} does not match its user and role")
        if any(e.subject != rid for e in events):
            raise ValueError("events must be about the registration saved with them")
        with self._root.index_lock:
            self._save(registration, events)

    def _save(self, registration: Registration, events: Sequence[AuditEvent]) -> None:
        rid = registration.id
        partition = self._root.partition(registration.user_id)
        old = partition.find("registrations", "id", rid)
        old_status = None if old is None else Status(old["status"])
        new_status = registration.status
        stored_number = None if old is None else old.get("number") or None
        number = numbering.assign(registration, stored_number, self._holder)
        count = None if old is not None else self._counter.begin(rid, existed=False)
        # Who holds the number before the document: a crash in between leaves an entry that
        # names no registration with it (by_number checks), never a number nobody finds.
        if number != stored_number:
            self._root.write_json(self._root.number_file(number), {"id": rid})
        # New marker before the document, old marker after it: a crash in between leaves an
        # extra marker (dropped by with_status), never a registration missing from its queue.
        if new_status != old_status and new_status in INDEXED_STATUSES:
            self._mark(new_status, rid)
        # The same rule for the outbox: marked before the notifications are written.
        pending = bool(registration.pending)
        if pending:
            self._touch(self._root.outbox_dir(), rid)
        # What is changed after the document needs it on disk first: then it is written
        # now, even inside a unit of work (a status change, a delivered outbox, a new one).
        unmark = old_status is not None and old_status != new_status
        sent = not pending and old is not None and _has_pending(old)
        partition.put(
            "registrations",
            "id",
            registration.model_dump(mode="json"),
            also=[("audit", e.model_dump(mode="json")) for e in events],
            now=unmark or sent or count is not None,
        )
        if old_status is not None and unmark:
            self._unmark(old_status, rid)
        if sent:
            remove_durable(self._root.outbox_dir() / rid)
        if count is not None:
            self._counter.commit(count + 1)

    def delete(self, registration_id: str) -> None:
        """Remove the registration and its marker (no-op when missing)."""
        user_id = registration_user(registration_id)
        if user_id is None:
            return
        with self._root.index_lock:
            self._delete(registration_id, user_id)

    def _delete(self, registration_id: str, user_id: int) -> None:
        rid = registration_id
        partition = self._root.partition(user_id)
        old = partition.find("registrations", "id", rid)
        if old is None:
            return
        count = self._counter.begin(rid, existed=True)
        partition.remove("registrations", "id", rid, now=True)
        self._unmark(Status(old["status"]), rid)
        if numbers.is_number(str(old.get("number"))):
            remove_durable(self._root.number_file(old["number"]))
        self._counter.commit(count - 1)

    def number_all(self) -> int:
        """Give every registration stored before numbers existed its number, once per
        folder (a scan of every user file, then never again); how many got one."""
        done = self._root.data_dir / "index" / "numbers.json"
        if read_json(done, default=None) is not None:
            return 0
        given = 0
        for partition in self._root.partitions():
            for doc in partition.rows("registrations"):
                if not doc.get("number"):
                    self.save(Registration.model_validate(doc))
                    given += 1
        self._root.write_json(done, {"numbered": True})
        return given

    def with_status(
        self, *statuses: str, where: Callable[[Registration], bool] | None = None
    ) -> list[Registration]:
        """Registrations in any of ``statuses`` for which ``where`` holds, oldest
        ``updated_at`` first."""
        wanted = {Status(s) for s in statuses}
        found: dict[str, Registration] = {}
        for status in sorted(wanted & INDEXED_STATUSES):
            for reg in self._from_markers(status):
                if where is None or where(reg):
                    found[reg.id] = reg
        if wanted - INDEXED_STATUSES:
            for reg in self.all():
                if reg.status in wanted and (where is None or where(reg)):
                    found[reg.id] = reg
        return sorted(found.values(), key=lambda r: (r.updated_at, r.id))

    def with_pending_notifications(self) -> list[Registration]:
        """Registrations with undelivered notifications, from their marker files."""
        directory = self._root.outbox_dir()
        try:
            names = sorted(p.name for p in directory.iterdir() if not is_temp(p.name))
        except FileNotFoundError:
            return []
        found = []
        for name in names:
            reg = self.get(name)
            if reg is not None and reg.pending:
                found.append(reg)
            elif registration_user(name) is not None:
                # Left by a crash between two writes (checked again: a save may have come).
                with self._root.index_lock:
                    reg = self.get(name)
                    if reg is None or not reg.pending:
                        self._root.remove(directory / name)
        return found

    def count(self) -> int:
        """How many registrations are stored (one small file read)."""
        return self._counter.settle()

    def all(self) -> Iterator[Registration]:
        """Every registration: a scan of all user files, for exports and searches only."""
        for partition in self._root.partitions():
            for doc in partition.rows("registrations"):
                yield Registration.model_validate(doc)

    def _from_markers(self, status: Status) -> Iterator[Registration]:
        directory = self._root.status_dir(status)
        try:
            names = sorted(p.name for p in directory.iterdir())
        except FileNotFoundError:
            return
        for name in names:
            reg = self.get(name)
            if reg is not None and reg.status == status:
                yield reg
            elif registration_user(name) is not None:
                # Left by a crash (or a failed write) between a save's file writes; checked
                # again under the lock, as a save may have come since.
                with self._root.index_lock:
                    reg = self.get(name)
                    if reg is None or reg.status != status:
                        self._unmark(status, name)

    def _mark(self, status: Status, registration_id: str) -> None:
        self._touch(self._root.status_dir(status), registration_id)

    def _unmark(self, status: Status, registration_id: str) -> None:
        if status in INDEXED_STATUSES:
            self._root.remove(self._root.status_dir(status) / registration_id)

    def _touch(self, directory: Path, name: str) -> None:
        self._root.touch(directory, name)


def _touch(directory: Path, name: str) -> None:
    """Create an empty marker file durably (no-op when it exists)."""
    path = directory / name
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        return
    except FileNotFoundError:
        make_dirs(directory)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    os.close(fd)
    fsync_dir_after_change(directory)


def _has_pending(doc: Mapping[str, Any]) -> bool:
    return any(n.get("state") == "pending" for n in doc.get("outbox", []))


def _normalize(value: str) -> str:
    return value.strip().casefold()


class TinyDBUniqueIndex:
    """One small file per claimed (kind, value); values compare case-insensitively."""

    def __init__(self, root: _Root) -> None:
        self._root = root

    def claim(self, kind: str, value: str, owner: str) -> bool:
        """Reserve ``value`` for ``owner``; True when it was free or already ``owner``'s."""
        # Check-then-write is race-free: one thread, and no await between the two.
        normalized = _normalize(value)
        path = self._root.unique_file(kind, normalized)
        current = read_json(path, default=None)
        if current is not None:
            return bool(current["owner"] == owner)
        self._root.write_json(path, {"kind": kind, "value": normalized, "owner": owner})
        unit = self._root.unit()
        if unit is not None:
            # The change that needs the claim is written at once, so its failure reaches
            # the caller, who gives the value back (a held change failing later would
            # leave the value reserved by an answer that was never stored).
            unit.write_next_now = True
        return True

    def release(self, kind: str, value: str, owner: str) -> None:
        """Free ``value`` if ``owner`` holds it."""
        path = self._root.unique_file(kind, _normalize(value))
        current = read_json(path, default=None)
        if current is not None and current["owner"] == owner:
            self._root.remove(path)

    def owner(self, kind: str, value: str) -> str | None:
        """Who holds ``value``, or None."""
        current = read_json(self._root.unique_file(kind, _normalize(value)), default=None)
        return None if current is None else str(current["owner"])


class TinyDBAuditLog:
    """Append-only events, kept in the subject's user file when the subject has a user."""

    def __init__(self, root: _Root) -> None:
        self._root = root

    def append(self, event: AuditEvent) -> None:
        """Append ``event`` to its subject's log."""
        data = event.model_dump(mode="json")
        user_id = _subject_user(event.subject)
        if user_id is not None:
            self._root.partition(user_id).append("audit", data)
            return
        path = self._root.audit_file(event.subject)
        doc = read_json(path, default={"subject": event.subject, "events": []})
        doc["events"].append(data)
        self._root.write_json(path, doc)

    def for_subject(self, subject: str) -> list[AuditEvent]:
        """Events of ``subject`` in the order they were appended."""
        user_id = _subject_user(subject)
        if user_id is not None:
            rows = self._root.partition(user_id).rows("audit")
            return [AuditEvent.model_validate(r) for r in rows if r["subject"] == subject]
        doc = read_json(self._root.audit_file(subject), default={"events": []})
        return [AuditEvent.model_validate(e) for e in doc["events"]]


def _subject_user(subject: str) -> int | None:
    """The user whose file holds ``subject``'s events, or None for other subjects."""
    match = _ACCOUNT_SUBJECT.fullmatch(subject)
    if match:
        return int(match.group(1))
    return registration_user(subject)


#: PTB's persistence entries (``storage.persistence``): a user's travel in the user's file.
PTB_PREFIX = "ptb."
#: A persistence key naming a user last: "<user>", "<chat>,<user>" (``encode_key``).
_USER_LAST = re.compile(r"(?:-?[0-9]+,)*([1-9][0-9]*)")


def entry_user(namespace: str, key: str) -> int | None:
    """The user whose file holds this key-value entry (a PTB persistence entry keyed by a
    user last), or None for an entry with a file of its own under ``kv/``."""
    if not namespace.startswith(PTB_PREFIX):
        return None
    match = _USER_LAST.fullmatch(key)
    return None if match is None else int(match.group(1))


class TinyDBKeyValueStore:
    """namespace -> folder, key -> one JSON file named by the key's sha256; except a user's
    PTB persistence entries (``user_data``, conversation states): those are documents of
    table ``ptb`` in the user's file, written with the update's other changes of it (one
    replace), found at start-up by the markers ``index/ptb/<user id>``."""

    def __init__(self, root: _Root) -> None:
        self._root = root
        self._marked: set[int] = set()
        #: Every user's entries by namespace, read once for the loads at start-up; dropped
        #: at any change of one.
        self._users: dict[str, dict[str, Any]] | None = None

    def _path(self, namespace: str, key: str) -> Path:
        # Hashing keeps any key ("../x", "a/b", 300 characters) inside its folder.
        return self._root.kv_dir(namespace) / f"{_sha(key)}.json"

    def get(self, namespace: str, key: str) -> Any | None:
        """The value stored under ``key``, or None."""
        user_id = entry_user(namespace, key)
        if user_id is not None:
            doc = _entry(self._root.partition(user_id).rows("ptb"), namespace, key)
            return None if doc is None else doc["value"]
        doc = read_json(self._path(namespace, key), default=None)
        return None if doc is None or doc["key"] != key else doc["value"]

    def get_many(self, entries: Collection[tuple[str, str]]) -> dict[tuple[str, str], Any]:
        """The values stored under each (namespace, key), the missing ones left out (a
        user's entries are in one file, already in memory)."""
        found = {entry: self.get(*entry) for entry in entries}
        return {entry: value for entry, value in found.items() if value is not None}

    def put(self, namespace: str, key: str, value: Any) -> None:
        """Store ``value`` (JSON-serialisable) under ``key``."""
        user_id = entry_user(namespace, key)
        if user_id is not None:
            self._mark(user_id)
            entry = {"namespace": namespace, "key": key, "value": value}
            self._root.partition(user_id).set_entry("ptb", entry, ("namespace", "key"))
            self._users = None
            return
        self._root.write_json(self._path(namespace, key), {"key": key, "value": value})

    def delete(self, namespace: str, key: str) -> None:
        """Remove ``key`` (no-op when missing)."""
        user_id = entry_user(namespace, key)
        if user_id is not None:
            entry = {"namespace": namespace, "key": key}
            self._root.partition(user_id).set_entry("ptb", entry, ("namespace", "key"), drop=True)
            self._users = None
            return
        self._root.remove(self._path(namespace, key))

    def items(self, namespace: str) -> Mapping[str, Any]:
        """Every (key, value) of ``namespace``: reads that namespace's folder, and for PTB's
        entries the files of the users who have some."""
        result: dict[str, Any] = dict(self._folder_items(namespace))
        if namespace.startswith(PTB_PREFIX):
            if self._users is None:
                self._users = self._user_entries()
            result.update(self._users.get(namespace, {}))
        return result

    def _folder_items(self, namespace: str) -> Iterator[tuple[str, Any]]:
        directory = self._root.kv_dir(namespace)
        try:
            names = sorted(p.name for p in directory.iterdir())
        except FileNotFoundError:
            return
        for name in names:
            if name.endswith(".json") and not is_temp(name):
                doc = read_json(directory / name, default=None)
                if doc is not None:
                    yield doc["key"], doc["value"]

    def _user_entries(self) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for name in _names(self._root.ptb_dir()):
            if name.isdigit():
                for doc in self._root.partition(int(name)).rows("ptb"):
                    found.setdefault(doc["namespace"], {})[doc["key"]] = doc["value"]
        return found

    def _mark(self, user_id: int) -> None:
        """The user's marker, before their file holds an entry (an extra one is harmless)."""
        if user_id not in self._marked:
            # Not after what is held: the marker only has to come before the entry.
            _touch(self._root.ptb_dir(), str(user_id))
            self._marked.add(user_id)

    def move_entries_into_user_files(self) -> int:
        """Move the PTB entries a folder of an earlier version holds (``kv/ptb.*/``) into
        their users' files, once at start-up; how many. A crash halfway repeats the copy of
        the entries not yet removed, with the same values."""
        moved = 0
        kv = self._root.data_dir / "kv"
        for folder in _names(kv):
            if not folder.startswith(PTB_PREFIX):
                continue
            directory = kv / folder
            for name in _names(directory):
                doc = read_json(directory / name, default=None) if name.endswith(".json") else None
                if doc is None or is_temp(name):
                    continue
                key, value = str(doc["key"]), doc["value"]
                if entry_user(folder, key) is not None:
                    self.put(folder, key, value)
                    remove_durable(directory / name)
                    moved += 1
        return moved


def _entry(docs: Sequence[dict[str, Any]], namespace: str, key: str) -> dict[str, Any] | None:
    return next((d for d in docs if d["namespace"] == namespace and d["key"] == key), None)


def _names(directory: Path) -> list[str]:
    try:
        return sorted(p.name for p in directory.iterdir())
    except FileNotFoundError:
        return []


class _OrderedFiles:
    """The document store, removing documents only after the held changes are written
    (a registration on disk may still name a document its held change no longer needs)."""

    def __init__(self, inner: FileStore, root: _Root) -> None:
        self._inner = inner
        self._root = root

    def put(self, data: bytes, extension: str, owner: int) -> tuple[str, str]:
        """Store ``data`` (before any change that names it: no need to write held ones)."""
        return self._inner.put(data, extension, owner)

    def read(self, relative: str) -> bytes:
        """The stored bytes."""
        return self._inner.read(relative)

    def sweep(self, owner: int, keep: Collection[str]) -> int:
        """Write what is held, then delete the user's documents not in ``keep``."""
        self._root.before_write()
        return self._inner.sweep(owner, keep)


class TinyDBStorage:
    """The application's storage on a data folder; open with ``TinyDBStorage.open``."""

    def __init__(self, data_dir: Path, lock: DataDirLock) -> None:
        """Use ``open``: it takes the lock and prepares the folder first."""
        self.data_dir = data_dir
        self._lock = lock
        self._root = _Root(data_dir)
        self.accounts: AccountRepository = TinyDBAccounts(self._root)
        self._registrations = TinyDBRegistrations(self._root)
        self.registrations: RegistrationRepository = self._registrations
        self.unique: UniqueIndex = TinyDBUniqueIndex(self._root)
        self.audit: AuditLog = TinyDBAuditLog(self._root)
        self._kv = TinyDBKeyValueStore(self._root)
        self.kv: KeyValueStore = self._kv
        self.files: DocumentStore = _OrderedFiles(FileStore(data_dir), self._root)
        self.inbox: Inbox | None = None
        self.processes: Processes | None = None
        #: Inside a unit of work a user's file is written at the barrier (module docstring).
        self.commits_in_groups = True

    def begin(self, user_id: int | None = None) -> None:
        """Start a unit of work in the current task: its changes of user files are held
        until the barrier, each file written once."""
        self._root.check()
        _UNIT.set(_Unit(self._root))

    def without_waiting(self) -> None:
        """Nothing to wait for: no other process shares this storage."""

    def end(self) -> None:
        """End the current task's unit of work: its later changes are written at once
        (what is still held waits for the next barrier)."""
        unit = self._root.unit()
        if unit is not None:
            unit.ended = True
        _UNIT.set(None)

    def barrier(self) -> None:
        """Write every held user file; ``CommitFailed`` when this task's unit of work lost
        a change (a held file could not be written, now or before), once: what it does
        next (telling the user so) is a change of its own."""
        try:
            self._root.flush()
        finally:
            unit = self._root.unit()
            failed = unit is not None and unit.failed
            if unit is not None:
                unit.failed = False
        if failed:
            raise CommitFailed("a change of this update could not be written")

    async def committed(self) -> None:
        """``barrier``: the writes are the disk's; nothing else to wait for."""
        self.barrier()

    @classmethod
    def open(cls, data_dir: Path) -> TinyDBStorage:
        """Lock ``data_dir`` (creating it), clean crash leftovers and settle the counter."""
        data_dir = Path(data_dir)
        _check_writable(data_dir)
        lock = DataDirLock(data_dir)
        try:
            # A walk of the whole tree, once per start: temp files exist only after a crash.
            clean_temp(data_dir)
            for sub in ("users", "index/status", "unique", "audit", "kv"):
                make_dirs(data_dir / sub)
            store = cls(data_dir, lock)
            store._kv.move_entries_into_user_files()
            store.registrations.count()
            store._registrations.number_all()
        except BaseException:
            lock.close()
            raise
        return store

    def close(self) -> None:
        """Write what is held, release the folder; further use raises ``StorageClosed``
        (idempotent)."""
        if not self._root.closed:
            try:
                self._root.flush()
            except HeldWriteFailed:
                log.exception("closing %s: held changes could not be written", self.data_dir)
        self._root.closed = True
        self._lock.close()

    def __enter__(self) -> TinyDBStorage:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _check_writable(data_dir: Path) -> None:
    """Create ``data_dir`` and prove a file can be written there, or explain why not."""
    try:
        make_dirs(data_dir)
        fd, probe = tempfile.mkstemp(dir=data_dir, prefix=".probe.", suffix=".tmp")
        os.close(fd)
        with contextlib.suppress(FileNotFoundError):
            Path(probe).unlink()
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise DataDirNotWritable(
            f"data directory {data_dir} is not writable ({reason}); "
            "fix its permissions or set DATA_DIR to a writable folder"
        ) from exc
