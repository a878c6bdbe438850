"""Two real bot processes (``python -m bot run``) on one PostgreSQL database, against the
local fake Bot API over HTTP, both handling updates; either is killed with SIGKILL again and
again while people write, and restarted at once.

What must hold: every update the fake Telegram handed over is answered (the inbox stores it
before Telegram is told it arrived, and a dead process's claims end with its connection);
each person's updates are handled in the order sent (each /help answers in the language
chosen just before it) and none twice but where a kill came between the answer and the
commit marking it handled. People act at a person's pace: the flood guard (20 updates in
10 s) drops what comes faster, and an update it drops gets no answer by design.

And in webhook mode an update is in the inbox before Telegram gets its 200, and one sent
again is handled once."""

from __future__ import annotations

import asyncio
import contextlib
import random
import re
import socket
from pathlib import Path

import httpx
import psycopg
import pytest
from bot_crash_kit import TOKEN, BotProcess, bot_env, until

from bot.offline.http_server import BotApiServer, HttpTelegram
from bot.offline.people import Person
from bot.texts import Texts
from conversations import flood
from storage.postgres.processes import RECEIVER_LOCK, SENDER_LOCKS
from storage.postgres.store import holder

KILLS = 30
PEOPLE = 16
CLAIM_SECONDS = 15.0  # a dead process's users continue in the other within this
REPLY_SECONDS = 40.0
WORK = (0.2, 1.2)  # seconds of traffic between a restart and the next kill
TEXTS = Texts()
#: One round of a person's updates, sent at once without waiting: the answers show the order
#: the bot handled them in (each /help in the language chosen just before it).
ROUND = [("lang", "zh"), ("help", "zh"), ("lang", "en"), ("help", "en")]
#: Seconds from one round's start to the next: half the flood guard's limit, leaving room for
#: updates handled again after a kill (they count too).
ROUND_SECONDS = 2 * len(ROUND) * flood.WINDOW / flood.LIMIT
SLOW_DOWN = {TEXTS.plain(locale, "flood.slow_down") for locale in ("zh", "en")}
CJK = re.compile(r"[\u4e00-\u9fff]")


def kind(text: str) -> tuple[str, str]:
    """What an answer is: ("lang", locale) for "language set", else ("help", locale)."""
    for locale in ("zh", "en"):
        if text == TEXTS.plain(locale, "misc.language_set"):
            return ("lang", locale)
    # The English help names 中文 once; the Chinese one is mostly Chinese.
    return ("help", "zh" if len(CJK.findall(text)) > 10 else "en")


def collapsed(items: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Without immediate repeats (an update answered again after a kill)."""
    return [item for i, item in enumerate(items) if i == 0 or items[i - 1] != item]


def sender_lock(user_id: int) -> int:
    """The advisory lock of a user's updates (storage/postgres/processes.py)."""
    return SENDER_LOCKS + user_id


@pytest.mark.slow
async def test_two_processes_handle_updates_and_either_may_die(tmp_path: Path, pg_url: str) -> None:
    rng = random.Random(14)
    async with BotApiServer(token=TOKEN) as server:
        kit = HttpTelegram(server)
        env = bot_env(server, tmp_path / "data") | {"DATABASE_URL": pg_url}
        bots = {name: BotProcess(env, tmp_path, tmp_path / f"{name}.log") for name in "ab"}
        people = [kit.user(7000 + n, language_code="en") for n in range(PEOPLE)]
        rounds = {p.id: 0 for p in people}
        problems: list[str] = []
        stop = asyncio.Event()

        def answers(person_id: int) -> list[tuple[str, str]]:
            return [
                kind(str(c.params.get("text", "")))
                for c in server.api.sent
                if c.chat_id == person_id and c.method == "sendMessage"
            ]

        def slowed(person_id: int) -> int:
            """The flood guard's warnings to a person (none: the test's people act like
            people, so every update of theirs is handled)."""
            return sum(
                1
                for c in server.api.sent
                if c.chat_id == person_id and str(c.params.get("text", "")) in SLOW_DOWN
            )

        def stalls(person_id: int) -> int:
            return sum(1 for c in server.api.refused if c.chat_id == person_id)

        async def write(person: Person) -> None:
            loop = asyncio.get_running_loop()
            await asyncio.sleep(rng.uniform(0, ROUND_SECONDS))  # people do not act in step
            while not stop.is_set():
                began = loop.time()
                rounds[person.id] += 1
                expected = ROUND * rounds[person.id]
                for what, locale in ROUND:
                    if what == "lang":
                        await person.press_data(f"lang:{locale}", 1)
                    else:
                        await person.send("/help")
                try:
                    await until(
                        lambda e=expected: len(collapsed(answers(person.id))) >= len(e),  # type: ignore[misc]
                        REPLY_SECONDS,
                        "answers",
                    )
                except TimeoutError:
                    problems.append(f"{person.id}: round {rounds[person.id]} not answered")
                    return
                got = collapsed(answers(person.id))
                if got != expected:
                    problems.append(f"{person.id}: answered {got[-8:]}, not {expected[-8:]}")
                    return
                await asyncio.sleep(max(0.0, began + ROUND_SECONDS - loop.time()))

        with psycopg.connect(pg_url, autocommit=True) as watch:

            def handling(person_id: int) -> BotProcess | None:
                pid = holder(watch, sender_lock(person_id))
                return next((b for b in bots.values() if b.proc and b.proc.pid == pid), None)

            def busy() -> set[int]:
                rows = watch.execute(
                    "SELECT DISTINCT a.application_name FROM pg_locks l "
                    "JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' "
                    "AND l.classid::bigint >= %s",
                    (SENDER_LOCKS >> 32,),
                ).fetchall()
                return {int(str(r[0]).rpartition(" ")[2]) for r in rows}

            for bot in bots.values():
                await bot.start()
            # Both take part: each process handles some people's updates at times. A user is
            # held only while one update is handled (milliseconds), so both are watched for
            # the whole run, not only at its start.
            writers = [asyncio.create_task(write(p)) for p in people]
            seen: set[str] = set()

            def both() -> bool:
                holders = busy()
                seen.update(n for n, b in bots.items() if b.proc and b.proc.pid in holders)
                return len(seen) == 2

            async def watch_holders() -> None:
                while not stop.is_set():
                    both()
                    await asyncio.sleep(0.02)

            with contextlib.suppress(TimeoutError):
                await until(both, 30, "both handling")
            watcher = asyncio.create_task(watch_holders())
            victims: list[str] = []
            try:
                for kill in range(KILLS):
                    await asyncio.sleep(rng.uniform(*WORK))
                    victim = rng.choice(list(bots.values()))
                    if kill % 2:
                        # While a person's update is being handled there: the fake Telegram
                        # holds the answer, and the process dies holding the person.
                        writing = [p for p, w in zip(people, writers, strict=True) if not w.done()]
                        if not writing:
                            break
                        person = rng.choice(writing)
                        stalled = stalls(person.id)
                        server.api.fail_next("sendMessage", "timeout", chat_id=person.id)
                        await until(
                            lambda p=person.id, n=stalled: stalls(p) > n,  # type: ignore[misc]
                            REPLY_SECONDS,
                            "a stalled answer",
                        )
                        victim = handling(person.id) or victim
                    victims.append(next(n for n, b in bots.items() if b is victim))
                    await victim.kill()
                    await victim.start()  # back at once: both handle updates again
                await asyncio.sleep(1.0)
                stop.set()
                await asyncio.wait_for(asyncio.gather(*writers), REPLY_SECONDS + 5)
            finally:
                stop.set()
                for task in writers:
                    task.cancel()
                await asyncio.gather(watcher, return_exceptions=True)
                logs = {n: b.tail(1500) for n, b in bots.items()}
                for bot in bots.values():
                    await bot.kill()
    sent = {p.id: len(ROUND) * rounds[p.id] for p in people}
    doubles = {p.id: len(answers(p.id)) - len(collapsed(answers(p.id))) for p in people}
    print(
        f"\n{len(victims)} kills (a: {victims.count('a')}, b: {victims.count('b')}); "
        f"updates {sum(sent.values())}; answered again after a kill: {sum(doubles.values())} "
        f"{doubles}"
    )
    assert [slowed(p.id) for p in people] == [0] * PEOPLE, "people typed faster than people do"
    assert problems == [], f"{problems}\n{logs}"
    assert seen == {"a", "b"}, "one process handled every update"
    assert len(victims) >= KILLS
    # An update answered twice is one whose "handled" mark a kill prevented: at most one of
    # each person's per kill, the one the dead process was handling (docs/RELIABILITY.md).
    assert max(doubles.values()) <= len(victims)


async def test_a_process_that_is_not_polling_stops_at_once_on_sigterm(
    tmp_path: Path, pg_url: str
) -> None:
    # PTB's updater ends with one more getUpdates (timeout 0) to confirm what it fetched;
    # the process that never polled must not wait for the receiver's role to make it.
    async with BotApiServer(token=TOKEN) as server:
        env = bot_env(server, tmp_path / "data") | {"DATABASE_URL": pg_url}
        bots = [BotProcess(env, tmp_path, tmp_path / f"{n}.log") for n in range(2)]
        try:
            for bot in bots:
                await bot.start()
            with psycopg.connect(pg_url, autocommit=True) as watch:

                def listening() -> int:
                    """Processes running: each listens for news once it has started."""
                    row = watch.execute(
                        "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'LISTEN%%'"
                    ).fetchone()
                    return int(row[0]) if row else 0

                await until(lambda: listening() == 2, 60, "both processes running")
                receiver = holder(watch, RECEIVER_LOCK)
            person = HttpTelegram(server).user(7200, language_code="en")
            await person.send("/help")
            await until(lambda: bool(server.api.calls("sendMessage", person.id)), 30, "answer")
            other = next(b for b in bots if b.proc is not None and b.proc.pid != receiver)
            began = asyncio.get_running_loop().time()
            assert await other.stop(seconds=30) == 0
            assert asyncio.get_running_loop().time() - began < 5
            receiving = next(b for b in bots if b is not other)
            assert await receiving.stop(seconds=30) == 0
        finally:
            for bot in bots:
                await bot.kill()


async def test_webhook_updates_are_stored_before_telegram_hears_back_and_handled_once(
    tmp_path: Path, pg_url: str
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    secret = "operator-chosen_secret-0123456789"
    async with BotApiServer() as server:
        env = bot_env(server, tmp_path / "data") | {
            "DATABASE_URL": pg_url,
            "WEBHOOK_URL": "https://bot.example.com/",
            "WEBHOOK_LISTEN": "127.0.0.1",
            "WEBHOOK_PORT": str(port),
            "WEBHOOK_SECRET_TOKEN": secret,
        }
        bot = BotProcess(env, tmp_path, tmp_path / "bot.log", command="webhook")
        await bot.start()
        try:
            await until(lambda: bool(server.api.calls("setWebhook")), 60, "setWebhook")
            kit = HttpTelegram(server)
            person = kit.user(7100, language_code="en")
            await person.send("/help")
            update = dict(kit.last_update)
            headers = {"X-Telegram-Bot-Api-Secret-Token": secret}
            async with httpx.AsyncClient() as client:
                for _ in range(2):  # Telegram sends it again when it heard nothing back
                    answer = await client.post(
                        f"http://127.0.0.1:{port}/telegram", json=update, headers=headers
                    )
                    assert answer.status_code == 200
                    with psycopg.connect(pg_url) as conn:  # stored before the 200
                        row = conn.execute(
                            "SELECT 1 FROM inbox WHERE update_id = %s", (update["update_id"],)
                        ).fetchone()
                    assert row is not None
            await until(lambda: bool(server.api.calls("sendMessage", person.id)), 30, "answer")
            await asyncio.sleep(1.0)
            assert len(server.api.calls("sendMessage", person.id)) == 1  # handled once
            assert await bot.stop() == 0
        finally:
            await bot.kill()
