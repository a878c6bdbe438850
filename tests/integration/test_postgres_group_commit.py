"""Group commit on PostgreSQL: the units of work (updates) in flight share one commit, a
commit that fails fails every unit whose changes it held and keeps none of them, and the
work after it goes on."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Coroutine, Iterator
from typing import Any

import pytest
from conftest import held_elsewhere
from test_storage_contract import T0, postgres_connection, reg

from bot.rules.models import Account, Status
from bot.services.registrations import RegistrationService
from storage.postgres import PostgresStorage
from storage.protocols import CommitFailed, HeldElsewhere


@pytest.fixture
def pg(pg_url: str) -> Iterator[PostgresStorage]:
    s = PostgresStorage.open(pg_url)
    yield s
    s.close()


def transactions_so_far(url: str) -> int:
    """The server's transaction counter: every committed change takes one number (reads
    take none), and so does this look."""
    with postgres_connection(url) as conn:
        row = conn.execute("SELECT txid_current()").fetchone()
    assert row is not None
    return int(row[0])


def stored(url: str, key: str) -> bool:
    """Whether ``key`` is committed (seen from another connection)."""
    with postgres_connection(url) as conn:
        row = conn.execute("SELECT 1 FROM kv WHERE namespace = 't' AND key = %s", (key,))
        return row.fetchone() is not None


async def unit(store: PostgresStorage, key: str) -> None:
    """One update's worth of work: read, change, then wait for the commit before telling
    anyone (as the bot does before each Bot API request)."""
    store.begin()
    store.kv.get("t", key)
    store.kv.put("t", key, {"key": key})
    await asyncio.sleep(0)  # other updates run in between, as they do in the bot
    store.kv.put("t", key + "-2", {"key": key})
    await store.committed()


async def runs_after_commit(
    other: Coroutine[Any, Any, None], holder: PostgresStorage, seen: list[Any]
) -> None:
    """Run ``other`` as another process would (its own thread and event loop) while
    ``holder``'s open transaction holds a user: it sees nothing (``seen`` stays empty) until
    ``holder`` commits, then finishes."""
    waiting = threading.Thread(target=asyncio.run, args=(other,))
    waiting.start()
    await asyncio.sleep(0.3)
    assert not seen, "read while another process held the user"
    await holder.committed()
    waiting.join(10)
    assert not waiting.is_alive()


async def test_updates_in_flight_share_one_commit(pg: PostgresStorage, pg_url: str) -> None:
    before = transactions_so_far(pg_url)
    await asyncio.gather(*(unit(pg, f"u{i}") for i in range(20)))
    after = transactions_so_far(pg_url)
    # 40 changes of 20 updates, committed together (one by one they took 20 or 40).
    assert after - before - 1 <= 2
    assert all(stored(pg_url, f"u{i}") and stored(pg_url, f"u{i}-2") for i in range(20))


async def test_a_failed_group_commit_fails_every_update_in_it_and_keeps_none(
    pg: PostgresStorage, pg_url: str
) -> None:
    with postgres_connection(pg_url) as conn:
        # Refused only at COMMIT (a deferred constraint trigger), like a server that fails
        # to flush: every statement before it succeeded.
        conn.execute(
            "CREATE FUNCTION refuse_at_commit() RETURNS trigger LANGUAGE plpgsql AS "
            "$$BEGIN IF NEW.key = 'poison' THEN RAISE EXCEPTION 'commit refused (simulated)';"
            " END IF; RETURN NULL; END$$"
        )
        conn.execute(
            "CREATE CONSTRAINT TRIGGER refuse AFTER INSERT ON kv DEFERRABLE INITIALLY "
            "DEFERRED FOR EACH ROW EXECUTE FUNCTION refuse_at_commit()"
        )
    results = await asyncio.gather(
        *(unit(pg, key) for key in ("a", "poison", "c")), return_exceptions=True
    )
    assert [type(r) for r in results] == [CommitFailed] * 3, results
    assert not any(stored(pg_url, key) for key in ("a", "a-2", "poison", "c", "c-2"))
    # The next update commits as usual.
    await unit(pg, "d")
    assert stored(pg_url, "d") and stored(pg_url, "d-2")


async def test_a_user_read_once_per_transaction_sees_its_own_changes_and_the_other_process(
    pg_url: str,
) -> None:
    """A user's account and registrations are read once in a transaction, under the user's
    lock: what this process saves is seen at once, and what another process committed is
    seen by the next transaction; meanwhile the other process waits for the lock."""
    a = PostgresStorage.open(pg_url, shared=True)
    b = PostgresStorage.open(pg_url, shared=True)
    try:
        a.begin()
        a.registrations.save(reg(5))
        a.accounts.save(Account(user_id=5, phone="+8613800000000"))
        await a.committed()

        a.begin()
        draft = a.registrations.get(reg(5).id)
        assert draft is not None and draft.status is Status.DRAFT
        draft.status = Status.SUBMITTED
        a.registrations.save(draft)
        # Its own change, in the same transaction, before the commit.
        assert [r.status for r in a.registrations.for_user(5)] == [Status.SUBMITTED]
        account = a.accounts.get(5)
        assert account is not None
        account.locale = "en"
        a.accounts.save(account)
        assert (a.accounts.get(5) or account).locale == "en"

        # The other process (its own event loop) reads the user meanwhile: it waits for the
        # lock, then sees what was committed.
        seen: list[tuple[Status, str | None]] = []

        async def other() -> None:
            b.begin()
            found = b.registrations.get(reg(5).id)
            account = b.accounts.get(5)
            assert found is not None and account is not None
            seen.append((found.status, account.locale))
            found.status = Status.APPROVED
            b.registrations.save(found)
            await b.committed()

        await runs_after_commit(other(), a, seen)
        assert seen == [(Status.SUBMITTED, "en")]

        # A's next transaction reads again: the other process's change.
        a.begin()
        assert [r.status for r in a.registrations.for_user(5)] == [Status.APPROVED]
        await a.committed()
    finally:
        a.close()
        b.close()


async def test_an_update_reads_its_state_under_the_users_lock_with_their_records(
    pg_url: str,
) -> None:
    """Where processes share the database, the first read of a user's update (their
    conversation state) takes the user's lock and reads their records with it: it waits
    while another process holds the user, then sees that process's commit, and the records
    need no read of their own afterwards."""
    a = PostgresStorage.open(pg_url, shared=True)
    b = PostgresStorage.open(pg_url, shared=True)
    try:
        a.begin(6)
        a.registrations.save(reg(6))
        a.kv.put("ptb.user_data", "6", {"step": "name"})
        await a.committed()

        a.begin(6)
        draft = a.registrations.get(reg(6).id)
        assert draft is not None
        draft.status = Status.SUBMITTED
        a.registrations.save(draft)
        a.kv.put("ptb.user_data", "6", {"step": "done"})

        seen: list[tuple[object, Status]] = []

        async def other() -> None:
            b.begin(6)
            state = b.kv.get_many([("ptb.user_data", "6")])
            group = b._db.group
            assert group is not None and 6 in group.users, "the records were not read with it"
            found = b.registrations.get(reg(6).id)
            assert found is not None
            seen.append((state[("ptb.user_data", "6")], found.status))
            await b.committed()

        await runs_after_commit(other(), a, seen)
        assert seen == [({"step": "done"}, Status.SUBMITTED)]
    finally:
        a.close()
        b.close()


async def test_a_job_never_waits_for_a_user_another_process_holds(pg_url: str) -> None:
    """The outbox job takes many users in turn. Holding one (44) while waiting for another
    (47) that a second process holds, and that process then waiting for 44, is a deadlock:
    the server ends it by failing one side's batch, and every update sharing that commit
    with it. A job that does not wait reads 47 as last committed and may not change it,
    while what it holds commits and lets the other process go on."""
    a = PostgresStorage.open(pg_url, shared=True)
    b = PostgresStorage.open(pg_url, shared=True)
    try:
        a.begin()
        a.registrations.save(reg(44))
        a.registrations.save(reg(47))
        await a.committed()
        a.end()

        a.without_waiting()  # the job leader's outbox run
        mine = a.registrations.get(reg(44).id)
        assert mine is not None

        b_holds_47, b_done = threading.Event(), threading.Event()
        failures: list[BaseException] = []

        async def other() -> None:  # the other process: updates of 47, then of 44
            try:
                b.begin(47)
                theirs = b.registrations.get(reg(47).id)
                assert theirs is not None
                b_holds_47.set()
                theirs.answers["company_name"] = "B's change"
                b.registrations.save(theirs)
                b.begin(44)
                forty_four = b.registrations.get(reg(44).id)  # waits for the job's commit
                assert forty_four is not None and forty_four.answers.get("company_name")
                forty_four.answers["contact_name"] = "B's too"
                b.registrations.save(forty_four)
                await b.committed()
            except BaseException as error:
                failures.append(error)
            finally:
                b_done.set()

        waiting = threading.Thread(target=asyncio.run, args=(other(),))
        waiting.start()
        assert await asyncio.to_thread(b_holds_47.wait, 10)
        await asyncio.sleep(0.2)  # the other process now waits for 44

        started = time.monotonic()
        held = a.registrations.get(reg(47).id)  # no wait: what was last committed
        assert time.monotonic() - started < 0.5
        assert held is not None and "company_name" not in held.answers
        held.answers["company_name"] = "the job's change"
        with pytest.raises(HeldElsewhere):
            a.registrations.save(held)  # may be older than what B is about to commit
        mine.answers["company_name"] = "the job's change"
        a.registrations.save(mine)  # 44 is the job's own: written
        await a.committed()

        assert await asyncio.to_thread(b_done.wait, 10)
        waiting.join(10)
        assert failures == []
        a.begin()
        final_44, final_47 = (a.registrations.get(reg(n).id) for n in (44, 47))
        assert final_44 is not None and final_47 is not None
        assert final_44.answers == {"company_name": "the job's change", "contact_name": "B's too"}
        assert final_47.answers == {"company_name": "B's change"}
        await a.committed()
    finally:
        a.close()
        b.close()


async def test_a_reminder_is_not_marked_while_another_process_holds_the_applicant(
    pg_url: str,
) -> None:
    """The hourly reminder job marks a reminder it sent; while another process handles
    the applicant's update it does not wait for them: the mark is left (logged), the job
    goes on, and the next run marks it."""
    store = PostgresStorage.open(pg_url, shared=True)
    try:
        registrations = RegistrationService(store, lambda: T0)
        store.begin()
        store.registrations.save(reg(70))
        await store.committed()
        store.end()
        store.without_waiting()  # as the job runs
        async with held_elsewhere(pg_url, 70):
            registrations.mark_reminded(reg(70).id)
            await store.committed()
        assert (store.registrations.get(reg(70).id) or reg(70)).reminded_at is None
        registrations.mark_reminded(reg(70).id)
        await store.committed()
        assert (store.registrations.get(reg(70).id) or reg(70)).reminded_at == T0
    finally:
        store.close()
