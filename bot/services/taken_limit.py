"""How often one person may be told that a unique value (an e-mail address, an
administrator id) is already used: each such answer tells them, one guess at a time, who is
registered. After ``PER_DAY`` of them in a day every new value is refused alike, taken or not.

One instance serves the registration form and the profile's e-mail change. It lives in
memory: the limit slows a prober down, and a restart, which they cannot cause, forgets it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from bot.rules import validators

#: "Already used" answers a person gets per ``WINDOW`` before every new value is refused.
PER_DAY = 5
WINDOW = timedelta(days=1)


class TakenLimit:
    """Counts "already used" answers per person over the last day."""

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self.clock = clock
        self._told: dict[int, list[datetime]] = {}

    def guard(self, user_id: int) -> None:
        """Refuse (``unique.limit``) once the person had ``PER_DAY`` answers in a day."""
        now = self.clock()
        recent = [t for t in self._told.get(user_id, []) if now - t < WINDOW]
        self._told[user_id] = recent
        if len(recent) >= PER_DAY:
            raise validators.Invalid("unique.limit", until=recent[0] + WINDOW)

    def taken(self, user_id: int) -> validators.Invalid:
        """Count one "already used" answer; the error to raise for it."""
        self._told.setdefault(user_id, []).append(self.clock())
        return validators.Invalid("unique.taken")
