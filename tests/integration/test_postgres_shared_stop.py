"""A bot process that shares its database with others (``python -m bot run`` on PostgreSQL)
stops promptly after a busy while: its loop claiming stored updates ends when cancelled,
whatever it was waiting for at that moment."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from conftest import make_settings

from bot.factory import build
from bot.offline import OfflineTelegram, Person
from storage.postgres import PostgresStorage

PEOPLE = 30
STOP_SECONDS = 5.0


async def test_a_shared_process_stops_at_once_after_many_users_wrote(
    tmp_path: Path, pg_url: str
) -> None:
    storage = PostgresStorage.open(pg_url, shared=True)
    kit = OfflineTelegram(wait_for_jobs=False)
    app = build(make_settings(tmp_path), storage, request=kit.api, rate_limit=False)
    kit.attach(app)
    await app.initialize()
    await app.start()
    try:

        async def write(person: Person) -> None:
            for text in ("/start", "/help", "/status", "/help"):
                await asyncio.sleep(0)  # the others' updates in between
                await person.send(text)

        people = [kit.user(8000 + n, language_code="en") for n in range(PEOPLE)]
        await asyncio.gather(*(write(person) for person in people))
        assert all(len(person.messages()) >= 4 for person in people)
        # The last update's end woke the claim loop, and the stop comes before it ran: the
        # cancellation and the wake-up meet (Python 3.11's wait_for then swallowed the
        # cancellation, and the stop waited for the loop for good).
        started = time.monotonic()
        # The stop itself, not a task running it; the timeout's cancellation may be swallowed
        # too, so the time is what tells.
        async with asyncio.timeout(STOP_SECONDS):
            await app.stop()
        assert time.monotonic() - started < STOP_SECONDS

    finally:
        if not app.running:  # a stop that hung leaves it running: nothing more to end
            await app.shutdown()
        storage.close()
