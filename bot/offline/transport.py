"""An in-process Telegram Bot API: PTB talks to it instead of the network, in tests and the console.

`FakeBotAPI` is a `telegram.request.BaseRequest`, so the whole PTB stack (Bot, ExtBot, shortcuts
such as `message.reply_text`, `File.download_as_bytearray`) runs unchanged on top of it. It keeps
the state a real chat would show (every bot message as it stands now, uploaded files, callback
answers, commands) and a record of every call. It also refuses what Telegram refuses, so bugs show
up here and not in production: over-long texts, bad HTML, callback data over 64 bytes, edits that
change nothing, a callback query answered twice, unknown chats, and methods it does not know.
"""

import asyncio
import html
import json
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import IO, Any, Final, Literal

from telegram.error import TimedOut
from telegram.request import BaseRequest, RequestData

from bot.offline.ids import RisingIds

JSONDict = dict[str, Any]

BOT_ID: Final = 1000
BOT_USERNAME: Final = "onboarding_test_bot"
OFFLINE_TOKEN: Final = f"{BOT_ID}:OFFLINE-TEST-TOKEN"
BOT_USER: Final[JSONDict] = {
    "id": BOT_ID,
    "is_bot": True,
    "first_name": "Onboarding",
    "username": BOT_USERNAME,
}

MAX_TEXT: Final = 4096
MAX_CAPTION: Final = 1024
MAX_CALLBACK_DATA: Final = 64
MAX_DOWNLOAD: Final = 20 * 1024 * 1024
MAX_UPLOAD: Final = 50 * 1024 * 1024
MAX_PHOTO: Final = 10 * 1024 * 1024
DOWNLOAD: Final = "downloadFile"  # pseudo method name of a file download (a GET), for faults

FaultKind = Literal["forbidden", "bad_request", "retry_after", "server_error", "timeout"]
Listener = Callable[["SentCall"], None]
Answer = tuple[Any, list["BotMessage"]]  # the Bot API result and the messages it touched


class ApiError(Exception):
    """A refusal the fake answers with, as Telegram would: HTTP status and description."""

    def __init__(self, status: int, description: str, parameters: JSONDict | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters


def _bad(description: str) -> ApiError:
    return ApiError(400, f"Bad Request: {description}")


# --- Telegram HTML --------------------------------------------------------------------------

_TAG = re.compile(
    r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)"
    r"((?:\s+[a-zA-Z][a-zA-Z0-9-]*(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s\"'>]+))?)*)\s*>"
)
_ATTR = re.compile(r"([a-zA-Z][a-zA-Z0-9-]*)(?:\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s\"'>]+)))?")
_SPECIAL = re.compile(r"[<&]")
_CHAR_REF = re.compile(r"&(#[0-9]+|#[xX][0-9a-fA-F]+|lt|gt|amp|quot);")
_TAG_ENTITY: Final = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "code": "code",
    "pre": "pre",
    "a": "text_link",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram's offsets and limits."""
    return len(text.encode("utf-16-le")) // 2


def _open_entity(name: str, attrs: str, offset: int) -> JSONDict:
    values = {m[1].lower(): m[2] or m[3] or m[4] or "" for m in _ATTR.finditer(attrs)}
    entity: JSONDict = {"type": _TAG_ENTITY[name]}
    if name == "span" and values.get("class") != "tg-spoiler":
        raise ValueError(f'unsupported start tag "span" at byte offset {offset}')
    if name == "a":
        entity["url"] = values.get("href", "")
    if name == "tg-emoji":
        entity["custom_emoji_id"] = values.get("emoji-id", "")
    if name == "blockquote" and "expandable" in values:
        entity["type"] = "expandable_blockquote"
    if name == "code" and values.get("class", "").startswith("language-"):
        entity["language"] = values["class"].removeprefix("language-")
    return entity


def parse_html(source: str) -> tuple[str, list[JSONDict]]:
    """Plain text and entities of a Telegram-HTML text; ValueError as Telegram would refuse it."""
    out: list[str] = []
    units = 0
    stack: list[tuple[str, int, JSONDict]] = []
    entities: list[JSONDict] = []
    i = 0
    while i < len(source):
        special = _SPECIAL.search(source, i)
        end = len(source) if special is None else special.start()
        if end > i:
            # Plain text up to the next tag or character reference, in one piece.
            chunk = source[i:end]
            out.append(chunk)
            units += utf16_len(chunk)
            i = end
            continue
        if source[i] == "&":
            ref = _CHAR_REF.match(source, i)
            char = "&" if ref is None else html.unescape(ref[0])
            i = i + 1 if ref is None else ref.end()
            out.append(char)
            units += utf16_len(char)
            continue
        offset = len(source[:i].encode())  # for the error messages, as Telegram gives them
        match = _TAG.match(source, i)
        if match is None:
            raise ValueError(f'unexpected "<" at byte offset {offset}')
        closing, name = match[1] == "/", match[2].lower()
        if name not in _TAG_ENTITY:
            kind = "end" if closing else "start"
            raise ValueError(f'unsupported {kind} tag "{name}" at byte offset {offset}')
        if not closing:
            stack.append((name, units, _open_entity(name, match[3], offset)))
        elif not stack or stack[-1][0] != name:
            raise ValueError(f'unmatched end tag "{name}" at byte offset {offset}')
        else:
            _, start, entity = stack.pop()
            # Telegram folds <pre><code class="language-x"> into one pre entity.
            if name == "code" and stack and stack[-1][0] == "pre":
                if "language" in entity:
                    stack[-1][2]["language"] = entity["language"]
            elif units > start and (name != "a" or entity["url"]):
                if name == "code":
                    entity.pop("language", None)  # only a pre entity carries a language
                entities.append({**entity, "offset": start, "length": units - start})
        i = match.end()
    if stack:
        raise ValueError(f'can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def html_to_text(source: str) -> str:
    """Readable plain text of a Telegram-HTML string, tolerant of markup Telegram would refuse."""
    try:
        return parse_html(source)[0]
    except ValueError:
        return html.unescape(re.sub(r"<[^<>]*>", "", source))


# --- records --------------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredFile:
    """A file the fake holds: uploaded by a person or sent by the bot."""

    file_id: str
    file_unique_id: str
    data: bytes
    file_name: str | None
    mime_type: str | None
    file_path: str

    @property
    def size(self) -> int:
        """Size in bytes."""
        return len(self.data)


def _button_text(button: object) -> str:
    return str(button["text"]) if isinstance(button, dict) else str(button)


@dataclass(frozen=True)
class BotMessage:
    """One bot message as it stood at a moment: text, buttons, attachments."""

    chat_id: int
    message_id: int
    text: str  # text or caption, plain: what the person reads
    source: str  # text or caption exactly as the bot passed it (HTML intact)
    markup: JSONDict | None  # reply_markup as sent: inline keyboard or reply keyboard
    raw: JSONDict  # the Bot API Message as PTB received it
    edited: bool = False
    method: str = ""

    @property
    def rows(self) -> list[list[Any]]:
        """Button rows as sent (dicts), inline or reply keyboard."""
        if not self.markup:
            return []
        rows = self.markup.get("inline_keyboard") or self.markup.get("keyboard") or []
        return [list(row) for row in rows]

    @property
    def buttons(self) -> list[list[str]]:
        """Button texts, row by row."""
        return [[_button_text(b) for b in row] for row in self.rows]

    @property
    def is_inline(self) -> bool:
        """Whether the buttons are an inline keyboard (else a reply keyboard or none)."""
        return bool(self.markup and "inline_keyboard" in self.markup)

    def has_button(self, text: str) -> bool:
        """Whether a button has exactly this text."""
        return any(text in row for row in self.buttons)

    def button(self, text: str) -> JSONDict:
        """The button with exactly this text, as sent."""
        for row in self.rows:
            for button in row:
                if _button_text(button) == text:
                    return button if isinstance(button, dict) else {"text": button}
        raise LookupError(f"no button {text!r} in message {self.message_id}: {self.buttons}")

    def callback_data(self, text: str) -> str:
        """The callback data of the inline button with this text."""
        return str(self.button(text)["callback_data"])

    def url(self, text: str) -> str:
        """The URL of the inline button with this text."""
        return str(self.button(text)["url"])

    @property
    def document(self) -> JSONDict | None:
        """The Document dict, if the message carries one."""
        document: JSONDict | None = self.raw.get("document")
        return document

    @property
    def photo(self) -> JSONDict | None:
        """The largest PhotoSize dict, if the message carries a photo."""
        sizes: list[JSONDict] = self.raw.get("photo") or []
        return sizes[-1] if sizes else None


@dataclass(frozen=True)
class SentCall:
    """One Bot API call the fake answered, or refused (then `error` says why)."""

    method: str
    chat_id: int | None
    params: JSONDict
    messages: tuple[BotMessage, ...] = ()  # messages the call created or changed, as they stood
    result: Any = None
    error: str | None = None

    @property
    def message(self) -> BotMessage | None:
        """The first message the call created or changed."""
        return self.messages[0] if self.messages else None


@dataclass
class Fault:
    """A failure to inject: which calls it hits, how, and how many times (None: until removed)."""

    method: str | None
    kind: FaultKind
    count: int | None = 1
    chat_id: int | None = None
    retry_after: int = 5
    description: str | None = None

    def matches(self, method: str, chat_id: int | None) -> bool:
        """Whether this fault hits a call; method None means any call except getUpdates."""
        if self.method is not None and self.method != method:
            return False
        return self.chat_id is None or self.chat_id == chat_id

    def error(self, method: str) -> ApiError | TimedOut:
        """The answer this fault gives instead of the real one."""
        if self.kind == "timeout":
            return TimedOut(f"Timed out (offline kit fault on {method})")
        if self.kind == "forbidden":
            return ApiError(403, self.description or "Forbidden: bot was blocked by the user")
        if self.kind == "retry_after":
            text = f"Too Many Requests: retry after {self.retry_after}"
            return ApiError(429, text, {"retry_after": self.retry_after})
        if self.kind == "server_error":
            return ApiError(502, self.description or "Bad Gateway")
        return ApiError(400, self.description or f"Bad Request: injected failure of {method}")


@dataclass
class _Chat:
    data: JSONDict
    members: dict[int, str] = field(default_factory=dict)


# --- the fake -------------------------------------------------------------------------------


def _int(value: object) -> int | None:
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.lstrip("-").isdigit():
        return int(value)
    return None


def _json(value: object) -> Any:
    # PTB sends TelegramObjects as dicts; other clients may send them JSON-encoded.
    return json.loads(value) if isinstance(value, str) else value


def _read(content: bytes | IO[bytes]) -> bytes:
    if isinstance(content, bytes):
        return content
    if content.seekable():
        content.seek(0)
    return content.read()


class FakeBotAPI(BaseRequest):
    """Answers Bot API calls in-process and remembers what a real chat would show."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.time,
        privacy_mode: bool = True,
        idle_seconds: float = 0.05,
        ids: RisingIds | None = None,
    ) -> None:
        self.clock = clock
        self.ids = ids or RisingIds()  # message ids per chat, and the kit's update ids
        self.privacy_mode = privacy_mode
        self.idle_seconds = idle_seconds  # how long an empty getUpdates waits
        self.sent: list[SentCall] = []
        self.refused: list[SentCall] = []
        self.messages: dict[int, dict[int, BotMessage]] = {}
        self.history: dict[tuple[int, int], JSONDict] = {}  # every message, people's too
        self.files: dict[str, StoredFile] = {}
        self.callback_answers: dict[str, JSONDict | None] = {}
        self.commands: dict[tuple[str, str], list[JSONDict]] = {}
        self.menu_buttons: dict[int | None, JSONDict] = {}
        self.faults: list[Fault] = []
        self.listeners: list[Listener] = []
        self.users: dict[int, JSONDict] = {}
        self._chats: dict[int, _Chat] = {}
        self._keyboards: dict[int, int] = {}  # chat id -> message carrying the reply keyboard
        self._counter = 0
        self._handlers: dict[str, Callable[[JSONDict, dict[str, Any]], Answer]] = {
            "getMe": lambda p, f: (self._me(), []),
            "sendMessage": self._send_message,
            "editMessageText": self._edit_text,
            "editMessageCaption": self._edit_caption,
            "editMessageReplyMarkup": self._edit_markup,
            "deleteMessage": self._delete_message,
            "deleteMessages": self._delete_messages,
            "answerCallbackQuery": self._answer_callback,
            "sendDocument": lambda p, f: self._send_file("document", p, f),
            "sendPhoto": lambda p, f: self._send_file("photo", p, f),
            "sendMediaGroup": self._send_media_group,
            "copyMessage": lambda p, f: self._copy(p, forward=False),
            "forwardMessage": lambda p, f: self._copy(p, forward=True),
            "sendChatAction": self._chat_action,
            "setMyCommands": self._set_commands,
            "deleteMyCommands": self._delete_commands,
            "getMyCommands": lambda p, f: (self.commands.get(self._scope(p), []), []),
            "setChatMenuButton": self._set_menu_button,
            "getChatMenuButton": lambda p, f: (self._menu_button(p), []),
            "getFile": self._get_file,
            "getChat": lambda p, f: (self._full_chat(self._chat_id(p)), []),
            "getChatMember": self._get_chat_member,
        }
        for name in (
            "close",
            "logOut",
            "setWebhook",
            "deleteWebhook",
            "setMyDescription",
            "setMyShortDescription",
            "setMyName",
        ):
            self._handlers[name] = lambda p, f: (True, [])

    # BaseRequest ---------------------------------------------------------------------------

    @property
    def read_timeout(self) -> float | None:
        """Default read timeout PTB adds to a long-polling timeout."""
        return 5.0

    async def initialize(self) -> None:
        """Nothing to open: no network."""

    async def shutdown(self) -> None:
        """Nothing to close: no network."""

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
        """Answer one Bot API call (POST) or file download (GET) as Telegram would."""
        endpoint = DOWNLOAD if method == "GET" else url.rsplit("/", 1)[-1]
        params: JSONDict = dict(request_data.parameters) if request_data else {}
        if method == "GET":
            params = {"url": url}
        files: dict[str, Any] = dict(request_data.multipart_data) if request_data else {}
        if endpoint == "getUpdates":
            # Updates are fed with Application.process_update; a polling loop just idles here.
            await asyncio.sleep(self.idle_seconds)
            return 200, b'{"ok": true, "result": []}'
        chat_id = _int(params.get("chat_id"))
        try:
            self._inject_fault(endpoint, chat_id)
            if method == "GET":
                data = self._download(url)
                self._record(SentCall(endpoint, None, params))
                return 200, data
            handler = self._handlers.get(endpoint)
            if handler is None:
                raise _bad(f"method {endpoint} not supported by the offline kit")
            try:
                result, touched = handler(params, files)
            except (KeyError, TypeError, ValueError) as exc:
                # A malformed call is the bot's bug: answer 400 rather than a network error.
                raise _bad(f"offline kit could not read {endpoint} parameters: {exc!r}") from exc
        except ApiError as exc:
            self._record(SentCall(endpoint, chat_id, params, error=exc.description))
            body: JSONDict = {"ok": False, "error_code": exc.status, "description": exc.description}
            if exc.parameters:
                body["parameters"] = exc.parameters
            return exc.status, json.dumps(body).encode()
        except TimedOut as exc:
            self._record(SentCall(endpoint, chat_id, params, error=str(exc)))
            raise
        self._record(SentCall(endpoint, chat_id, params, tuple(touched), result))
        return 200, json.dumps({"ok": True, "result": result}).encode()

    # faults ------------------------------------------------------------------------------

    def fail_next(
        self,
        method: str | None,
        kind: FaultKind,
        *,
        count: int | None = 1,
        chat_id: int | None = None,
        retry_after: int = 5,
        description: str | None = None,
    ) -> Fault:
        """Make the next `count` matching calls fail (None: until removed); returns the fault."""
        fault = Fault(method, kind, count, chat_id, retry_after, description)
        self.faults.append(fault)
        return fault

    @contextmanager
    def failing(
        self,
        method: str | None,
        kind: FaultKind,
        *,
        chat_id: int | None = None,
        retry_after: int = 5,
        description: str | None = None,
    ) -> Iterator[Fault]:
        """Make every matching call fail while inside the block."""
        fault = self.fail_next(
            method,
            kind,
            count=None,
            chat_id=chat_id,
            retry_after=retry_after,
            description=description,
        )
        try:
            yield fault
        finally:
            if fault in self.faults:
                self.faults.remove(fault)

    def block(self, user_id: int) -> Fault:
        """The user blocks the bot: every call aimed at their chat gets 403 until unblocked."""
        return self.fail_next(None, "forbidden", count=None, chat_id=user_id)

    def unblock(self, user_id: int) -> None:
        """The user unblocks the bot."""
        self.faults = [
            f for f in self.faults if not (f.kind == "forbidden" and f.chat_id == user_id)
        ]

    def _inject_fault(self, method: str, chat_id: int | None) -> None:
        for fault in self.faults:
            if fault.matches(method, chat_id):
                if fault.count is not None:
                    fault.count -= 1
                    if fault.count <= 0:
                        self.faults.remove(fault)
                raise fault.error(method)

    # people's side: chats, users, files, messages -------------------------------------------

    def add_chat(self, chat: JSONDict) -> None:
        """Make a chat known (private chats have the user's id, groups a negative id)."""
        self._chats[int(chat["id"])] = _Chat(dict(chat))

    def add_user(self, user: JSONDict) -> None:
        """Make a user known (for getChatMember and contact cards)."""
        self.users[int(user["id"])] = dict(user)

    def chat(self, chat_id: int) -> JSONDict:
        """The Chat dict of a known chat."""
        if chat_id not in self._chats:
            raise _bad("chat not found")
        return dict(self._chats[chat_id].data)

    def set_member(self, chat_id: int, user_id: int, status: str) -> None:
        """Set a user's status in a group: creator, administrator, member, left or kicked."""
        self._chats[chat_id].members[user_id] = status

    def next_message_id(self, chat_id: int) -> int:
        """Message ids rise per chat and are shared by people and the bot, as in Telegram."""
        return self.ids.next(f"chat {chat_id}")

    def remember(self, message: JSONDict) -> None:
        """Keep a message (a person's, too) so replies, copies and forwards can find it."""
        self.history[(int(message["chat"]["id"]), int(message["message_id"]))] = message

    def add_file(
        self, data: bytes, *, file_name: str | None = None, mime_type: str | None = None
    ) -> tuple[str, str]:
        """Store bytes a person uploads (or the bot sends); returns (file_id, file_unique_id)."""
        self._counter += 1
        n = self._counter
        file_id, unique = f"offline-file-{n}", f"offline-u{n}"
        path = f"offline/{unique}/{file_name or 'file'}"
        self.files[file_id] = StoredFile(file_id, unique, data, file_name, mime_type, path)
        return file_id, unique

    def file(self, file_id: str) -> StoredFile:
        """A stored file by id."""
        if file_id not in self.files:
            raise _bad("invalid file_id")
        return self.files[file_id]

    def document_dict(self, file_id: str) -> JSONDict:
        """The Document dict Telegram would give for a stored file."""
        stored = self.file(file_id)
        doc: JSONDict = {"file_id": file_id, "file_unique_id": stored.file_unique_id}
        if stored.file_name:
            doc["file_name"] = stored.file_name
        if stored.mime_type:
            doc["mime_type"] = stored.mime_type
        return {**doc, "file_size": stored.size}

    def photo_sizes(self, file_id: str) -> list[JSONDict]:
        """PhotoSizes for a stored image: a thumbnail, then the full size (largest last)."""
        stored = self.file(file_id)
        thumb_id, thumb_unique = self.add_file(stored.data, mime_type=stored.mime_type)
        size = {"file_size": stored.size}
        return [
            {"file_id": thumb_id, "file_unique_id": thumb_unique, "width": 320, "height": 240}
            | size,
            {"file_id": file_id, "file_unique_id": stored.file_unique_id}
            | size
            | {"width": 1280, "height": 960},
        ]

    def register_callback_query(self, query_id: str) -> None:
        """Announce a callback query a person made, so the bot may answer it once."""
        self.callback_answers[query_id] = None

    def reply_keyboard(self, chat_id: int) -> BotMessage | None:
        """The message whose reply keyboard the person currently sees in this chat."""
        message_id = self._keyboards.get(chat_id)
        return self.messages.get(chat_id, {}).get(message_id) if message_id else None

    def hide_reply_keyboard(self, chat_id: int) -> None:
        """The client hides a one-time keyboard after it was used."""
        self._keyboards.pop(chat_id, None)

    def calls(self, method: str | None = None, chat_id: int | None = None) -> list[SentCall]:
        """Answered calls, filtered by method and chat."""
        return [
            call
            for call in self.sent
            if (method is None or call.method == method)
            and (chat_id is None or call.chat_id == chat_id)
        ]

    def add_listener(self, listener: Listener) -> Callable[[], None]:
        """Call `listener` with every call answered or refused; returns a remover."""
        self.listeners.append(listener)
        return lambda: self.listeners.remove(listener)

    def _record(self, call: SentCall) -> None:
        (self.refused if call.error else self.sent).append(call)
        for listener in list(self.listeners):
            listener(call)

    # helpers -----------------------------------------------------------------------------

    def _me(self) -> JSONDict:
        return BOT_USER | {
            "can_join_groups": True,
            "can_read_all_group_messages": not self.privacy_mode,
            "supports_inline_queries": False,
        }

    def _chat_id(self, params: JSONDict, key: str = "chat_id") -> int:
        value = params.get(key)
        chat_id = _int(value)
        if chat_id is None and isinstance(value, str) and value.startswith("@"):
            names = {c.data.get("username"): i for i, c in self._chats.items()}
            chat_id = names.get(value[1:])
        if chat_id is None or chat_id not in self._chats:
            raise _bad("chat not found")
        return chat_id

    def _stored(self, chat_id: int, message_id: object) -> BotMessage:
        message = self.messages.get(chat_id, {}).get(_int(message_id) or 0)
        if message is None:
            raise _bad("message to edit not found")
        return message

    def _render(self, params: JSONDict, key: str, limit: int) -> tuple[str, list[JSONDict]]:
        source = str(params.get(key, ""))
        mode = str(params.get("parse_mode") or "").lower()
        if mode == "html":
            try:
                plain, entities = parse_html(source)
            except ValueError as exc:
                raise _bad(f"can't parse entities: {exc}") from exc
        else:
            # MarkdownV2 is not interpreted: the text is kept as sent.
            given = params.get("entities" if key == "text" else "caption_entities")
            plain, entities = source, list(_json(given) or [])
        if key == "text" and not plain.strip():
            raise _bad("message text is empty")
        if utf16_len(plain) > limit:
            raise _bad("message is too long" if key == "text" else "message caption is too long")
        return plain, entities

    def _markup(self, params: JSONDict) -> JSONDict | None:
        markup = _json(params.get("reply_markup"))
        if not markup:
            return None
        for row in markup.get("inline_keyboard", []):
            for button in row:
                data = button.get("callback_data")
                if data is not None and not 1 <= len(str(data).encode()) <= MAX_CALLBACK_DATA:
                    raise _bad("BUTTON_DATA_INVALID")
        return dict(markup)

    def _reply_to(self, chat_id: int, params: JSONDict) -> JSONDict:
        reply = _json(params.get("reply_parameters"))
        if not reply:
            return {}
        target = self.history.get((_int(reply.get("chat_id")) or chat_id, int(reply["message_id"])))
        if target is None:
            if reply.get("allow_sending_without_reply"):
                return {}
            raise _bad("message to be replied not found")
        return {"reply_to_message": {k: v for k, v in target.items() if k != "reply_to_message"}}

    def _new_message(
        self, method: str, chat_id: int, content: JSONDict, params: JSONDict, source: str = ""
    ) -> BotMessage:
        markup = self._markup(params)
        data: JSONDict = {
            "message_id": self.next_message_id(chat_id),
            "date": int(self.clock()),
            "chat": self.chat(chat_id),
            "from": dict(BOT_USER),
            **self._reply_to(chat_id, params),
            **content,
        }
        if thread := params.get("message_thread_id"):
            data["message_thread_id"] = thread
        # Telegram echoes only inline keyboards in the Message; a reply keyboard stays client-side.
        if markup and "inline_keyboard" in markup:
            data["reply_markup"] = markup
        if markup and "keyboard" in markup:
            self._keyboards[chat_id] = data["message_id"]
        elif markup and markup.get("remove_keyboard"):
            self._keyboards.pop(chat_id, None)
        message = BotMessage(chat_id, data["message_id"], "", source, markup, data, method=method)
        return self._store(message)

    def _store(self, message: BotMessage) -> BotMessage:
        raw = message.raw
        message = replace(message, text=str(raw.get("text", raw.get("caption", ""))))
        self.messages.setdefault(message.chat_id, {})[message.message_id] = message
        self.remember(raw)
        return message

    def _text_content(self, params: JSONDict, key: str, limit: int) -> JSONDict:
        if key not in params and key != "text":
            return {}
        plain, entities = self._render(params, key, limit)
        content: JSONDict = {key: plain}
        if entities:
            content["entities" if key == "text" else "caption_entities"] = entities
        return content

    # sending -----------------------------------------------------------------------------

    def _send_message(self, params: JSONDict, files: dict[str, Any]) -> Answer:
        chat_id = self._chat_id(params)
        content = self._text_content(params, "text", MAX_TEXT)
        source = str(params.get("text", ""))
        message = self._new_message("sendMessage", chat_id, content, params, source)
        return message.raw, [message]

    def _upload(self, value: object, files: dict[str, Any], kind: str) -> str:
        """The file id of an uploaded file, an attach:// reference or a known file id."""
        name = str(value).removeprefix("attach://") if value else kind
        if value is None or str(value).startswith("attach://"):
            if name not in files:
                raise _bad(f"there is no {kind} in the request")
            file_name, content, mime_type = files[name]
            data = _read(content)
            if len(data) > (MAX_PHOTO if kind == "photo" else MAX_UPLOAD):
                raise ApiError(413, "Request Entity Too Large")
            file_name = None if kind == "photo" else file_name
            return self.add_file(data, file_name=file_name, mime_type=mime_type)[0]
        if str(value) not in self.files:
            # URLs would need the network; an unknown id is what Telegram refuses too.
            raise _bad("wrong file identifier/HTTP URL specified")
        return str(value)

    def _media(self, kind: str, file_id: str) -> JSONDict:
        if kind == "photo":
            return {"photo": self.photo_sizes(file_id)}
        return {"document": self.document_dict(file_id)}

    def _send_file(self, kind: str, params: JSONDict, files: dict[str, Any]) -> Answer:
        chat_id = self._chat_id(params)
        file_id = self._upload(params.get(kind), files, kind)
        content = self._media(kind, file_id) | self._text_content(params, "caption", MAX_CAPTION)
        method = "sendPhoto" if kind == "photo" else "sendDocument"
        source = str(params.get("caption", ""))
        message = self._new_message(method, chat_id, content, params, source)
        return message.raw, [message]

    def _send_media_group(self, params: JSONDict, files: dict[str, Any]) -> Answer:
        chat_id = self._chat_id(params)
        media = list(_json(params.get("media")) or [])
        if not 2 <= len(media) <= 10:
            raise _bad("wrong number of media specified: must be 2-10")
        kinds = {item["type"] for item in media}
        if "document" in kinds and len(kinds) > 1:
            raise _bad("document can't be mixed with other media types")
        self._counter += 1
        group_id = f"offline-album-{self._counter}"
        messages = []
        for item in media:
            kind = "photo" if item["type"] == "photo" else "document"
            file_id = self._upload(item.get("media"), files, kind)
            content = self._media(kind, file_id) | {"media_group_id": group_id}
            content |= self._text_content(item, "caption", MAX_CAPTION)
            source = str(item.get("caption", ""))
            messages.append(self._new_message("sendMediaGroup", chat_id, content, {}, source))
        return [m.raw for m in messages], messages

    def _copy(self, params: JSONDict, *, forward: bool) -> Answer:
        chat_id = self._chat_id(params)
        from_chat = self._chat_id(params, "from_chat_id")
        original = self.history.get((from_chat, _int(params.get("message_id")) or 0))
        if original is None:
            raise _bad(f"message to {'forward' if forward else 'copy'} not found")
        skip = {"message_id", "date", "chat", "from", "reply_markup", "reply_to_message"}
        skip |= {"edit_date", "forward_origin", "message_thread_id", "media_group_id"}
        content = {k: v for k, v in original.items() if k not in skip}
        if forward:
            origin = {"type": "user", "sender_user": original["from"], "date": original["date"]}
            content["forward_origin"] = origin
            params = {k: v for k, v in params.items() if k != "reply_markup"}
        elif "caption" in params and "caption" in original | content:
            content.pop("caption_entities", None)
            content |= self._text_content(params, "caption", MAX_CAPTION)
        source = str(content.get("text", content.get("caption", "")))
        method = "forwardMessage" if forward else "copyMessage"
        message = self._new_message(method, chat_id, content, params, source)
        result = message.raw if forward else {"message_id": message.message_id}
        return result, [message]

    # editing -----------------------------------------------------------------------------

    def _edit(self, method: str, params: JSONDict, content: JSONDict) -> Answer:
        if "inline_message_id" in params:
            raise _bad("inline messages are not supported by the offline kit")
        old = self._stored(self._chat_id(params), params.get("message_id"))
        markup = self._markup(params)
        # Like Telegram: an edit without reply_markup removes the inline keyboard.
        new_raw = {k: v for k, v in old.raw.items() if k not in {"reply_markup"}}
        if content:
            for key in ("text", "entities", "caption", "caption_entities"):
                new_raw.pop(key, None)
            new_raw |= {k: v for k, v in content.items() if v != ""}  # "" removes a caption
        if markup:
            new_raw["reply_markup"] = markup
        same = {k: v for k, v in new_raw.items() if k != "edit_date"}
        if same == {k: v for k, v in old.raw.items() if k != "edit_date"}:
            raise _bad(
                "message is not modified: specified new message content and reply markup are "
                "exactly the same as a current content and reply markup of the message"
            )
        new_raw["edit_date"] = int(self.clock())
        source = old.source
        if content:
            source = str(params.get("text", params.get("caption", "")))
        if old.markup and "keyboard" in old.markup:
            markup = old.markup  # a reply keyboard lives in the client; edits cannot touch it
        message = replace(old, raw=new_raw, markup=markup, source=source, edited=True)
        message = self._store(replace(message, method=method))
        return new_raw, [message]

    def _edit_text(self, params: JSONDict, files: dict[str, Any]) -> Answer:
        old = self._stored(self._chat_id(params), params.get("message_id"))
        if "text" not in old.raw:
            raise _bad("there is no text in the message to edit")
        return self._edit("editMessageText", params, self._text_content(params, "text", MAX_TEXT))

    def _edit_caption(self, params: JSONDict, files: dict[str, Any]) -> Answer:
        old = self._stored(self._chat_id(params), params.get("message_id"))
        if "text" in old.raw:
            raise _bad("there is no caption in the message to edit")
        content = self._text_content(params, "caption", MAX_CAPTION)
        return self._edit("editMessageCaption", params, content or {"caption": ""})

    def _edit_markup(self, params: JSONDict, files: dict[str, Any]) -> Answer:
        return self._edit("editMessageReplyMarkup", params, {})

    def _delete_message(self, params: JSONDict, files: dict[str, Any]) -> Answer:
        chat_id = self._chat_id(params)
        message_id = _int(params.get("message_id")) or 0
        if (chat_id, message_id) not in self.history:
            raise _bad("message to delete not found")
        del self.history[(chat_id, message_id)]
        self.messages.get(chat_id, {}).pop(message_id, None)
        if self._keyboards.get(chat_id) == message_id:
            self._keyboards.pop(chat_id)
        return True, []

    def _delete_messages(self, params: JSONDict, files: dict[str, Any]) -> Answer:
        for message_id in _json(params.get("message_ids")) or []:
            # Telegram skips messages it cannot find here instead of failing the whole call.
            if (self._chat_id(params), message_id) in self.history:
                self._delete_message({**params, "message_id": message_id}, files)
        return True, []

    # everything else ---------------------------------------------------------------------

    def _chat_action(self, params: JSONDict, files: dict[str, Any]) -> Answer:
        self._chat_id(params)
        return True, []

    def _answer_callback(self, params: JSONDict, files: dict[str, Any]) -> Answer:
        query_id = str(params.get("callback_query_id"))
        if query_id not in self.callback_answers or self.callback_answers[query_id] is not None:
            raise _bad("query is too old and response timeout expired or query ID is invalid")
        self.callback_answers[query_id] = dict(params)
        return True, []

    def _scope(self, params: JSONDict) -> tuple[str, str]:
        scope = _json(params.get("scope")) or {"type": "default"}
        return json.dumps(scope, sort_keys=True), str(params.get("language_code") or "")

    def _set_commands(self, params: JSONDict, files: dict[str, Any]) -> Answer:
        commands = list(_json(params.get("commands")) or [])
        for command in commands:
            if not re.fullmatch(r"[a-z0-9_]{1,32}", str(command.get("command", ""))):
                raise _bad("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise _bad("command description is invalid")
        self.commands[self._scope(params)] = commands
        return True, []

    def _delete_commands(self, params: JSONDict, files: dict[str, Any]) -> Answer:
        self.commands.pop(self._scope(params), None)
        return True, []

    def _set_menu_button(self, params: JSONDict, files: dict[str, Any]) -> Answer:
        chat_id = self._chat_id(params) if "chat_id" in params else None
        self.menu_buttons[chat_id] = _json(params.get("menu_button")) or {"type": "default"}
        return True, []

    def _menu_button(self, params: JSONDict) -> JSONDict:
        chat_id = self._chat_id(params) if "chat_id" in params else None
        return self.menu_buttons.get(chat_id) or self.menu_buttons.get(None) or {"type": "default"}

    def _get_file(self, params: JSONDict, files: dict[str, Any]) -> Answer:
        stored = self.file(str(params.get("file_id")))
        result = {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id}
        if stored.size > MAX_DOWNLOAD:
            raise _bad("file is too big")
        return result | {"file_size": stored.size, "file_path": stored.file_path}, []

    def _download(self, url: str) -> bytes:
        for stored in self.files.values():
            if url.endswith("/" + stored.file_path):
                return stored.data
        raise ApiError(404, "Not Found: file not found")

    def _full_chat(self, chat_id: int) -> JSONDict:
        gifts = dict.fromkeys(
            (
                "unlimited_gifts",
                "limited_gifts",
                "unique_gifts",
                "premium_subscription",
                "gifts_from_channels",
            ),
            False,
        )
        extra = {"accent_color_id": 0, "max_reaction_count": 11, "accepted_gift_types": gifts}
        return self.chat(chat_id) | extra

    def _get_chat_member(self, params: JSONDict, files: dict[str, Any]) -> Answer:
        chat_id = self._chat_id(params)
        user_id = _int(params.get("user_id")) or 0
        user = BOT_USER if user_id == BOT_ID else self.users.get(user_id)
        if user is None:
            raise _bad("user not found")
        if chat_id == user_id:
            status = "member"
        else:
            status = self._chats[chat_id].members.get(user_id, "left")
        member: JSONDict = {"status": status, "user": user}
        if status == "creator":
            member["is_anonymous"] = False
        elif status == "kicked":
            member["until_date"] = 0
        elif status == "administrator":
            member |= dict.fromkeys(
                (
                    "can_be_edited",
                    "is_anonymous",
                    "can_promote_members",
                    "can_post_stories",
                    "can_edit_stories",
                    "can_delete_stories",
                ),
                False,
            )
            member |= dict.fromkeys(
                (
                    "can_manage_chat",
                    "can_delete_messages",
                    "can_manage_video_chats",
                    "can_restrict_members",
                    "can_change_info",
                    "can_invite_users",
                ),
                True,
            )
        return member, []
