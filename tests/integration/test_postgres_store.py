"""What only the PostgreSQL store can do or must prove: numbered migrations on an empty and
on an older database, one transaction per change, exclusive claims across connections,
one process per database, and clear errors."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from test_storage_contract import T0, fill, postgres_connection, reg

from bot.rules import numbers
from bot.rules.models import Account, AuditEvent, Role, Status
from storage.postgres import DatabaseInUse, DatabaseUnavailable, PostgresStorage
from storage.postgres.migrations import LATEST, MIGRATIONS, SchemaTooNew, migrate
from storage.tinydb_store import StorageClosed

#: The migration that gave registrations their public numbers.
NUMBERS = 4


@pytest.fixture
def pg(pg_url: str) -> Iterator[PostgresStorage]:
    s = PostgresStorage.open(pg_url)
    yield s
    s.close()


def versions(url: str) -> list[int]:
    with postgres_connection(url) as conn:
        return [row[0] for row in conn.execute("SELECT version FROM schema_version ORDER BY 1")]


def test_an_empty_database_gets_every_migration_recorded(pg_url: str) -> None:
    PostgresStorage.open(pg_url).close()
    assert versions(pg_url) == [m.version for m in MIGRATIONS]
    assert [m.version for m in MIGRATIONS] == list(range(1, LATEST + 1))  # numbered, no gaps
    PostgresStorage.open(pg_url).close()  # opening again applies nothing twice
    assert versions(pg_url) == list(range(1, LATEST + 1))


@pytest.mark.parametrize("previous", range(1, LATEST + 1))
def test_a_database_at_an_older_version_is_brought_up_to_date_keeping_its_data(
    pg_url: str, previous: int
) -> None:
    with postgres_connection(pg_url) as conn:
        assert migrate(conn, MIGRATIONS[:previous]) == list(range(1, previous + 1))
        # Rows as the first schema stores them (every later migration must keep them); from
        # the numbers' migration on, with the registration's number.
        old = reg(10, status=Status.SUBMITTED)
        if previous < NUMBERS:
            conn.execute(
                "INSERT INTO registrations VALUES (%s, %s, %s, %s, %s, false, %s::json)",
                (old.id, 10, "submitted", T0, T0, old.model_dump_json(exclude={"number"})),
            )
        else:
            conn.execute(
                "INSERT INTO registrations (id, user_id, status, created_at, updated_at, "
                "pending, number, doc) VALUES (%s, %s, %s, %s, %s, false, %s, %s::json)",
                (old.id, 10, "submitted", T0, T0, old.number, old.model_dump_json()),
            )
        conn.execute(
            "INSERT INTO accounts VALUES (10, %s::json)",
            (Account(user_id=10, created_at=T0, updated_at=T0).model_dump_json(),),
        )
    with PostgresStorage.open(pg_url) as s:
        got = s.registrations.get(old.id)
        assert got is not None
        if previous < NUMBERS:  # given one by the migration
            assert numbers.is_number(got.number) and s.registrations.by_number(got.number) == got
            old.number = got.number
        assert got == old
        assert [r.id for r in s.registrations.with_status(Status.SUBMITTED)] == [old.id]
        assert s.accounts.get(10) is not None
    assert versions(pg_url) == list(range(1, LATEST + 1))


def test_the_numbers_migration_gives_every_stored_registration_its_own(pg_url: str) -> None:
    with postgres_connection(pg_url) as conn:
        migrate(conn, MIGRATIONS[: NUMBERS - 1])
        for user_id in range(1, 41):
            old = reg(user_id, status=Status.SUBMITTED)
            conn.execute(
                "INSERT INTO registrations VALUES (%s, %s, %s, %s, %s, false, %s::json)",
                (old.id, user_id, "submitted", T0, T0, old.model_dump_json(exclude={"number"})),
            )
    with PostgresStorage.open(pg_url) as s:
        given = {r.id: r.number for r in s.registrations.all()}
        assert len(given) == 40 and len(set(given.values())) == 40
        assert all(numbers.is_number(n) for n in given.values())
        for rid, number in given.items():
            found = s.registrations.by_number(number)
            assert found is not None and found.id == rid
        # Kept by later saves; a new registration draws its own.
        s.registrations.save(reg(1, status=Status.IN_REVIEW, number=""))
        assert s.registrations.by_number(given["1-isv"]) == reg(
            1, status=Status.IN_REVIEW, number=given["1-isv"]
        )
        fresh = reg(41, number="")
        s.registrations.save(fresh)
        assert fresh.number not in given.values() and numbers.is_number(fresh.number)


def test_a_database_from_a_newer_bot_is_refused(pg_url: str) -> None:
    PostgresStorage.open(pg_url).close()
    with postgres_connection(pg_url) as conn:
        conn.execute("INSERT INTO schema_version (version, name) VALUES (%s, 'future')", (999,))
    with pytest.raises(SchemaTooNew, match="version 999, newer than this bot knows"):
        PostgresStorage.open(pg_url)


def test_processes_starting_together_apply_each_migration_once(pg_url: str) -> None:
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def open_close() -> None:
        try:
            start.wait()
            PostgresStorage.open(pg_url, exclusive=False).close()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=open_close) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert versions(pg_url) == list(range(1, LATEST + 1))


def fail_every_audit_insert(url: str) -> None:
    """A server-side failure in the middle of a save: the audit row is refused."""
    with postgres_connection(url) as conn:
        conn.execute(
            "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS "
            "$$BEGIN RAISE EXCEPTION 'disk full (simulated)'; END$$"
        )
        conn.execute(
            "CREATE TRIGGER refuse BEFORE INSERT ON audit FOR EACH ROW EXECUTE FUNCTION refuse()"
        )


def test_a_change_and_its_audit_events_commit_together_or_not_at_all(
    pg: PostgresStorage, pg_url: str
) -> None:
    pg.accounts.save(Account(user_id=8, created_at=T0))
    draft = reg(8)
    pg.registrations.save(draft)
    fail_every_audit_insert(pg_url)
    bound = AuditEvent(subject="account:8", action="phone_bound", actor=8, at=T0)
    with pytest.raises(psycopg.Error, match="simulated"):
        pg.accounts.save(Account(user_id=8, phone="13800138000", created_at=T0), [bound])
    submitted = reg(8, status=Status.SUBMITTED)
    submit = AuditEvent(subject=draft.id, action="submitted", actor=8, at=T0)
    with pytest.raises(psycopg.Error, match="simulated"):
        pg.registrations.save(submitted, [submit])
    # Neither the change without its event, nor the event without the change.
    account = pg.accounts.get(8)
    assert account is not None and account.phone is None
    assert pg.registrations.get(draft.id) == draft
    assert pg.registrations.with_status(Status.SUBMITTED) == []
    assert pg.audit.for_subject("account:8") == pg.audit.for_subject(draft.id) == []
    # The connection that failed is usable again.
    pg.registrations.save(reg(9))
    assert pg.registrations.count() == 2


def test_one_claim_wins_when_processes_race_for_a_value(pg_url: str) -> None:
    stores = [PostgresStorage.open(pg_url, exclusive=False) for _ in range(4)]
    results: dict[str, list[str]] = {}
    lock = threading.Lock()
    start = threading.Barrier(len(stores))

    def claim_all(i: int, s: PostgresStorage) -> None:
        start.wait()
        for n in range(30):
            if s.unique.claim("email", f"dev{n}@example.com", f"{i}-isv"):
                with lock:
                    results.setdefault(f"dev{n}", []).append(f"{i}-isv")

    threads = [threading.Thread(target=claim_all, args=(i, s)) for i, s in enumerate(stores)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(results) == sorted(f"dev{n}" for n in range(30))
        for n in range(30):
            (winner,) = results[f"dev{n}"]  # exactly one
            assert stores[0].unique.owner("email", f"DEV{n}@example.com") == winner
    finally:
        for s in stores:
            s.close()


def test_data_survives_close_and_open(pg_url: str) -> None:
    with PostgresStorage.open(pg_url) as s:
        fill(s)
    with PostgresStorage.open(pg_url) as s:
        assert s.accounts.get(10) == Account(user_id=10, created_at=T0, updated_at=T0)
        assert s.registrations.get("10-isv") == reg(10, status=Status.SUBMITTED)
        assert [r.id for r in s.registrations.with_status("approved")] == ["11-partner"]
        assert s.registrations.count() == 2
        assert s.unique.owner("email", "A@B.CN") == "10-isv"
        assert [e.action for e in s.audit.for_subject("10-isv")] == ["submit"]
        assert s.kv.items("ptb.conv.onboarding") == {"10,10": 3}


def test_a_second_process_on_the_same_database_is_refused(pg: PostgresStorage, pg_url: str) -> None:
    with pytest.raises(DatabaseInUse, match="another bot process"):
        PostgresStorage.open(pg_url)
    pg.close()
    PostgresStorage.open(pg_url).close()  # released on close


def test_a_closed_database_can_be_opened_again_at_once(pg_url: str) -> None:
    """A restart reopens the database right after closing it: the lock is free by then
    (not only once the server has noticed the closed connection)."""
    for _ in range(30):
        PostgresStorage.open(pg_url).close()


def test_closed_storage_refuses_use(pg_url: str) -> None:
    s = PostgresStorage.open(pg_url)
    s.close()
    s.close()
    with pytest.raises(StorageClosed):
        s.registrations.save(reg(1))


def test_full_scans_cross_batches_in_id_order(pg: PostgresStorage) -> None:
    from storage.postgres import store

    ids = []
    for user in range(1, store.SCAN_BATCH + 30):
        r = reg(user, Role.MERCHANT if user % 2 else Role.ISV, status=Status.APPROVED)
        pg.registrations.save(r)
        ids.append(r.id)
    assert [r.id for r in pg.registrations.all()] == sorted(ids)
    assert len(pg.registrations.with_status(Status.APPROVED)) == len(ids)


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://bot:s3cret-pw@127.0.0.1:1/onboarding",
        "host=/nonexistent-socket-dir dbname=x user=bot password=s3cret-pw",
    ],
)
def test_an_unreachable_database_is_one_clear_error_without_the_password(url: str) -> None:
    with pytest.raises(DatabaseUnavailable) as info:
        PostgresStorage.open(url)
    message = str(info.value)
    assert message.startswith("cannot connect to the database")
    assert "s3cret-pw" not in message and "\n" not in message


def console(tmp_path: Path, url: str, typed: str, *args: str) -> subprocess.CompletedProcess[str]:
    """``python -m bot console ARGS`` on ``DATABASE_URL=url``, typing ``typed``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TELEGRAM_")}
    return subprocess.run(
        [sys.executable, "-m", "bot", "console", *args],
        input=typed,
        env=env | {"DATA_DIR": str(tmp_path / "data"), "DATABASE_URL": url},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_bot_runs_on_the_database_named_by_database_url(pg_url: str, tmp_path: Path) -> None:
    done = console(tmp_path, pg_url, "/start\n/language\n2\n/quit\n", "--user", "77")
    assert done.returncode == 0, done.stderr
    assert "Language set to English" in done.stdout
    with PostgresStorage.open(pg_url) as s:
        account = s.accounts.get(77)
        assert account is not None and account.locale == "en"
    assert not (tmp_path / "data" / "users").exists()  # nothing went to TinyDB


def test_an_unreachable_database_url_stops_start_up_with_one_line(tmp_path: Path) -> None:
    done = console(tmp_path, "postgresql://bot:s3cret-pw@127.0.0.1:1/onboarding", "/quit\n")
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: DATABASE_URL: cannot connect"), lines
    assert "s3cret-pw" not in done.stderr + done.stdout


def test_the_inbox_hands_out_each_update_once_in_order(pg: PostgresStorage) -> None:
    inbox = pg.inbox
    assert inbox is not None
    assert inbox.add(12, {"update_id": 12, "message": {"text": "二"}})
    assert inbox.add(11, {"update_id": 11})
    assert not inbox.add(12, {"update_id": 12})  # Telegram handing it over again
    assert [u["update_id"] for u in inbox.waiting()] == [11, 12]
    inbox.done(11)
    assert inbox.waiting() == [{"update_id": 12, "message": {"text": "二"}}]
    assert not inbox.add(11, {"update_id": 11})  # handled: not handed out again


def test_bot_processes_share_the_database_and_the_console_waits_for_them(pg_url: str) -> None:
    a = PostgresStorage.open(pg_url, shared=True)
    b = PostgresStorage.open(pg_url, shared=True)  # a second bot process is welcome
    with pytest.raises(DatabaseInUse, match="another bot process"):
        PostgresStorage.open(pg_url)  # the console, migrate: not while bots run
    a.close()
    b.close()
    with PostgresStorage.open(pg_url), pytest.raises(DatabaseInUse, match="console or a copy"):
        PostgresStorage.open(pg_url, shared=True)


def ids(updates: list[dict[str, Any]]) -> list[int]:
    return sorted(int(u["update_id"]) for u in updates)


def test_each_user_is_claimed_by_one_process_in_order_and_a_dead_one_lets_go(
    pg_url: str,
) -> None:
    a = PostgresStorage.open(pg_url, shared=True)
    b = PostgresStorage.open(pg_url, shared=True)
    assert a.inbox is not None and a.processes is not None and b.processes is not None
    for update_id, sender in ((1, 70), (2, 70), (3, 80), (4, 0)):
        a.inbox.add(update_id, {"update_id": update_id}, sender)
    assert ids(a.processes.claim(10)) == [1, 3, 4]  # each sender's oldest
    assert b.processes.claim(10) == []  # every sender is held by a
    a.inbox.done(1)
    assert a.processes.next_for(70) == {"update_id": 2}  # 70's next, only after 1
    a.processes.release(70)
    assert ids(b.processes.claim(10)) == [2]  # released: b continues 70 where a stopped
    a.inbox.done(3)
    a.processes.release(80)
    b.close()  # dies holding 70: the server lets go of its claims with its connection
    deadline = time.monotonic() + 10
    while not (claimed := a.processes.claim(10)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert ids(claimed) == [2]
    a.close()


def test_one_process_at_a_time_polls_and_one_runs_the_jobs(pg_url: str) -> None:
    a = PostgresStorage.open(pg_url, shared=True)
    b = PostgresStorage.open(pg_url, shared=True)
    assert a.processes is not None and b.processes is not None
    assert a.processes.receiving() and a.processes.receiving()
    assert not b.processes.receiving()
    assert b.processes.leading() and not a.processes.leading()
    a.close()
    deadline = time.monotonic() + 10
    while not b.processes.receiving() and time.monotonic() < deadline:
        time.sleep(0.05)  # the server ends a's session once it reads the connection's end
    assert b.processes.receiving()  # the receiver is gone: b takes over
    b.close()
