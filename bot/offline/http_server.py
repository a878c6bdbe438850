"""The fake Bot API over HTTP on 127.0.0.1, for a bot that runs in another process.

`BotApiServer` is a thin tornado adapter over `FakeBotAPI`: every Bot API call and file download
is answered by the same fake as in-process (same checks, same records in `server.api`), so a test
can start `python -m bot run` with ``TELEGRAM_API_BASE_URL=server.base_url`` and
``TELEGRAM_API_BASE_FILE_URL=server.base_file_url`` and read what the bot sent.

The one thing the in-process fake leaves to `Application.process_update` is handing out
updates. Here `getUpdates` long-polls an `UpdateQueue` with Telegram's rules: an update stays
until a ``getUpdates`` with a higher offset confirms it, so a bot killed before confirming gets
it again on restart (at-least-once, as with Telegram). `HttpTelegram` is the offline kit's
people and groups, whose actions go into that queue instead of straight into an application.

The server runs on the caller's asyncio loop (tornado uses it), listens on 127.0.0.1 only, and
everything it touches (the fake, the queue) is used from that one loop: no locks needed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from typing import Any, Final

import tornado.httpserver
import tornado.netutil
import tornado.web
from telegram import InputFile
from telegram.error import TimedOut
from telegram.request import RequestData

# RequestData is built from these by PTB itself; building it the same way hands the fake
# exactly what an in-process call would (parameters and multipart files).
from telegram.request._requestparameter import RequestParameter

from bot.offline.people import OfflineTelegram
from bot.offline.records import BotMessage, JSONDict
from bot.offline.transport import FakeBotAPI

HOST: Final = "127.0.0.1"
#: Longest long poll the server grants (Telegram caps ``timeout`` the same way).
MAX_POLL_SECONDS: Final = 50.0
CONFLICT: Final = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)


def _number(value: object, default: float) -> float:
    with contextlib.suppress(TypeError, ValueError):
        return float(str(value))
    return default


class UpdateQueue:
    """Updates waiting for the bot, confirmed by offset as Telegram does."""

    def __init__(self) -> None:
        self._pending: list[JSONDict] = []  # unconfirmed, oldest first
        self._next_id = 1
        self._changed = asyncio.Event()
        self.deliveries: dict[int, int] = {}  # update id -> times handed out
        self.polls = 0  # getUpdates calls answered or waiting

    def put(self, payload: JSONDict) -> int:
        """Queue an update (without update_id); returns the id it was given."""
        update_id = self._next_id
        self._next_id += 1
        self._pending.append({"update_id": update_id, **payload})
        self._wake()
        return update_id

    @property
    def pending(self) -> list[JSONDict]:
        """Unconfirmed updates, oldest first: handed out or not, the bot may get them (again)."""
        return list(self._pending)

    def confirm(self, offset: int) -> None:
        """Forget what an offset confirms: ids below it, or all but the last -offset."""
        if offset > 0:
            self._pending = [u for u in self._pending if u["update_id"] >= offset]
        elif offset < 0:
            self._pending = self._pending[offset:]

    def drop(self) -> None:
        """Forget every pending update (deleteWebhook with drop_pending_updates)."""
        self._pending.clear()

    async def get(
        self, offset: int, limit: int, seconds: float, stop: asyncio.Event | None = None
    ) -> list[JSONDict]:
        """Confirm by ``offset``, then the next ``limit`` updates, waiting up to ``seconds``
        for one (the long poll's timeout) unless ``stop`` is set first."""
        self.polls += 1
        self.confirm(offset)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + min(max(seconds, 0.0), MAX_POLL_SECONDS)
        while not self._pending and (stop is None or not stop.is_set()):
            left = deadline - loop.time()
            if left <= 0:
                break
            changed = asyncio.ensure_future(self._changed.wait())
            waiters: set[asyncio.Future[Any]] = {changed}
            if stop is not None:
                waiters.add(asyncio.ensure_future(stop.wait()))
            try:
                await asyncio.wait(waiters, timeout=left, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for waiter in waiters:
                    waiter.cancel()
        if stop is not None and stop.is_set():
            return []
        batch = self._pending[: max(1, min(limit, 100))]
        for update in batch:
            update_id = int(update["update_id"])
            self.deliveries[update_id] = self.deliveries.get(update_id, 0) + 1
        return batch

    def _wake(self) -> None:
        # A fresh event per change: waiters of the old one wake, later waiters wait anew.
        self._changed.set()
        self._changed = asyncio.Event()


class _Handler(tornado.web.RequestHandler):
    """One Bot API call or file download, answered by the server's FakeBotAPI."""

    def initialize(self, server: BotApiServer) -> None:
        self.server = server
        self.gone = asyncio.Event()  # the client hung up (killed, timed out)

    def on_connection_close(self) -> None:
        self.gone.set()

    async def get(self, token: str, method: str) -> None:
        """A call by GET (query parameters), or a file download under /file/."""
        await self._serve(token, method)

    async def post(self, token: str, method: str) -> None:
        """A call by POST: form, multipart (uploads) or JSON body."""
        await self._serve(token, method)

    async def _serve(self, token: str, method: str) -> None:
        call = int(method != "getUpdates")
        self.server.busy(+1, call)
        try:
            if not self.server.accepts(token):
                self._json(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
            elif self.request.path.startswith("/file/"):
                status, body = await self.server.api.do_request(self.request.full_url(), "GET")
                self._reply(status, body, "application/octet-stream" if status == 200 else None)
            elif method == "getUpdates":
                await self._get_updates()
            else:
                await self._call(token, method)
        finally:
            self.server.busy(-1, -call)

    def _params(self) -> JSONDict:
        """The call's parameters as the client sent them (form values stay strings; the fake
        reads JSON-encoded objects and numeric strings, as Telegram does)."""
        content_type = self.request.headers.get("Content-Type", "")
        if content_type.startswith("application/json") and self.request.body:
            body = json.loads(self.request.body)
            return dict(body) if isinstance(body, dict) else {}
        return {k: v[-1].decode() for k, v in self.request.arguments.items() if v}

    def _request_data(self, params: JSONDict) -> RequestData:
        """The call as PTB would have handed it to an in-process ``BaseRequest``."""
        parameters = [RequestParameter(name, value, None) for name, value in params.items()]
        for name, uploads in self.request.files.items():
            upload = uploads[-1]
            item = InputFile(upload.body, filename=upload.filename or None)
            item.mimetype = upload.content_type or item.mimetype
            parameters.append(RequestParameter(name, None, [item]))
        return RequestData(parameters)

    async def _call(self, token: str, method: str) -> None:
        params = self._params()
        url = f"{self.server.base_url}{token}/{method}"
        try:
            status, body = await self.server.api.do_request(url, "POST", self._request_data(params))
        except TimedOut:
            # A fault of kind "timeout": over HTTP the client gets no answer until it gives up.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(_first_of(self.gone, self.server.stopping), MAX_POLL_SECONDS)
            return
        if (
            method == "deleteWebhook"
            and status == 200
            and _truthy(params.get("drop_pending_updates"))
        ):
            self.server.updates.drop()
        self._reply(status, body)

    async def _get_updates(self) -> None:
        params = self._params()
        # A newer poll ends the one still waiting, as Telegram does (the old one gets 409).
        superseded = self.server.current_poll
        if superseded is not None:
            superseded.set()
        conflict = asyncio.Event()
        self.server.current_poll = conflict
        stop = asyncio.Event()
        relay = asyncio.ensure_future(_first_of(stop, conflict, self.gone, self.server.stopping))
        try:
            updates = await self.server.updates.get(
                int(_number(params.get("offset"), 0)),
                int(_number(params.get("limit"), 100)),
                _number(params.get("timeout"), 0),
                stop,
            )
        finally:
            relay.cancel()
            if self.server.current_poll is conflict:
                self.server.current_poll = None
        if self.gone.is_set():
            return  # nobody to answer; the updates stay pending until confirmed
        if conflict.is_set():
            self._json(409, {"ok": False, "error_code": 409, "description": CONFLICT})
            return
        self._json(200, {"ok": True, "result": updates})

    def _json(self, status: int, body: JSONDict) -> None:
        self._reply(status, json.dumps(body).encode())

    def _reply(self, status: int, body: bytes, content_type: str | None = None) -> None:
        self.set_status(status)
        self.set_header("Content-Type", content_type or "application/json")
        self.finish(body)


async def _first_of(target: asyncio.Event, *events: asyncio.Event) -> None:
    """Set ``target`` as soon as any of ``events`` is set (``target`` alone: wait for it)."""
    waiters = [asyncio.ensure_future(event.wait()) for event in (target, *events)]
    try:
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        target.set()
    finally:
        for waiter in waiters:
            waiter.cancel()


def _truthy(value: object) -> bool:
    return value is True or str(value).lower() in {"true", "1"}


def _no_access_log(handler: tornado.web.RequestHandler) -> None:
    """Tornado logs every request by default; a test's log needs none of them."""


class BotApiServer:
    """The fake Bot API on ``http://127.0.0.1:<port>``; use ``async with`` or start/stop."""

    def __init__(
        self, api: FakeBotAPI | None = None, *, token: str | None = None, port: int = 0
    ) -> None:
        self.api = api or FakeBotAPI()
        self.token = token  # None: any token is accepted
        self.updates = UpdateQueue()
        self.current_poll: asyncio.Event | None = None
        self.stopping = asyncio.Event()  # ends waiting polls and stalled calls
        self.active = 0  # requests being answered
        self.calls = 0  # of them, calls other than getUpdates (long polls)
        self._idle = asyncio.Event()
        self._idle.set()
        self._port = port
        self._server: tornado.httpserver.HTTPServer | None = None
        self._sockets: list[socket.socket] = []

    @property
    def port(self) -> int:
        """The port listened on (known once started)."""
        if not self._sockets:
            raise RuntimeError("the server is not started")
        return int(self._sockets[0].getsockname()[1])

    @property
    def base_url(self) -> str:
        """TELEGRAM_API_BASE_URL for the bot (the token follows)."""
        return f"http://{HOST}:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        """TELEGRAM_API_BASE_FILE_URL for the bot."""
        return f"http://{HOST}:{self.port}/file/bot"

    def busy(self, change: int, calls: int = 0) -> None:
        """Count a request in (+1) or out (-1), and a call other than getUpdates."""
        self.active += change
        self.calls += calls
        if self.active:
            self._idle.clear()
        else:
            self._idle.set()

    async def idle(self, seconds: float) -> bool:
        """Wait until no request is being answered; False if one still is after ``seconds``."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), seconds)
        return not self.active

    def accepts(self, token: str) -> bool:
        """Whether a request's token is the bot's."""
        return self.token is None or token == self.token

    async def start(self) -> None:
        """Listen on 127.0.0.1 (the port given, or a free one)."""
        routes: list[Any] = [
            (r"/bot([^/]+)/([A-Za-z]+)", _Handler, {"server": self}),
            (r"/file/bot([^/]+)/(.+)", _Handler, {"server": self}),
        ]
        application = tornado.web.Application(routes, log_function=_no_access_log)
        self._sockets = tornado.netutil.bind_sockets(self._port, HOST, family=socket.AF_INET)
        self._server = tornado.httpserver.HTTPServer(application)
        self._server.add_sockets(self._sockets)

    async def stop(self, wait: float = 2.0) -> None:
        """Stop listening, end waiting polls and open connections."""
        if self._server is None:
            return
        server, self._server = self._server, None
        server.stop()
        self.stopping.set()
        await server.close_all_connections()
        await self.idle(wait)
        self._sockets = []

    async def __aenter__(self) -> BotApiServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()


class HttpTelegram(OfflineTelegram):
    """The offline kit's people and groups, for a bot in another process: each action queues
    its update on the server and returns at once (the bot answers when it polls)."""

    def __init__(self, server: BotApiServer) -> None:
        super().__init__(server.api)
        self.server = server
        self.last_update: JSONDict = {}  # the latest action's update, with its update_id

    async def feed(self, payload: JSONDict) -> list[BotMessage]:
        """Queue the update for the bot's next getUpdates; nothing is answered yet."""
        update_id = self.server.updates.put(payload)
        self.last_update = {"update_id": update_id, **payload}
        return []
