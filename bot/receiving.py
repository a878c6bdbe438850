"""Exactly one of several bot processes polls Telegram: the others' ``getUpdates`` waits
until this one is the receiver (``Processes.receiving``), for as long as it takes.

Telegram answers two processes polling one bot with 409 Conflict; waiting in front of the
call instead keeps PTB's updater as it is in every process, so that the one that takes the
role when the receiver dies continues at once (Telegram hands it what the dead one had
not confirmed; the inbox drops what was stored before).

PTB's updater ends with one more ``getUpdates`` without waiting (timeout 0) to confirm what
it fetched. A process that is not the receiver fetched nothing, so that call is answered
here with no updates: waiting for the role would hold its stop until it is killed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from telegram.request import BaseRequest, RequestData

from bot.commit_barrier import PassingRequest

#: Seconds between a waiting process's attempts to become the receiver.
RECEIVER_POLL = 0.5
#: Telegram's answer when there is nothing new.
NO_UPDATES = b'{"ok": true, "result": []}'


class ReceivingRequest(PassingRequest):
    """The ``getUpdates`` transport of a process that may not be the receiver yet."""

    def __init__(
        self, inner: BaseRequest, receiving: Callable[[], bool], before: Callable[[], None]
    ) -> None:
        super().__init__(inner)
        self._receiving = receiving
        self._before = before

    async def before(
        self, url: str, method: str, request_data: RequestData | None
    ) -> tuple[int, bytes] | None:
        """Wait until this process is the receiver; commit what the last call brought (the
        inbox), which this call confirms to Telegram. The last call at stop (no long poll)
        is answered here with nothing where this process is not the receiver."""
        polling = request_data is not None and request_data.parameters.get("timeout")
        if not polling and not self._receiving():
            return 200, NO_UPDATES
        # A lock held by a process that may die any moment: nothing to wait on but time.
        while not self._receiving():  # noqa: ASYNC110
            await asyncio.sleep(RECEIVER_POLL)
        self._before()
        return None
