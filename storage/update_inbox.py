"""The application's update queue, storing each update in the ``Inbox`` first.

PTB's updater puts every update it fetches into the application's queue and confirms it to
Telegram with its next ``getUpdates`` call; its webhook server answers Telegram once the put
returns. Storing the update inside ``put`` therefore means Telegram is told only after the
update is committed: an update handed over is never lost to a crash. An update whose id the
inbox already holds (Telegram handing it over again after a crash) is not queued twice.

Where several processes share the storage (``Processes``), a stored update is not handled
by the process that received it but by whichever claims it (``claim_loop``): each process
takes the oldest unhandled update of users no other process holds, hands it to the
application, and after its commit (``finished``) the user's next one, or lets the user go.
A single process (``processes`` None) queues what it stores, and at start-up what a process
before it stored and did not handle (``replay``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from telegram import Bot, Update

from bot.update_order import sender_of
from storage.protocols import Inbox, Processes

log = logging.getLogger(__name__)

#: Users whose updates one process handles at once: the rest is left to the others.
CLAIM_LIMIT = 64
#: Seconds between looks at the inbox when no news comes (a process that died lets go of
#: its users silently: this is how soon another one continues them).
CLAIM_POLL = 0.5
#: Attempts at an update whose changes failed to commit before it is given up (logged).
ATTEMPTS = 3


def _sender(update: object) -> int:
    """Whose updates an update is in line with: its user's id, or 0 without a user."""
    return sender_of(update) or 0


class InboxQueue(asyncio.Queue[object]):
    """An ``asyncio.Queue`` of updates that go through ``inbox``."""

    def __init__(
        self, inbox: Inbox, commit: Callable[[], None], processes: Processes | None = None
    ) -> None:
        super().__init__()
        self.inbox = inbox
        self.processes = processes
        self._commit = commit
        self._wake = asyncio.Event()
        #: Set by the polling transport, which commits before each ``getUpdates`` (the call
        #: that confirms the updates before it): one commit for a whole batch.
        self.committed_by_poll = False
        self._failures: dict[int, int] = {}  # update id -> failed commits here
        self._holding: set[int] = set()  # the senders this process holds
        self.bot: Bot | None = None
        #: Callbacks run on a topic's news, with what follows the topic's name after a colon
        #: ("outbox:<registration id>": the job leader delivers it at once).
        self.listeners: dict[str, list[Callable[[str | None], object]]] = {}

    async def put(self, item: object) -> None:
        """Store an update (committed), then queue it; drop one the inbox has seen."""
        if isinstance(item, Update):
            new = self.inbox.add(item.update_id, item.to_dict(), _sender(item))
            if not self.committed_by_poll:
                self._commit()
            if not new:
                return
            if self.processes is not None:
                # Claimed like every other process's (claim_loop), once committed: the
                # commit's notice wakes every process.
                return
        await super().put(item)

    def before_poll(self) -> None:
        """Commit what was stored before Telegram is told (by the next ``getUpdates``)."""
        self.committed_by_poll = True
        self._commit()

    async def replay(self, bot: Bot) -> int:
        """Queue the updates a previous process stored and did not handle; how many."""
        waiting = self.inbox.waiting()
        for payload in waiting:
            await super().put(Update.de_json(payload, bot))
        return len(waiting)

    def handled(self, update: object) -> None:
        """Mark an update handled (after its changes and persistence are stored). Where
        processes claim updates, only one claimed here is in the inbox to mark."""
        if isinstance(update, Update) and (
            self.processes is None or _sender(update) in self._holding
        ):
            self.inbox.done(update.update_id)

    async def finished(self, update: object, committed: bool) -> None:
        """After an update's commit: queue its user's next update, or let the user go.

        One whose commit failed is next again (handled again), up to ``ATTEMPTS`` times
        here; then it is marked handled, logged, and the user's next one comes."""
        processes = self.processes
        sender = _sender(update)
        if processes is None or not isinstance(update, Update) or sender not in self._holding:
            return  # not claimed here (the offline kit hands updates over directly)
        if not committed:
            tries = self._failures.get(update.update_id, 0) + 1
            self._failures[update.update_id] = tries
            if tries >= ATTEMPTS:
                log.error("update %s given up after %s failed commits", update.update_id, tries)
                self.inbox.done(update.update_id)
                with contextlib.suppress(Exception):
                    self._commit()
        else:
            self._failures.pop(update.update_id, None)
        payload = processes.next_for(sender)
        if payload is not None:
            await super().put(Update.de_json(payload, self.bot))
            return
        processes.release(sender)
        self._holding.discard(sender)
        self._wake.set()  # an update stored while letting go is claimed by the next look

    async def claim_loop(self, bot: Bot) -> None:
        """Claim stored updates whenever there is news, and every ``CLAIM_POLL`` seconds."""
        processes = self.processes
        assert processes is not None, "only where processes share the storage"
        self.bot = bot
        listener = asyncio.create_task(self._listen(processes), name="inbox news")
        try:
            while True:
                for payload in processes.claim(CLAIM_LIMIT - len(self._holding)):
                    update = Update.de_json(payload, bot)
                    self._holding.add(_sender(update))
                    await super().put(update)
                self._wake.clear()
                # Not wait_for: its inner task could outlive this task's cancellation at stop
                # (seen as a stop that never ended); a timeout scope cancels the wait itself.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(CLAIM_POLL):
                        await self._wake.wait()
        finally:
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listener

    async def _listen(self, processes: Processes) -> None:
        while True:
            try:
                topics = await processes.news(CLAIM_POLL)
            except Exception:
                log.warning("listening for news failed; looking every %s s", CLAIM_POLL)
                await asyncio.sleep(CLAIM_POLL)
                continue
            if "inbox" in topics:
                self._wake.set()
            for topic in topics:
                name, _, detail = topic.partition(":")
                for listener in self.listeners.get(name, ()):
                    listener(detail or None)
