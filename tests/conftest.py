"""Shared fixtures: settings on a temp DATA_DIR, a movable clock, and the whole bot over the
offline Telegram kit (full PTB stack, real TinyDB storage), restartable in-process."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.factory import build
from bot.offline import OfflineTelegram
from bot.settings import Settings
from storage.tinydb_store import TinyDBStorage

ADMIN_CHAT = -1001000
SUPPORT_CHAT = -1002000
REVIEWERS = (501, 502)


class Clock:
    """A clock tests can move; starts on a Monday morning (China time)."""

    def __init__(self, start: datetime = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def make_settings(data_dir: Path, **overrides: Any) -> Settings:
    """Settings for tests: no .env, a temp DATA_DIR, an admin group and reviewers."""
    values: dict[str, Any] = {
        "DATA_DIR": data_dir,
        "ADMIN_CHAT_ID": ADMIN_CHAT,
        "SUPPORT_CHAT_ID": SUPPORT_CHAT,
        "REVIEWER_IDS": list(REVIEWERS),
        "SUPPORT_EMAIL": "support@example.com",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


class BotHarness:
    """The bot as it runs for real, fed through the offline kit; ``restart`` rebuilds the
    application and reopens storage on the same DATA_DIR, like a new process."""

    def __init__(self, settings: Settings, clock: Clock) -> None:
        self.settings = settings
        self.clock = clock
        self.kit = OfflineTelegram()
        self.admin_group = self.kit.group(ADMIN_CHAT, "Reviewers")
        self.support_group = self.kit.group(SUPPORT_CHAT, "Support")
        self.storage: TinyDBStorage | None = None
        self.app: Any = None

    async def start(self) -> None:
        self.storage = TinyDBStorage.open(self.settings.DATA_DIR)
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

    @property
    def store(self) -> TinyDBStorage:
        assert self.storage is not None
        return self.storage


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "data")


@pytest.fixture
async def harness(settings: Settings, clock: Clock) -> AsyncIterator[BotHarness]:
    bot = BotHarness(settings, clock)
    await bot.start()
    try:
        yield bot
    finally:
        await bot.stop()
    assert bot.kit.errors == [], f"handlers raised: {bot.kit.errors}"
