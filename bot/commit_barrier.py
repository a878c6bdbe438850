"""Nothing leaves before its commit: where the storage commits in groups (PostgreSQL), the
open group is committed before every Bot API request and every e-mail.

A request or e-mail whose update's changes were in a group that failed to commit is not
sent: the barrier raises, and the handler's error reaches the error handlers.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from telegram.request import BaseRequest, RequestData

from bot.mailer import Mail, Mailer

#: The storage's ``committed``: returns once the caller's changes are committed, sharing
#: the commit with the updates ready at the same moment.
Commit = Callable[[], Awaitable[None]]


class PassingRequest(BaseRequest):
    """A Bot API transport that does something first (``before``), then passes each call
    on to ``inner``."""

    def __init__(self, inner: BaseRequest) -> None:
        self.inner = inner

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

    async def before(self, request_data: RequestData | None) -> tuple[int, bytes] | None:
        """What happens before each call; an answer returned here is the call's, and the
        call is not passed on."""
        return None

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
        """``before``, then the call (unless ``before`` answered it)."""
        answered = await self.before(request_data)
        if answered is not None:
            return answered
        return await self.inner.do_request(
            url, method, request_data, read_timeout, write_timeout, connect_timeout, pool_timeout
        )


class CommittingRequest(PassingRequest):
    """A Bot API transport that commits the storage's open group before each call."""

    def __init__(self, inner: BaseRequest, commit: Commit) -> None:
        super().__init__(inner)
        self._commit = commit

    async def before(self, request_data: RequestData | None) -> None:
        """Commit."""
        await self._commit()


class CommittingMailer:
    """A mailer that commits the storage's open group before each e-mail."""

    def __init__(self, inner: Mailer, commit: Commit) -> None:
        self.inner = inner
        self._commit = commit

    async def send(self, mail: Mail) -> None:
        """Commit, then send."""
        await self._commit()
        await self.inner.send(mail)
