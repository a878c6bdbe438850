"""Shared fixtures: settings on a temp DATA_DIR, a movable clock, and the whole bot over the
offline Telegram kit (full PTB stack, real TinyDB storage), restartable in-process."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import pytest

from bot.cli import open_storage
from bot.factory import build
from bot.offline import OfflineTelegram
from bot.services import outbox
from bot.settings import Settings
from conversations.common import Services
from storage.postgres import PostgresStorage
from storage.protocols import Storage

ROOT = Path(__file__).resolve().parents[1]


def run_python(*args: str, timeout: float, exits: tuple[int, ...] = (0, 1)) -> str:
    """``python ARGS`` in the repository (a benchmark: ``-m bench.NAME``): what it printed,
    once it ended with one of ``exits`` (benchmarks: 0 every target met, 1 one missed)
    and without a traceback (a crash)."""
    done = subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode in exits and "Traceback" not in done.stderr, done.stderr
    return done.stdout


ADMIN_CHAT = -1001000
SUPPORT_CHAT = -1002000
REVIEWERS = (501, 502)
AGENTS = (900, 901, 902, 903, 904)  # support agents (SUPPORT_AGENT_IDS)


class Clock:
    """A clock tests can move; starts on a Monday morning (China time)."""

    def __init__(self, start: datetime = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def make_settings(data_dir: Path, **overrides: Any) -> Settings:
    """Settings for tests: no .env, a temp DATA_DIR, an admin group and reviewers, a
    support group and agents."""
    values: dict[str, Any] = {
        "DATA_DIR": data_dir,
        "ADMIN_CHAT_ID": ADMIN_CHAT,
        "SUPPORT_CHAT_ID": SUPPORT_CHAT,
        "REVIEWER_IDS": list(REVIEWERS),
        "SUPPORT_AGENT_IDS": list(AGENTS),
        "SUPPORT_EMAIL": "support@example.com",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


class BotHarness:
    """The bot as it runs for real, fed through the offline kit; ``restart`` rebuilds the
    application and reopens storage on the same DATA_DIR, like a new process. ``shared``:
    one of several processes on the PostgreSQL database (``python -m bot run``)."""

    def __init__(self, settings: Settings, clock: Clock, shared: bool = False) -> None:
        self.settings = settings
        self.clock = clock
        self.shared = shared
        self.kit = OfflineTelegram()
        self.admin_group = self.kit.group(ADMIN_CHAT, "Reviewers")
        self.support_group = self.kit.group(SUPPORT_CHAT, "Support")
        self.storage: Storage | None = None
        self.app: Any = None

    async def start(self) -> None:
        # PostgreSQL when DATABASE_URL is set
        self.storage = open_storage(self.settings, shared=self.shared)
        self.app = build(
            self.settings,
            self.storage,
            request=self.kit.api,
            clock=self.clock,
            rate_limit=False,
            album_wait=0.05,
        )
        self.kit.attach(self.app)
        await self.app.initialize()
        await self.app.start()

    async def stop(self) -> None:
        if self.app is not None:
            await self.app.stop()
            await self.app.shutdown()
            self.app = None
        if self.storage is not None:
            self.storage.close()
            self.storage = None

    async def restart(self) -> None:
        await self.stop()
        await self.start()

    async def deliver(self) -> None:
        """Run the outbox until nothing is due (what the job does every few seconds)."""
        job = self.app.job_queue.get_jobs_by_name("outbox")[0]
        for _ in range(50):
            # A delivery already running (started by the last action) ends first: its
            # lanes would be skipped by this run and still be sending after it.
            await self.kit.settle()
            await job.run(self.app)
            now = self.clock()
            due = [
                n
                for r in self.store.registrations.with_pending_notifications()
                for n in outbox.due(r, now)
            ]
            if not due:
                return
            await asyncio.sleep(0.02)
        raise AssertionError(f"notifications still due: {due}")

    async def until(self, condition: Callable[[], bool], seconds: float = 3.0) -> None:
        """Wait for something that happens in the background (jobs, albums)."""
        for _ in range(int(seconds / 0.02)):
            if condition():
                return
            await asyncio.sleep(0.02)
        raise AssertionError("condition not met in time")

    @contextmanager
    def jobs_held(self) -> Iterator[None]:
        """Background jobs do not start while inside (they run after it, when due): a test
        runs the ones it means to itself, so nothing they do lands after the test looked."""
        scheduler = self.app.job_queue.scheduler
        scheduler.pause()
        try:
            yield
        finally:
            scheduler.resume()

    async def run_job(self, name: str) -> None:
        """Run a repeating job once now, as its timer would (``outbox``, ``reminders``…)."""
        await self.app.job_queue.get_jobs_by_name(name)[0].run(self.app)

    @property
    def services(self) -> Services:
        """The running application's services."""
        services: Services = self.app.bot_data.services
        return services

    @property
    def store(self) -> Storage:
        assert self.storage is not None
        return self.storage


@pytest.fixture(autouse=True)
def patient_flood_guard(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests type faster than people and their clock stands still: the flood guard would
    stop them. Its own tests set the limits they need."""
    from conversations import flood

    monkeypatch.setattr(flood, "LIMIT", 10_000)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "data")


async def running(settings: Settings, clock: Clock) -> AsyncIterator[BotHarness]:
    """The bot started for one test, stopped after it; no handler may have raised."""
    bot = BotHarness(settings, clock)
    await bot.start()
    try:
        yield bot
    finally:
        await bot.stop()
    assert bot.kit.errors == [], f"handlers raised: {bot.kit.errors}"


@pytest.fixture
async def harness(settings: Settings, clock: Clock) -> AsyncIterator[BotHarness]:
    async for bot in running(settings, clock):
        yield bot


@pytest.fixture(params=["zh", "en"])
async def harness_in_each_locale(
    request: pytest.FixtureRequest, tmp_path: Path, clock: Clock
) -> AsyncIterator[BotHarness]:
    """The bot with Chinese, then English as its default (the reviewers' group's) language."""
    settings = make_settings(tmp_path / "data", DEFAULT_LOCALE=request.param)
    async for bot in running(settings, clock):
        yield bot


class Inbox:
    """What a local SMTP server (aiosmtpd on 127.0.0.1) received."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = BytesParser(policy=policy.default).parsebytes(envelope.original_content)
        self.messages.append(parsed)
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    """A real SMTP server on 127.0.0.1 for the duration of a test."""
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


@pytest.fixture
def mail_settings(tmp_path: Path, smtp: tuple[Inbox, int]) -> Settings:
    return make_settings(
        tmp_path / "data",
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=smtp[1],
        SMTP_TLS="none",
        SMTP_FROM="onboarding@example.com",
    )


@pytest.fixture
async def mail_harness(mail_settings: Settings, clock: Clock) -> AsyncIterator[BotHarness]:
    async for bot in running(mail_settings, clock):
        yield bot


# --- PostgreSQL: a throwaway cluster, or TEST_DATABASE_URL --------------------------------


@pytest.fixture(scope="session")
def pg_admin() -> Iterator[str]:
    """Where test databases are created: ``TEST_DATABASE_URL`` when set, otherwise a
    throwaway cluster started from the server binaries on this machine (stopped after the
    session). Without either the PostgreSQL tests skip, except in CI, where they fail."""
    from storage.postgres.throwaway import NoServer, ThrowawayCluster

    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        yield url
        return
    cluster = ThrowawayCluster()
    try:
        conninfo = cluster.start()
    except NoServer as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must run the PostgreSQL tests: {exc}")
        pytest.skip(f"no PostgreSQL: {exc}")
    try:
        yield conninfo
    finally:
        cluster.stop()


_pg_databases = iter(range(1, 1_000_000))


@pytest.fixture
def pg_url(pg_admin: str) -> Iterator[str]:
    """A fresh, empty database for one test, dropped after it."""
    from storage.postgres.throwaway import create_database, drop_database

    name = f"test_{os.getpid()}_{next(_pg_databases)}"
    yield create_database(pg_admin, name)
    drop_database(pg_admin, name)


@asynccontextmanager
async def held_elsewhere(pg_url: str, user_id: int) -> AsyncIterator[None]:
    """Another bot process (its own storage, thread and event loop) handling an update of
    ``user_id`` on the database: its open transaction holds the user until the block ends
    (at most 5 s, so that code waiting for it cannot hang a test)."""
    other = PostgresStorage.open(pg_url, shared=True)
    holding, release = threading.Event(), threading.Event()

    async def handling() -> None:
        other.begin(user_id)
        other.accounts.get(user_id)  # reads the user under their lock
        holding.set()
        await asyncio.to_thread(release.wait, 5)
        await other.committed()

    process = threading.Thread(target=asyncio.run, args=(handling(),))
    process.start()
    try:
        assert await asyncio.to_thread(holding.wait, 5)
        yield
    finally:
        release.set()
        await asyncio.to_thread(process.join, 10)
        other.close()
