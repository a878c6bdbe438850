"""Nothing leaves before its commit: where the storage commits in groups (PostgreSQL), the
open group is committed before every Bot API request and every e-mail.

A request or e-mail whose update's changes were in a group that failed to commit is not
sent: the barrier raises, and the handler's error reaches the error handlers.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from telegram.request import BaseRequest

from bot.mailer import Mail, Mailer
from bot.wrapped_request import WrappedRequest

#: The storage's ``committed``: returns once the caller's changes are committed, sharing
#: the commit with the updates ready at the same moment.
Commit = Callable[[], Awaitable[None]]


class CommittingRequest(WrappedRequest):
    """A Bot API transport that commits the storage's open group before each call."""

    def __init__(self, inner: BaseRequest, commit: Commit) -> None:
        super().__init__(inner)
        self._commit = commit

    async def before(self) -> None:
        """Commit (the caller's changes, shared with the others ready)."""
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
