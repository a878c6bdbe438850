"""Nothing leaves before its commit: where the storage commits in groups (PostgreSQL), the
open group is committed before every Bot API request and every e-mail.

A request or e-mail whose update's changes were in a group that failed to commit is not
sent: the barrier raises, and the handler's error reaches the error handlers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from telegram.request import BaseRequest, RequestData

from bot.mailer import Mail, Mailer


async def _barrier(commit: Callable[[], None]) -> None:
    # Let the updates that are ready add their changes first: they share the commit.
    await asyncio.sleep(0)
    commit()


class CommittingRequest(BaseRequest):
    """A Bot API transport that commits the storage's open group before each call."""

    def __init__(self, inner: BaseRequest, commit: Callable[[], None]) -> None:
        self.inner = inner
        self._commit = commit

    async def initialize(self) -> None:
        """Open the inner transport."""
        await self.inner.initialize()

    async def shutdown(self) -> None:
        """Close the inner transport."""
        await self.inner.shutdown()

    @property
    def read_timeout(self) -> float | None:
        """The inner transport's read timeout."""
        return self.inner.read_timeout

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Commit, then make the call."""
        await _barrier(self._commit)
        return await self.inner.do_request(
            url, method, request_data, read_timeout, write_timeout, connect_timeout, pool_timeout
        )


class CommittingMailer:
    """A mailer that commits the storage's open group before each e-mail."""

    def __init__(self, inner: Mailer, commit: Callable[[], None]) -> None:
        self.inner = inner
        self._commit = commit

    async def send(self, mail: Mail) -> None:
        """Commit, then send."""
        await _barrier(self._commit)
        await self.inner.send(mail)
