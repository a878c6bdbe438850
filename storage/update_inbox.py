"""The application's update queue, storing each update in the ``Inbox`` first.

PTB's updater puts every update it fetches into the application's queue and confirms it to
Telegram with its next ``getUpdates`` call; its webhook server answers Telegram once the put
returns. Storing the update inside ``put`` therefore means Telegram is told only after the
update is committed: an update handed over is never lost to a crash, and the process that
takes over hands the waiting ones to the application again (``replay``) before new ones.
An update whose id the inbox already holds (Telegram handing it over again after a crash)
is not queued twice.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from telegram import Bot, Update

from storage.protocols import Inbox


class InboxQueue(asyncio.Queue[object]):
    """An ``asyncio.Queue`` of updates that go through ``inbox``."""

    def __init__(self, inbox: Inbox, commit: Callable[[], None]) -> None:
        super().__init__()
        self.inbox = inbox
        self._commit = commit

    async def put(self, item: object) -> None:
        """Store an update (committed), then queue it; drop one the inbox has seen."""
        if isinstance(item, Update):
            new = self.inbox.add(item.update_id, item.to_dict())
            self._commit()
            if not new:
                return
        await super().put(item)

    async def replay(self, bot: Bot) -> int:
        """Queue the updates a previous process stored and did not handle; how many."""
        waiting = self.inbox.waiting()
        for payload in waiting:
            await super().put(Update.de_json(payload, bot))
        return len(waiting)

    def handled(self, update: object) -> None:
        """Mark an update handled (after its changes and persistence are stored)."""
        if isinstance(update, Update):
            self.inbox.done(update.update_id)
