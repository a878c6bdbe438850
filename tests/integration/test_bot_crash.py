"""kill -9 of the real bot process at random moments, while applicants and reviewers work.

``python -m bot run`` polls the fake Bot API over HTTP (``bot.offline.http_server``) on
127.0.0.1; the test queues people's updates there and reads the bot's replies from the
server's record. Twelve applicants join two by two and walk the whole journey; reviewers
approve half of the registrations once their card is in the group. The bot is killed with
SIGKILL ``KILLS`` times (every ``STARTUP_KILL_EVERY``-th at a random moment of start-up, the
others while people work) and restarted each time; a last run ends with SIGTERM.

While the bot is down the storage is opened with ``TinyDBStorage`` and must hold every
acknowledged answer (an answer is acknowledged once the bot has sent the prompt after it)
with its value, and nothing an applicant did not give for that field. After each restart
every applicant sends /apply and must be asked exactly the first step not yet stored. At the
end each notification (card, documents, approval) reached Telegram exactly once, and the
outbox holds nothing unsent.

Delivery is at-least-once on both sides, as with Telegram, and the test measures where that
shows instead of failing on it: an update is confirmed only by the next getUpdates, so one the
dead bot handled but had not confirmed reaches the next bot again (an answer stored before is
then not taken again: the bot shows the step the applicant is at); a notification Telegram
accepted but the outbox had not yet recorded as sent (seen while the bot is down) is sent
again. Each such case is allowed exactly its one extra effect and is printed.

With two processes on PostgreSQL (``postgres-2``) each kill takes one of them, at random,
while both work (every ``STARTUP_KILL_EVERY``-th the one starting up): the other goes on,
takes over what the dead one held, and the storage is checked once it has fallen quiet;
then the dead one is started again and takes part.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import statistics
import time
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any

import psycopg
import pytest
from bot_crash_kit import (
    ADMIN_CHAT,
    KEYS,
    RANK,
    REVIEWERS,
    ROLE,
    STORED,
    STORED_RANK,
    TOKEN,
    Approval,
    BotProcess,
    Sent,
    Walker,
    Witness,
    answers,
    bot_env,
    buttons,
    stored_form,
    stored_value,
    until,
)
from test_crash import every_file_parses

from bot.factory import agreement_version
from bot.offline.http_server import BotApiServer, HttpTelegram
from bot.offline.records import BotMessage
from bot.rules import form, validators
from bot.rules.models import Delivery, Status
from storage.postgres import PostgresStorage
from storage.protocols import Storage
from storage.tinydb_store import TinyDBStorage

PROBE = 8999  # sends /help: answered, it shows the new bot is handling updates
#: The bot handles different users' updates concurrently (``bot.update_order``): once it has
#: made no call for this long after the probe's answer, it has handled all it was handed.
QUIET_SECONDS = 1.0
FIRST_APPLICANT = 9001
APPLICANTS = 12
KILLS = 32
STARTUP_KILL_EVERY = 4
STARTUP_KILL_WINDOW = (0.0, 2.8)  # s after spawn; the first getUpdates comes after ~1.5 s
WORK_KILL_WINDOW = (0.05, 1.5)  # s of work after the /apply checks
#: Seconds before each action. The flood guard lets a user through 20 times in 10 s: a bot
#: that is killed lives < 5 s, the last one runs on and gets the slower pace.
THINK = (0.15, 0.45)
FINAL_THINK = (0.55, 0.65)
READY_SECONDS = 30.0
REPLY_SECONDS = 20.0
FINAL_SECONDS = 90.0


@dataclass
class Stats:
    """What the run measured, printed at the end."""

    startup_kills: int = 0
    work_kills: int = 0
    starts: list[float] = field(default_factory=list)  # s from spawn to the first getUpdates
    storage_checks: int = 0
    apply_checks: int = 0
    lost: int = 0  # in flight at a kill, confirmed by the dead bot, never answered
    #: handed to the next bot again and still not answered: not a loss of anything the bot
    #: acknowledged (the person sends it again), so reported, not failed; see RELIABILITY.md
    silent_redeliveries: list[int] = field(default_factory=list)
    answered_late: int = 0  # in flight at a kill, answered by the next bot
    twice: list[str] = field(default_factory=list)  # stored, not confirmed: handed over again
    approved_in: list[int] = field(default_factory=list)  # the cycle of each approval


class CrashRun:
    """The people, the server, the bot process and the model of what must be stored."""

    def __init__(
        self,
        server: BotApiServer,
        data_dir: Path,
        seed: int,
        database_url: str | None = None,
        processes: int = 1,
    ) -> None:
        self.server, self.api = server, server.api
        self.data_dir = data_dir
        self.seed = seed
        self.rng = random.Random(seed)
        self.kit = HttpTelegram(server)
        self.group = self.kit.group(ADMIN_CHAT, "Reviewers")
        self.reviewers = [self.kit.user(r, language_code="zh") for r in REVIEWERS]
        self.probe = self.kit.user(PROBE, language_code="en")
        self.walkers = [
            Walker(
                self.kit.user(FIRST_APPLICANT + n, language_code="en"),
                n,
                joins=n // 2,
                approve=n % 2 == 0,
                given=answers(n),
            )
            for n in range(APPLICANTS)
        ]
        self.database_url = database_url
        env = bot_env(server, data_dir) | ({"DATABASE_URL": database_url} if database_url else {})
        self.bots = [
            BotProcess(env, data_dir.parent, data_dir.parent / f"log-{n}") for n in range(processes)
        ]
        self.version = agreement_version()
        self.cycle = 0
        self.stats = Stats()
        self.problems: list[str] = []
        self.stored: dict[int, str] = {}  # applicant -> first step not stored (bot down)
        self.approved: set[str] = set()  # acknowledged or found stored
        self.reviewing: Approval | None = None
        #: Notification id -> copies Telegram had accepted while the outbox still held it
        #: pending at a kill: each such copy is sent once more.
        self.resent: dict[str, int] = {}
        #: With two processes: how many calls the server had recorded at each kill. The
        #: survivor may send again what the dead one sent and had not recorded, before the
        #: storage can be looked at; so a copy more is allowed where a kill lies between.
        self.kill_marks: list[int] = []

    def problem(self, text: str) -> None:
        """Note a broken promise (the run goes on, so all of them are reported)."""
        self.problems.append(f"cycle {self.cycle}: {text}")

    # while the bot is down ----------------------------------------------------------------

    def open_store(self) -> Storage:
        """The storage, opened as the next bot will (every TinyDB file must parse)."""
        if self.database_url:
            # Beside a surviving process (it has fallen quiet), not instead of it.
            alone = not any(bot.running for bot in self.bots)
            return PostgresStorage.open(self.database_url, exclusive=alone)
        every_file_parses(self.data_dir)
        return TinyDBStorage.open(self.data_dir)

    def check_storage(self) -> None:
        """Open the storage as the next bot will and compare it with what was promised."""
        store = self.open_store()
        try:
            for walker in self.walkers:
                self.stored[walker.n] = self._check_walker(store, walker)
            for rid in self.approved:
                registration = store.registrations.get(rid)
                if registration is None or registration.status is not Status.APPROVED:
                    self.problem(f"{rid}: approval acknowledged, not stored")
            self.approved |= {r.id for r in store.registrations.with_status(Status.APPROVED)}
            # With two processes, what a kill made the survivor send again: ``kill_marks``.
            witness = Witness.of(self.api)
            for registration in store.registrations.all() if len(self.bots) == 1 else ():
                for note in registration.outbox:
                    copies = witness.copies(note, registration)
                    if note.state is Delivery.PENDING and copies:
                        self.resent[note.id] = max(self.resent.get(note.id, 0), copies)
        finally:
            store.close()
        self.stats.storage_checks += 1

    def _check_walker(self, store: Storage, walker: Walker) -> str:
        """Check one applicant's records; return the first step not stored."""
        uid, rid = walker.person.id, walker.rid
        account = store.accounts.get(uid)
        registration = store.registrations.get(rid)
        phone = account.phone if account else None
        if "phone" in walker.acked and phone != validators.mobile(walker.person.phone_number):
            self.problem(f"{uid}: phone acknowledged, stored {phone!r}")
        agreed = account.agreement_version if account else None
        if "agreement" in walker.acked and agreed != self.version:
            self.problem(f"{uid}: agreement acknowledged, stored {agreed!r}")
        if "confirm" in walker.acked and registration is None:
            self.problem(f"{uid}: role confirmed, no registration")
        stored = registration.answers if registration else {}
        for key in KEYS:
            value = stored_value(stored, key)
            if key in walker.acked and key not in stored:
                self.problem(f"{rid}: {key} acknowledged, not stored")
            elif key in stored and value != stored_form(key, walker.given):
                # Also what a message handed over again must never cause: the answer to
                # one field stored as the next one's.
                self.problem(f"{rid}: {key} holds {value!r}, not what was given for it")
        if "summary" in walker.acked and (
            registration is None or registration.status is Status.DRAFT
        ):
            self.problem(f"{rid}: submission acknowledged, not stored")
        if phone is None:
            return "phone"
        if agreed != self.version:
            return "agreement"
        if registration is None:
            return "roles"
        if registration.status is not Status.DRAFT:
            return "submitted"
        missing = form.first_missing(stored, ROLE)
        if registration.cursor != missing:
            self.problem(f"{rid}: cursor at {registration.cursor}, first missing {missing}")
        return missing or "summary"

    # while the bot runs --------------------------------------------------------------------

    @property
    def running(self) -> bool:
        """Whether every bot process is alive."""
        return all(bot.running for bot in self.bots)

    def tail(self) -> str:
        """The end of each bot process's log."""
        return "\n".join(bot.tail() for bot in self.bots)

    async def start(self) -> list[BotProcess]:
        """Start the bot processes that are not running; which ones."""
        started = [bot for bot in self.bots if not bot.running]
        for bot in started:
            await bot.start()
        return started

    async def session(self, working: asyncio.Event, fresh: bool, final: bool = False) -> None:
        """Wait for the bot, let it handle what the crash left, check /apply, then work.
        ``fresh``: no process survived the last kill, so the first getUpdates is awaited."""
        polls = self.server.updates.polls
        pending = {int(u["update_id"]) for u in self.server.updates.pending}
        started = time.monotonic()
        if fresh:
            await until(
                lambda: self.server.updates.polls > polls or not self.running,
                READY_SECONDS,
                "the first getUpdates",
            )
        if not self.running:
            raise RuntimeError(f"the bot exited while starting:\n{self.tail()}")
        if fresh:
            self.stats.starts.append(time.monotonic() - started)
        await self.barrier()
        late = self.drain(pending)
        await self.check_apply(late)
        working.set()
        think = FINAL_THINK if final else THINK
        await asyncio.gather(
            *(self.walk(w, think) for w in self.walkers if w.joins <= self.cycle),
            self.review(final),
        )

    async def barrier(self) -> None:
        """Wait until the new bot has handled every update queued before now: the probe's
        /help is answered (after any earlier /help of the probe still pending), and then the
        bot falls quiet. Each user's updates are handled in order, but different users' at
        the same time, so the probe's answer alone does not show the others are done."""
        chat = self.probe.id
        owed = 1 + sum(1 for u in self.server.updates.pending if _chat_of(u) == chat)
        mark = len(self.api.sent)
        await self.probe.send("/help")

        def answered() -> bool:
            return sum(1 for c in self.api.sent[mark:] if c.chat_id == chat) >= owed

        await until(answered, REPLY_SECONDS, "the probe's /help")
        calls, quiet_since = len(self.api.sent), time.monotonic()

        def quiet() -> bool:
            nonlocal calls, quiet_since
            if len(self.api.sent) != calls:
                calls, quiet_since = len(self.api.sent), time.monotonic()
            return time.monotonic() - quiet_since >= QUIET_SECONDS

        await until(quiet, REPLY_SECONDS, "the bot to fall quiet")

    def drain(self, pending: set[int]) -> set[int]:
        """Settle what the killed bot left in flight; return the applicants whose update the
        new bot answered with a prompt."""
        late: set[int] = set()
        for walker in self.walkers:
            sent = walker.waiting
            if sent is None:
                continue
            stored = self.stored[walker.n]
            redelivered = sent.update_id in pending
            if redelivered and sent.stage != "apply" and RANK[stored] > RANK[sent.stage]:
                # Stored but not confirmed when the bot died: the next bot gets it again and
                # must not take it as the next step's answer (it shows the step instead).
                self.stats.twice.append(f"{sent.stage}→{stored}")
            errors = len(walker.errors)
            if not walker.settle(self.api):
                # Confirmed by the dead bot and never answered: typed again after /apply.
                walker.waiting = None
                self.stats.lost += 1
                if redelivered:
                    self.stats.silent_redeliveries.append(sent.update_id)
                continue
            self.stats.answered_late += 1
            if len(walker.errors) == errors:
                late.add(walker.n)
            elif not self._handed_out_again(sent):
                self.problem(f"{walker.rid}: the bot failed on update {sent.update_id}")
        if self.reviewing is not None and self._settle_review():
            self.stats.answered_late += 1
        self.reviewing = None
        return late

    def _handed_out_again(self, sent: Sent) -> bool:
        """Whether an update reached a bot twice: a second answer to an already answered
        button then fails in the bot (Telegram refuses it)."""
        return self.server.updates.deliveries.get(sent.update_id, 0) > 1

    async def check_apply(self, late: set[int]) -> None:
        """/apply must ask exactly the first step not stored; an update from before the
        crash, answered by this bot first, may have moved it on by one."""
        expected: dict[int, str] = {}
        for walker in self.walkers:
            if walker.joins > self.cycle:
                continue
            stage = self.stored[walker.n]
            if walker.n in late and walker.stage is not None:
                moved = STORED.get(walker.stage, walker.stage)
                if STORED_RANK[moved] - STORED_RANK[stage] not in (0, 1):
                    self.problem(f"{walker.rid}: an update from before moved {stage} → {moved}")
                stage = moved
            if stage == "submitted":
                walker.stage = "submitted"  # /apply would offer the other roles
                continue
            expected[walker.n] = stage
            await walker.apply(self.kit)
        asking = [w for w in self.walkers if w.n in expected]
        await until(lambda: all(w.settle(self.api) for w in asking), REPLY_SECONDS, "/apply")
        for walker in asking:
            self.stats.apply_checks += 1
            shown = STORED.get(walker.stage, walker.stage) if walker.stage else None
            if shown != expected[walker.n]:
                self.problem(
                    f"{walker.rid}: /apply shows {walker.stage}, "
                    f"the first step not stored is {expected[walker.n]}"
                )

    async def walk(self, walker: Walker, think: tuple[float, float]) -> None:
        """Answer step after step until submitted."""
        while not walker.done:
            await asyncio.sleep(self.rng.uniform(*think))
            await walker.act(self.kit)
            errors = len(walker.errors)
            await until(lambda: walker.settle(self.api), REPLY_SECONDS, f"reply to {walker.rid}")
            if len(walker.errors) > errors:
                self.problem(f"{walker.rid}: the bot failed on {walker.errors[-1]}")

    async def review(self, final: bool) -> None:
        """Approve the chosen registrations once their card is in the group; in the final
        session, return when all are approved."""
        turn = 0
        chosen = [w for w in self.walkers if w.approve]
        while not (final and all(w.rid in self.approved for w in chosen)):
            ready = [(w.rid, seen) for w in chosen if (seen := self._card(w)) is not None]
            if not ready:
                await asyncio.sleep(0.1)
                continue
            rid, (card, number) = ready[0]
            await asyncio.sleep(self.rng.uniform(*THINK))
            reviewer = self.reviewers[turn % len(self.reviewers)]
            turn += 1
            mark = len(self.api.sent)
            # The confirmation's second tap straight away (its round: submitted once).
            await reviewer.press_data(f"rv:apok:{number}:1", card.message_id, self.group)
            query = self.kit.last_update["callback_query"]["id"]
            self.reviewing = Approval(rid, mark, query, number)
            await until(self._settle_review, REPLY_SECONDS, f"approval of {rid}")
            self.reviewing = None

    def _card(self, walker: Walker) -> tuple[BotMessage, str] | None:
        """The card of a registration still to approve, with its Approve button, and the
        registration's public number (what its buttons name); found by its company."""
        rid = walker.rid
        if rid in self.approved or (self.reviewing and self.reviewing.rid == rid):
            return None
        company = f"{walker.given['company_name']!s}\n"
        for message in reversed(self.kit.messages(ADMIN_CHAT)):
            for button in buttons(message):
                data = str(button.get("callback_data") or "")
                if data.startswith("rv:approve:") and company in message.text:
                    return message, data.removeprefix("rv:approve:")
        return None

    def _settle_review(self) -> bool:
        """Whether the awaited approval was answered (the group is told it is approved)."""
        pending = self.reviewing
        assert pending is not None
        for call in self.api.sent[pending.mark :]:
            message = call.message
            if (
                call.method == "sendMessage"
                and message is not None
                and message.chat_id == ADMIN_CHAT
                and message.text.startswith("✅ 已通过")
                and pending.number in message.text
            ):
                self.approved.add(pending.rid)
                self.stats.approved_in.append(self.cycle)
                return True
        # Refused (decided already, by a redelivered press): an alert and nothing else.
        answer = self.api.callback_answers.get(pending.query_id)
        return bool(answer and str(answer.get("show_alert")).lower() == "true")

    # cycles --------------------------------------------------------------------------------

    async def crash_cycle(self) -> None:
        """Start the bot, kill it (or one of its processes) at a random moment, check the
        storage while it is down (or once the other process has fallen quiet)."""
        startup = self.cycle % STARTUP_KILL_EVERY == STARTUP_KILL_EVERY - 1
        working = asyncio.Event()
        started = await self.start()
        victim = self.rng.choice(started if startup else self.bots)
        session = asyncio.create_task(self.session(working, fresh=started == self.bots))
        try:
            if startup:
                await asyncio.wait({session}, timeout=self.rng.uniform(*STARTUP_KILL_WINDOW))
            else:
                waiter = asyncio.create_task(working.wait())
                await asyncio.wait({session, waiter}, return_when=asyncio.FIRST_COMPLETED)
                waiter.cancel()
                if working.is_set():
                    await asyncio.wait({session}, timeout=self.rng.uniform(*WORK_KILL_WINDOW))
        finally:
            # People stop first (nothing is awaited between their actions and the kill), so
            # the session never mistakes the kill for a crash of its own.
            session.cancel()
            try:
                with contextlib.suppress(asyncio.CancelledError):
                    await session  # re-raises what failed in the session (a timeout, a bug)
            finally:
                await victim.kill()
        if len(self.bots) > 1:
            # The server records what the dead one had sent before it died.
            with contextlib.suppress(TimeoutError):
                await until(lambda: self.server.calls == 0, 5.0, "calls answered")
            self.kill_marks.append(len(self.api.sent))
        if startup:
            self.stats.startup_kills += 1
        else:
            self.stats.work_kills += 1
        await self.after_bot()
        self.check_storage()

    async def after_bot(self) -> None:
        """Let the server answer what the dead bot had fully sent (Telegram would), or the
        surviving process take over what the dead one held; then take every answer that
        came."""
        if any(bot.running for bot in self.bots):
            await self.barrier()
        else:
            await asyncio.sleep(0.05)
            assert await self.server.idle(5.0), "the server is still answering a dead bot"
        for walker in self.walkers:
            walker.settle(self.api)
        if self.reviewing is not None and self._settle_review():
            self.reviewing = None

    async def final_session(self) -> None:
        """No more kills: everyone finishes, every notification goes out, a clean stop."""
        working = asyncio.Event()
        started = await self.start()
        session = self.session(working, fresh=started == self.bots, final=True)
        await asyncio.wait_for(session, FINAL_SECONDS)
        await until(self.all_sent, FINAL_SECONDS, "every notification")
        if len(self.bots) > 1:
            # The one started last may still be starting (then SIGTERM ends it at once).
            await until(self.all_up, READY_SECONDS, "every process up")
        for bot in self.bots:
            activity = self.activity()  # for the message, should the stop fail
            pid = bot.proc.pid if bot.proc else None
            code = await bot.stop()
            assert code == 0, f"bot {pid} exited with {code} on SIGTERM:\n{bot.tail()}\n{activity}"
        await self.after_bot()
        self.check_storage()

    def all_up(self) -> bool:
        """Whether every bot process has started: each listens for news once it has."""
        assert self.database_url
        with psycopg.connect(self.database_url, autocommit=True) as conn:
            rows = conn.execute(
                "SELECT application_name FROM pg_stat_activity "
                "WHERE datname = current_database() AND query LIKE 'LISTEN%%'"
            ).fetchall()
        listening = {str(row[0]) for row in rows}
        return all(
            bot.proc is not None and f"onboarding-bot {bot.proc.pid}" in listening
            for bot in self.bots
        )

    def activity(self) -> str:
        """What each connection to the database is doing (PostgreSQL), a line each."""
        if not self.database_url:
            return ""
        with psycopg.connect(self.database_url, autocommit=True) as conn:
            rows = conn.execute(
                "SELECT application_name, state, wait_event_type, wait_event, "
                "now() - xact_start, left(query, 120) FROM pg_stat_activity "
                "WHERE datname = current_database()"
            ).fetchall()
        return "\n".join(" | ".join(map(str, row)) for row in rows)

    def all_sent(self) -> bool:
        """Whether the record shows every card, document and approval at least once."""
        seen = Witness.of(self.api)
        # Cards and captions name a registration by its number, found on its card.
        numbers = [seen.numbers.get(str(w.given["company_name"])) for w in self.walkers]
        return all(
            number is not None
            and seen.cards[number]
            and seen.documents[number] >= 3
            and (seen.approvals[w.person.id] or not w.approve)
            for w, number in zip(self.walkers, numbers, strict=True)
        )

    def check_notifications(self) -> list[str]:
        """Every notification sent, each exactly once plus the copies a kill made it resend;
        no approval message without its notification."""
        broken: list[str] = []
        witness = Witness.of(self.api)
        bounds = [0, *self.kill_marks, len(self.api.sent)]
        between_kills = [Witness.of(self.api, self.api.sent[a:b]) for a, b in pairwise(bounds)]
        approved: set[int] = set()
        store = self.open_store()
        try:
            for registration in store.registrations.all():
                for note in registration.outbox:
                    copies = witness.copies(note, registration)
                    allowed = 1 + self.resent.get(note.id, 0)
                    if self.kill_marks:
                        # Once at most between two kills (once the dead process's requests
                        # were answered), and at least once.
                        each = [w.copies(note, registration) for w in between_kills]
                        allowed = max(1, copies) if max(each) <= 1 else 1
                        if copies > allowed:
                            broken.append(f"{note.id}: copies between kills {each}")
                        if copies > 1:
                            self.resent[note.id] = copies - 1
                    if note.state is not Delivery.SENT or copies != allowed:
                        broken.append(f"{note.id}: {note.state}, {copies} sent, {allowed} allowed")
                    if note.template == "approved":
                        approved.add(registration.user_id)
        finally:
            store.close()
        for user, copies in witness.approvals.items():
            if user not in approved:
                broken.append(f"{user}: {copies} approval messages, no approval")
        for walker in self.walkers:
            if walker.approve and walker.rid not in self.approved:
                broken.append(f"{walker.rid}: never approved")
        return broken

    def report(self, seconds: float) -> str:
        """The run's figures in a few lines."""
        s = self.stats
        starts = sorted(s.starts)
        handed = sum(n - 1 for n in self.server.updates.deliveries.values() if n > 1)
        apologies = sum(len(w.errors) for w in self.walkers)
        spawns = sum(bot.spawns for bot in self.bots)
        return (
            f"bot crash run: seed={self.seed} kills={s.startup_kills + s.work_kills} "
            f"(start-up {s.startup_kills}, work {s.work_kills}) spawns={spawns} "
            f"first getUpdates s: median {statistics.median(starts):.2f} max {starts[-1]:.2f} "
            f"total s={seconds:.1f}\n"
            f"  checks: storage {s.storage_checks}, /apply {s.apply_checks}; acknowledged "
            f"{sum(len(w.acked) for w in self.walkers)} answers; approvals in cycles "
            f"{s.approved_in}; calls {len(self.api.sent)}\n"
            f"  in flight at a kill: lost {s.lost}, answered by the next bot {s.answered_late}, "
            f"handed out again but unanswered {len(s.silent_redeliveries)}; "
            f"updates handed out again {handed}; of them stored before {s.twice}; apologies "
            f"{apologies}\n"
            f"  notifications sent again after a kill: {self.resent or 'none'}"
        )


def _chat_of(update: dict[str, Any]) -> int | None:
    body = update.get("message") or update.get("callback_query", {}).get("message") or {}
    chat = body.get("chat", {}).get("id")
    return int(chat) if chat is not None else None


@pytest.mark.slow
@pytest.mark.parametrize("storage", ["tinydb", "postgres", "postgres-2"])
async def test_kill_9_of_the_bot_process_loses_nothing(
    tmp_path: Path, storage: str, request: pytest.FixtureRequest
) -> None:
    seed = random.randrange(2**32)
    began = time.monotonic()
    # On PostgreSQL with group commit and the inbox (DATABASE_URL); "postgres-2": two bot
    # processes on it, either of which is killed.
    url = request.getfixturevalue("pg_url") if storage.startswith("postgres") else None
    processes = 2 if storage == "postgres-2" else 1
    async with BotApiServer(token=TOKEN) as server:
        run = CrashRun(server, tmp_path / "data", seed, url, processes)
        try:
            run.check_storage()  # an empty folder: everyone starts at the phone
            for cycle in range(KILLS):
                run.cycle = cycle
                await run.crash_cycle()
            run.cycle = KILLS
            await run.final_session()
        except BaseException:
            print(f"seed={seed} cycle={run.cycle}; the bot's log ends:\n{run.tail()}")
            raise
        finally:
            for bot in run.bots:
                await bot.kill()
        broken = run.check_notifications()
    print(run.report(time.monotonic() - began))
    assert not run.problems, f"seed={seed}:\n" + "\n".join(run.problems)
    assert not broken, f"seed={seed}:\n" + "\n".join(broken)
    assert all(walker.done for walker in run.walkers)
