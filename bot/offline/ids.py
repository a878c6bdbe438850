"""Ids that only rise, as Telegram's do: message ids per chat and update ids.

The bot remembers the last message it took as an answer (``answered_message_id``) and,
on PostgreSQL, the updates it handled; ids that start from 1 again after a restart would
be taken as already handled and dropped. Given a file, the ids keep rising across
restarts: blocks of ids are reserved in the file before any of them is handed out, so even
a killed process never hands out an id twice (a restart skips the rest of its block, like
the gaps real ids have).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

BLOCK = 100  # ids reserved per write: one small write per 100 messages of a chat


class RisingIds:
    """Counters by name; persisted in ``path`` when given (the console's), else in memory."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self._last: dict[str, int] = {}
        self._reserved: dict[str, int] = {}
        if path is not None and path.exists():
            stored = json.loads(path.read_text("utf-8"))
            self._last = {str(k): int(v) for k, v in stored.items()}
            self._reserved = dict(self._last)
        self._before = dict(self._last)  # ids up to these may be a former session's

    def from_before(self, name: str, value: int) -> bool:
        """Whether id ``value`` of counter ``name`` may have been handed out before a restart."""
        return 0 < value <= self._before.get(name, 0)

    def next(self, name: str) -> int:
        """The next id of counter ``name`` (1 for a new one without a file)."""
        value = self._last.get(name, 0) + 1
        self._last[name] = value
        if self.path is not None and value > self._reserved.get(name, 0):
            self._reserved[name] = value + BLOCK - 1
            self._save()
        return value

    def _save(self) -> None:
        assert self.path is not None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temp = self.path.with_name(self.path.name + ".tmp")
        with temp.open("w", encoding="utf-8") as file:
            json.dump(self._reserved, file)
            file.flush()
            os.fsync(file.fileno())
        temp.replace(self.path)
