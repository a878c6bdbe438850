"""Updates of different users handled concurrently, each user's strictly in order.

PTB handles one update at a time by default, so every user waits for every other user's Bot
API round trips (about 50 ms each to Telegram): 1.8 calls per update make that ~10 updates/s
for the whole bot (``python -m bench.flow --rtt 50``). PTB's own ``concurrent_updates``
would run two answers of the *same* user at once, and a ``ConversationHandler`` then runs a
state's handler twice (the second update reads the state before the first has moved it).
This processor keeps one queue per user instead: a user's updates run one after the other,
in the order Telegram sent them; other users' run meanwhile.

Updates without a user (channel posts, poll results) share one queue of their own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

#: Updates waiting or running at once, across users; a user's waiting updates count too.
MAX_IN_FLIGHT = 256


def sender_of(update: object) -> int | None:
    """Whose queue an update joins: its user's id, or None when it has no user."""
    if isinstance(update, Update) and update.effective_user is not None:
        return update.effective_user.id
    return None


class PerUserUpdateProcessor(BaseUpdateProcessor):
    """One lock per user; locks are dropped as soon as nobody holds or waits for them."""

    def __init__(self, max_in_flight: int = MAX_IN_FLIGHT) -> None:
        super().__init__(max_in_flight)
        self._locks: dict[int | None, asyncio.Lock] = {}
        self._users: dict[int | None, int] = {}  # updates holding or waiting for each lock

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Run ``coroutine`` once every earlier update of the same user is done."""
        key = sender_of(update)
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._users[key] = self._users.get(key, 0) + 1
        started = False
        try:
            # asyncio.Lock wakes its waiters first come, first served: Telegram's order.
            async with lock:
                started = True
                await coroutine
        finally:
            if not started and asyncio.iscoroutine(coroutine):
                coroutine.close()  # cancelled while waiting (shutdown): never to run
            self._users[key] -= 1
            if not self._users[key]:
                del self._users[key], self._locks[key]

    @property
    def users_in_flight(self) -> int:
        """How many users have an update running or waiting (for tests)."""
        return len(self._locks)

    async def initialize(self) -> None:
        """Nothing to allocate."""

    async def shutdown(self) -> None:
        """Nothing to free: PTB awaits the running updates before calling this."""
