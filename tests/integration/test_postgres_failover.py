"""Two real bot processes (``python -m bot run``) on one PostgreSQL database, against the
local fake Bot API over HTTP: one takes updates, the other stands by; the active one is
killed with SIGKILL again and again while people write, and restarted as the standby.

What must hold: the standby takes over within seconds; every update the fake Telegram
handed over is answered (the inbox stores it before Telegram is told it arrived, and the
next process hands over what the dead one had not handled). And in webhook mode an update
is in the inbox before Telegram gets its 200, and one sent again is handled once."""

from __future__ import annotations

import asyncio
import random
import socket
import statistics
import time
from pathlib import Path

import httpx
import psycopg
import pytest
from bot_crash_kit import TOKEN, BotProcess, bot_env, until

from bot.offline.http_server import BotApiServer, HttpTelegram
from bot.offline.people import Person
from storage.postgres.store import holder

KILLS = 30
PEOPLE = 6
TAKEOVER_SECONDS = 15.0
REPLY_SECONDS = 40.0
WORK = (0.2, 1.2)  # seconds of traffic between a takeover and the next kill


@pytest.mark.slow
async def test_the_standby_takes_over_and_nothing_handed_over_is_lost(
    tmp_path: Path, pg_url: str
) -> None:
    rng = random.Random(14)
    async with BotApiServer(token=TOKEN) as server:
        kit = HttpTelegram(server)
        env = bot_env(server, tmp_path / "data") | {"DATABASE_URL": pg_url}
        bots = {}
        for name in ("a", "b"):
            bots[name] = BotProcess(env, tmp_path, tmp_path / f"{name}.log")
        people = [kit.user(7000 + n, language_code="en") for n in range(PEOPLE)]
        sent = {p.id: 0 for p in people}
        problems: list[str] = []
        stop = asyncio.Event()

        def answers(person_id: int) -> int:
            return sum(1 for c in server.api.sent if c.chat_id == person_id)

        def stalls(person_id: int) -> int:
            return sum(1 for c in server.api.refused if c.chat_id == person_id)

        async def write(person: Person) -> None:
            while not stop.is_set():
                before = answers(person.id)
                sent[person.id] += 1
                await person.send("/help" if sent[person.id] % 2 else "/status")
                try:
                    await until(
                        lambda n=before: answers(person.id) > n,  # type: ignore[misc]
                        REPLY_SECONDS,
                        "answer",
                    )
                except TimeoutError:
                    problems.append(f"{person.id}: message {sent[person.id]} never answered")
                    return
                await asyncio.sleep(rng.uniform(0.05, 0.3))

        with psycopg.connect(pg_url, autocommit=True) as watch:

            def active() -> BotProcess | None:
                pid = holder(watch)
                return next((b for b in bots.values() if b.proc and b.proc.pid == pid), None)

            for bot in bots.values():
                await bot.start()
                await until(lambda: active() is not None, TAKEOVER_SECONDS, "a first leader")
            writers = [asyncio.create_task(write(p)) for p in people]
            takeovers: list[float] = []
            try:
                for kill in range(KILLS):
                    await asyncio.sleep(rng.uniform(*WORK))
                    if kill % 2:
                        # While an update is being handled: the fake Telegram holds the
                        # answer, so the update is confirmed (the next getUpdates went out)
                        # and not handled when the process dies.
                        writing = [p for p, w in zip(people, writers, strict=True) if not w.done()]
                        if not writing:
                            break  # every writer stopped at an unanswered message
                        person = rng.choice(writing)
                        stalled = stalls(person.id)
                        server.api.fail_next("sendMessage", "timeout", chat_id=person.id)
                        await until(
                            lambda p=person.id, n=stalled: stalls(p) > n,  # type: ignore[misc]
                            REPLY_SECONDS,
                            "a stalled answer",
                        )
                    victim = active()
                    assert victim is not None, "no process holds the database"
                    killed_at = time.monotonic()
                    await victim.kill()
                    await until(
                        lambda dead=victim: active() not in (None, dead),  # type: ignore[misc]
                        TAKEOVER_SECONDS,
                        "takeover",
                    )
                    takeovers.append(time.monotonic() - killed_at)
                    await victim.start()  # back as the standby
                stop.set()
                await asyncio.wait_for(asyncio.gather(*writers), REPLY_SECONDS + 5)
            finally:
                stop.set()
                for task in writers:
                    task.cancel()
                logs = {n: b.tail(1500) for n, b in bots.items()}
                for bot in bots.values():
                    await bot.kill()
    print(
        f"\n{KILLS} kills; takeover s: median {statistics.median(takeovers):.2f}, "
        f"max {max(takeovers):.2f}; messages {sum(sent.values())}"
    )
    assert problems == [], f"{problems}\n{logs}"
    assert max(takeovers) < TAKEOVER_SECONDS
    doubles = {p.id: answers(p.id) - sent[p.id] for p in people}
    print(f"answered more than once (handled, killed before marked done): {doubles}")


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
