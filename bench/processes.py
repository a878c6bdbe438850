"""``python -m bench.flow --storage postgres --deployed N``: the whole bot as real processes
(``python -m bot run``) on one PostgreSQL database, 1 and then N of them, against the fake
Bot API over HTTP (``bot.offline.http_server``), while the applicants walk the journey.

Unlike the in-process table, every update takes the deployed path: one process polls and
stores it in the inbox (committed before Telegram hears back), any process claims it, reads
the user's conversation state, handles it, and marks it handled in its group commit. Each
applicant sends a step once the bot has answered the one before. Throughput is updates
answered per wall-clock second, with the fake Telegram, the applicants and the bot
processes sharing the machine's cores.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from bot.offline import Person
from bot.offline.http_server import BotApiServer, HttpTelegram
from bot.offline.identity import BOT_ID
from bot.offline.records import SentCall
from bot.offline.transport import FakeBotAPI
from storage.postgres.throwaway import create_database, drop_database

if TYPE_CHECKING:  # bench.flow imports this module
    from bench.flow import Step

TOKEN = f"{BOT_ID}:bench-processes-token-000000000000000"
ROOT = Path(__file__).resolve().parent.parent
#: A bot process as ``python -m bot run``, as the in-process run builds it: without the flood
#: guard (the applicants are machines), the rate limiter (the fake Telegram has no limits)
#: and the hourly reminders' first scan.
LAUNCH = (
    "import functools, sys; from datetime import timedelta; import bot.cli; "
    "bot.cli.build = functools.partial(bot.cli.build, rate_limit=False); "
    "from conversations import flood; from conversations.applicant import reminders; "
    "flood.LIMIT = 10**9; reminders.REMINDER_FIRST = timedelta(hours=1); "
    "from bot.cli import main; sys.exit(main(['run']))"
)
STEP_SECONDS = 60.0
QUIET = 0.3  # seconds without a call: the bot has answered a step (calibration only)


class Answers:
    """How many messages the bot sent to each chat, counted as the fake Telegram records
    them (scanning its record instead costs the applicants' process more than the bot)."""

    def __init__(self, api: FakeBotAPI) -> None:
        self.counts: dict[int, int] = {}
        self.changed = asyncio.Event()
        api.listeners.append(self._heard)

    def _heard(self, call: SentCall) -> None:
        if call.method == "sendMessage" and call.chat_id is not None:
            self.counts[call.chat_id] = self.counts.get(call.chat_id, 0) + 1
            self.changed.set()
            self.changed = asyncio.Event()

    def of(self, person: Person) -> int:
        return self.counts.get(person.id, 0)

    async def reach(self, person: Person, count: int) -> None:
        """Wait until the bot sent ``count`` messages to the person."""
        deadline = time.monotonic() + STEP_SECONDS
        while self.of(person) < count:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"{person.id}: no answer within {STEP_SECONDS} s")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), left)


async def _step(person: Person, step: Step) -> None:
    """Do one step (a button is pressed once its message is there)."""
    from bench.flow import perform

    deadline = time.monotonic() + STEP_SECONDS
    while True:
        try:
            await perform(person, step, floor=False)
            return
        except LookupError:  # the button's message is still on its way
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.005)


async def _calibrate(answers: Answers, person: Person, steps: list[Step]) -> list[int]:
    """How many messages the bot sends for each step: one applicant alone, waiting for the
    bot to fall quiet after each (the walks then wait for exactly that many)."""
    counts = []
    for step in steps:
        before = answers.of(person)
        await _step(person, step)
        await answers.reach(person, before + 1)
        while True:
            seen = answers.of(person)
            await asyncio.sleep(QUIET)
            if answers.of(person) == seen:
                break
        counts.append(answers.of(person) - before)
    return counts


async def _run(applicants: int, processes: int, database_url: str, data_dir: Path) -> float:
    from bench.flow import ADMIN_CHAT, FIRST_APPLICANT, REVIEWERS, journey
    from bot.texts import Texts

    texts = Texts()
    async with BotApiServer(token=TOKEN) as server:
        kit = HttpTelegram(server)
        kit.group(ADMIN_CHAT, "Reviewers")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "SMTP_"))}
        env |= {
            "PYTHONPATH": str(ROOT),
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE_URL": server.base_url,
            "TELEGRAM_API_BASE_FILE_URL": server.base_file_url,
            "DATABASE_URL": database_url,
            "DATA_DIR": str(data_dir),
            "ADMIN_CHAT_ID": str(ADMIN_CHAT),
            "REVIEWER_IDS": ",".join(map(str, REVIEWERS)),
            "LOG_LEVEL": "ERROR",
        }
        procs = [
            await asyncio.create_subprocess_exec(
                sys.executable,
                "-c",
                LAUNCH,
                cwd=data_dir,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for _ in range(processes)
        ]
        try:
            answers = Answers(server.api)
            probe = kit.user(FIRST_APPLICANT - 1, language_code="zh-hans")
            await probe.send("/help")
            await answers.reach(probe, 1)  # a process polls
            counts = await _calibrate(answers, probe, journey(FIRST_APPLICANT - 1, "zh", texts))

            async def walk(n: int) -> int:
                user_id = FIRST_APPLICANT + n
                locale = "en" if n % 4 == 3 else "zh"
                person = kit.user(user_id, language_code="en" if locale == "en" else "zh-hans")
                steps = journey(user_id, locale, texts)
                expected = 0
                for step, count in zip(steps, counts, strict=True):
                    expected += count
                    await _step(person, step)
                    await answers.reach(person, expected)
                return len(steps)

            started = time.perf_counter()
            handled = sum(await asyncio.gather(*(walk(n) for n in range(applicants))))
            return handled / (time.perf_counter() - started)
        finally:
            for proc in procs:
                proc.send_signal(signal.SIGTERM)
            for proc in procs:
                try:
                    await asyncio.wait_for(proc.wait(), 15)
                except TimeoutError:
                    proc.kill()
                    await proc.wait()


def throughput(applicants: int, processes: int, server: str, work_dir: Path) -> float:
    """Updates per second with ``processes`` bot processes on a fresh database."""
    name = f"bench_processes_{os.getpid()}_{processes}"
    url = create_database(server, name)
    try:
        data_dir = work_dir / f"p{processes}"
        data_dir.mkdir()
        return asyncio.run(_run(applicants, processes, url, data_dir))
    finally:
        with contextlib.suppress(Exception):
            drop_database(server, name)
