"""Nothing leaves before its commit: where the storage commits in groups (PostgreSQL), the
open group is committed before every Bot API request that tells anyone anything, and
before every e-mail.

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

    async def before(
        self, url: str, method: str, request_data: RequestData | None
    ) -> tuple[int, bytes] | None:
        """What happens before each call (``method`` is HTTP's: PTB posts Bot API calls
        and gets files); an answer returned here is the call's, and the call is not passed
        on."""
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
        answered = await self.before(url, method, request_data)
        if answered is not None:
            return answered
        return await self.inner.do_request(
            url, method, request_data, read_timeout, write_timeout, connect_timeout, pool_timeout
        )


#: Bot API methods that only read (a file's path, the bot's or a chat's details): they
#: tell nobody anything, so they need no commit first. A commit also ends the user's lock
#: and what was read under it, to be read again after (an upload: getFile, the download,
#: then the registration).
READS = frozenset({"getFile", "getMe", "getChat", "getChatMember", "getChatAdministrators"})


def tells_nobody(url: str, method: str, request_data: RequestData | None) -> bool:
    """Whether the call reveals nothing the bot stored: a read, a file's download (PTB's
    only GET), or a button press answered without a text (the spinner stops, nothing is
    said)."""
    name = url.rpartition("/")[2]
    if method == "GET" or name in READS:
        return True
    if name == "answerCallbackQuery" and request_data is not None:
        shown = request_data.parameters
        return not shown.get("text") and not shown.get("url")
    return False


class CommittingRequest(PassingRequest):
    """A Bot API transport that commits the storage's open group before each call that
    tells anyone anything (``tells_nobody``)."""

    def __init__(self, inner: BaseRequest, commit: Commit) -> None:
        super().__init__(inner)
        self._commit = commit

    async def before(self, url: str, method: str, request_data: RequestData | None) -> None:
        """Commit, unless the call tells nobody anything."""
        if not tells_nobody(url, method, request_data):
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
