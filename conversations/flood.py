"""Flood guard: a private-chat user who sends updates faster than a person plausibly can is
slowed down, and nobody else notices.

Runs in handler group -1, before every other handler. Each user's accepted updates are
counted in a sliding window; beyond ``LIMIT`` within ``WINDOW`` seconds an update is dropped
(``ApplicationHandlerStop``: no other handler sees it, nothing is stored) and the user is
told, once per window and in their language, to slow down. So a flooder is served at most
``LIMIT`` updates per ``WINDOW`` and costs one message per window; others are unaffected:
the check is O(1) per update and reads no storage.

Memory stays bounded: users silent for a whole window are forgotten, and at most
``MAX_TRACKED`` users are followed at once (the least recently active go first).

Time comes from the bot's clock (``Services.clock``), so tests move it like every other time.
The thresholds are read at each update, so tests may also change them.
"""

from __future__ import annotations

import logging
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from enum import Enum

from telegram import Update
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import Application, ApplicationHandlerStop, TypeHandler

from conversations.common import Context, Turn

log = logging.getLogger(__name__)

#: More than LIMIT updates within WINDOW seconds is more than a person types or taps.
LIMIT = 20
WINDOW = 10.0
#: Far more users than can be active within one window at Telegram's 30 messages/s.
MAX_TRACKED = 10_000
#: Runs before every other handler group (PTB's default group is 0).
GROUP = -1


class Verdict(Enum):
    """What to do with one update."""

    PASS = "pass"  # handle it as usual
    WARN = "warn"  # drop it and tell the user to slow down (once per window)
    DROP = "drop"  # drop it silently


@dataclass
class _Track:
    """One user's accepted update times within the window (at most ``LIMIT`` of them)."""

    last_seen: float
    accepted: deque[float] = field(default_factory=deque)
    warned_at: float | None = None


class FloodGuard:
    """Sliding-window counts per user, oldest activity first so idle users go cheaply."""

    def __init__(self) -> None:
        self._users: OrderedDict[int, _Track] = OrderedDict()

    def __len__(self) -> int:
        """How many users are tracked now."""
        return len(self._users)

    def check(self, user_id: int, now: float) -> Verdict:
        """Count an update of ``user_id`` at ``now`` (seconds) and say what to do with it."""
        self._forget_idle(now)
        track = self._users.get(user_id)
        if track is None:
            track = self._users[user_id] = _Track(last_seen=now)
            if len(self._users) > MAX_TRACKED:
                self._users.popitem(last=False)
        else:
            self._users.move_to_end(user_id)
            track.last_seen = now
        accepted = track.accepted
        # Expired times go; so do times "in the future" after the clock was set back.
        while accepted and not now - WINDOW < accepted[0] <= now:
            accepted.popleft()
        while accepted and accepted[-1] > now:
            accepted.pop()
        if len(accepted) < LIMIT:
            # Only accepted updates count, so a steady flooder is still served LIMIT per
            # WINDOW (slowed down, not locked out).
            accepted.append(now)
            return Verdict.PASS
        if track.warned_at is not None and now - WINDOW < track.warned_at <= now:
            return Verdict.DROP
        track.warned_at = now
        return Verdict.WARN

    def _forget_idle(self, now: float) -> None:
        """Drop users with no update for a whole window: nothing of theirs still counts."""
        while self._users:
            oldest = next(iter(self._users.values()))
            if oldest.last_seen > now - WINDOW:
                return
            self._users.popitem(last=False)


def make_handler(guard: FloodGuard) -> TypeHandler[Update, Context, None]:
    """The group -1 handler applying ``guard`` to private-chat updates."""

    async def callback(update: Update, context: Context) -> None:
        chat, user = update.effective_chat, update.effective_user
        if chat is None or user is None or chat.type != ChatType.PRIVATE:
            return
        verdict = guard.check(user.id, context.services.clock().timestamp())
        if verdict is Verdict.PASS:
            return
        if verdict is Verdict.WARN:
            try:
                turn = Turn.of(update, context)
                await turn.reply(turn.t("flood.slow_down"))
            except (TelegramError, OSError):  # blocked bot, storage trouble: still drop it
                log.warning("could not ask user %s to slow down", user.id, exc_info=True)
        raise ApplicationHandlerStop

    return TypeHandler(Update, callback)


def register(application: Application) -> None:  # type: ignore[type-arg]
    """Add the flood guard before every other handler."""
    application.add_handler(make_handler(FloodGuard()), group=GROUP)
