"""The flood guard: a user flooding the bot is slowed down with one clear message in their
language, others are served meanwhile, and the flooder is served again after the window.

Tests type faster than people, so the suite's conftest lifts the limit; these tests set the
limit they need (small, to stay quick: the behaviour does not depend on its value).
"""

from __future__ import annotations

import pytest
from conftest import REVIEWERS, BotHarness, Clock
from journey import reach_form, texts
from telegram.ext import TypeHandler

from bot.factory import build
from bot.offline import OfflineTelegram
from bot.settings import Settings
from conversations import flood
from conversations.flood import FloodGuard, Verdict
from storage.tinydb_store import TinyDBStorage

LIMIT = 8


@pytest.fixture(autouse=True)
def limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(flood, "LIMIT", LIMIT)


def slow_down(harness: BotHarness, locale: str) -> str:
    return str(harness.services.texts.plain(locale, "flood.slow_down"))


def test_the_factory_puts_the_guard_before_everything(settings: Settings) -> None:
    with TinyDBStorage.open(settings.DATA_DIR) as store:
        application = build(settings, store, request=OfflineTelegram().api)
    assert min(application.handlers) == flood.GROUP
    [guard] = application.handlers[flood.GROUP]
    assert isinstance(guard, TypeHandler)


async def test_a_flooder_is_slowed_down_while_others_are_served(
    harness: BotHarness, clock: Clock
) -> None:
    flooder = harness.kit.user(31, "Flo", language_code="en")
    other = harness.kit.user(32, "伟", language_code="zh-hans")
    for _ in range(LIMIT):
        assert "Help" in texts(await flooder.send("/help"))

    warned = await flooder.send("/help")
    assert [m.text for m in warned] == [slow_down(harness, "en")]
    # One message per window: what follows is dropped silently.
    for _ in range(5):
        assert await flooder.send("/help") == []
    assert await flooder.send("/apply") == []

    # Meanwhile someone else is answered as usual.
    assert "开发者入驻助手" in texts(await other.send("/start"))

    clock.advance(seconds=flood.WINDOW / 2)
    assert await flooder.send("/help") == []
    clock.advance(seconds=flood.WINDOW / 2)
    assert "Help" in texts(await flooder.send("/help"))
    assert harness.kit.errors == []


async def test_the_message_is_in_the_users_language_and_button_presses_count(
    harness: BotHarness,
) -> None:
    user = harness.kit.user(33, "伟", language_code="zh-hans")
    await reach_form(user, "第三方开发者")  # 5 updates, some of them button presses
    sent = 5
    while sent < LIMIT:
        await user.send("/status")
        sent += 1
    answer = await user.send("张伟")
    assert [m.text for m in answer] == [slow_down(harness, "zh")]
    # The dropped answer was not stored: the form still asks for the first field.
    registration = harness.store.registrations.get("33-isv")
    assert registration is not None and "legal_name" not in registration.answers


async def test_group_chats_are_not_counted(harness: BotHarness) -> None:
    reviewer = harness.kit.user(REVIEWERS[0])
    for _ in range(LIMIT + 3):
        assert await reviewer.send("/queue", chat=harness.admin_group)
    # Nor did the group count towards the reviewer's private chat.
    assert "/apply" in texts(await reviewer.send("/help"))


def test_a_steady_flooder_is_served_limit_per_window() -> None:
    guard = FloodGuard()
    verdicts = [guard.check(1, now=t / 10) for t in range(10 * 30)]  # 10 updates/s for 30 s
    served = verdicts.count(Verdict.PASS)
    windows = 30 / flood.WINDOW
    assert served == LIMIT * windows
    assert verdicts.count(Verdict.WARN) == windows


def test_idle_users_are_forgotten_and_memory_is_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    guard = FloodGuard()
    for user_id in range(1000):
        guard.check(user_id, now=0.0)
    assert len(guard) == 1000
    guard.check(5000, now=flood.WINDOW)
    assert len(guard) == 1  # everyone silent for a whole window is gone

    monkeypatch.setattr(flood, "MAX_TRACKED", 100)
    for user_id in range(1000):
        guard.check(user_id, now=flood.WINDOW + 1)
    assert len(guard) == 100


def test_a_clock_set_back_does_not_lock_a_user_out() -> None:
    guard = FloodGuard()
    for _ in range(LIMIT):
        assert guard.check(7, now=1000.0) is Verdict.PASS
    assert guard.check(7, now=1000.0) is Verdict.WARN
    assert guard.check(7, now=500.0) is Verdict.PASS  # times "in the future" no longer count
