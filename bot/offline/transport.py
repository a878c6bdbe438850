"""An in-process Telegram Bot API: PTB talks to it instead of the network, in tests and the console.

`FakeBotAPI` is a `telegram.request.BaseRequest`, so the whole PTB stack (Bot, ExtBot, shortcuts
such as `message.reply_text`, `File.download_as_bytearray`) runs unchanged on top of it. It keeps
the state a real chat would show (every bot message as it stands now, uploaded files, callback
answers, commands) and a record of every call. It also refuses what Telegram refuses, so bugs show
up here and not in production: over-long texts, bad HTML, callback data over 64 bytes, edits that
change nothing, a callback query answered twice, unknown chats, and methods it does not know.
"""

import asyncio
import io
import json
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import IO, Any, Final

from PIL import Image
from telegram.error import TimedOut
from telegram.request import BaseRequest, RequestData

from bot import telegram_html
from bot.offline.faults import ApiError, Fault, FaultKind, bad_request
from bot.offline.identity import BOT_ID, BOT_USER
from bot.offline.ids import RisingIds
from bot.offline.records import BotMessage, JSONDict, SentCall, StoredFile
from bot.telegram_html import (
    MAX_CALLBACK_DATA,
    MAX_CAPTION,
    MAX_DOWNLOAD,
    MAX_PHOTO,
    MAX_TEXT,
    MAX_UPLOAD,
    utf16_len,
)

#: The text the kit gives a bot message sent before a restart, which it does not remember.
EARLIER: Final = "(a message sent before the restart)"
THUMBNAIL: Final = 320  # the longer side of the thumbnail Telegram adds to a photo
DOWNLOAD: Final = "downloadFile"  # pseudo method name of a file download (a GET), for faults

Listener = Callable[[SentCall], None]
Answer = tuple[Any, list[BotMessage]]  # the Bot API result and the messages it touched


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


def _dimensions(data: bytes) -> tuple[int, int]:
    """Width and height of an image; a phone photo's for bytes that are none (tests send
    such, to see the bot refuse them)."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            return image.size
    except (OSError, ValueError, Image.DecompressionBombError):
        return 1280, 960


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
        self.ids = ids or RisingIds()  # message ids per chat, and the kit's update ids
        self.clock = clock
        self.privacy_mode = privacy_mode
        self.idle_seconds = idle_seconds  # how long an empty getUpdates waits
        self.sent: list[SentCall] = []
        self.refused: list[SentCall] = []
        self.messages: dict[int, dict[int, BotMessage]] = {}
        self.history: dict[tuple[int, int], JSONDict] = {}  # every message, people's too
        self.files: dict[str, StoredFile] = {}
        self._paths: dict[str, StoredFile] = {}  # by file_path, for downloads
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
                raise bad_request(f"method {endpoint} not supported by the offline kit")
            try:
                result, touched = handler(params, files)
            except (KeyError, TypeError, ValueError) as exc:
                # A malformed call is the bot's bug: answer 400 rather than a network error.
                raise bad_request(
                    f"offline kit could not read {endpoint} parameters: {exc!r}"
                ) from exc
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
            raise bad_request("chat not found")
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
        stored = StoredFile(file_id, unique, data, file_name, mime_type, path)
        self.files[file_id] = self._paths[path] = stored
        return file_id, unique

    def file(self, file_id: str) -> StoredFile:
        """A stored file by id."""
        if file_id not in self.files:
            raise bad_request("invalid file_id")
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
        width, height = _dimensions(stored.data)
        scale = THUMBNAIL / max(width, height)
        thumb = {"width": round(width * scale), "height": round(height * scale)}
        return [
            {"file_id": thumb_id, "file_unique_id": thumb_unique} | size | thumb,
            {"file_id": file_id, "file_unique_id": stored.file_unique_id}
            | size
            | {"width": width, "height": height},
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
            raise bad_request("chat not found")
        return chat_id

    def _stored(self, chat_id: int, message_id: object) -> BotMessage:
        number = _int(message_id) or 0
        message = self.messages.get(chat_id, {}).get(number)
        if message is None and self.ids.from_before(f"chat {chat_id}", number):
            # Sent before a restart: still in the chat for Telegram, only not in our memory.
            raw: JSONDict = {
                "message_id": number,
                "date": int(self.clock()),
                "chat": self.chat(chat_id),
                "from": dict(BOT_USER),
                "text": EARLIER,
            }
            message = self._store(BotMessage(chat_id, number, EARLIER, EARLIER, None, raw))
        if message is None:
            raise bad_request("message to edit not found")
        return message

    def _render(self, params: JSONDict, key: str, limit: int) -> tuple[str, list[JSONDict]]:
        source = str(params.get(key, ""))
        mode = str(params.get("parse_mode") or "").lower()
        if mode == "html":
            try:
                plain, entities = telegram_html.parse(source)
            except telegram_html.HtmlError as exc:
                raise bad_request(f"can't parse entities: {exc}") from exc
        else:
            # MarkdownV2 is not interpreted: the text is kept as sent.
            given = params.get("entities" if key == "text" else "caption_entities")
            plain, entities = source, list(_json(given) or [])
        if key == "text" and not plain.strip():
            raise bad_request("message text is empty")
        if utf16_len(plain) > limit:
            raise bad_request(
                "message is too long" if key == "text" else "message caption is too long"
            )
        return plain, entities

    def _markup(self, params: JSONDict) -> JSONDict | None:
        markup = _json(params.get("reply_markup"))
        if not markup:
            return None
        for row in markup.get("inline_keyboard", []):
            for button in row:
                data = button.get("callback_data")
                if data is not None and not 1 <= len(str(data).encode()) <= MAX_CALLBACK_DATA:
                    raise bad_request("BUTTON_DATA_INVALID")
        return dict(markup)

    def _reply_to(self, chat_id: int, params: JSONDict) -> JSONDict:
        reply = _json(params.get("reply_parameters"))
        if not reply:
            return {}
        target = self.history.get((_int(reply.get("chat_id")) or chat_id, int(reply["message_id"])))
        if target is None:
            if reply.get("allow_sending_without_reply"):
                return {}
            raise bad_request("message to be replied not found")
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
                raise bad_request(f"there is no {kind} in the request")
            file_name, content, mime_type = files[name]
            data = _read(content)
            if len(data) > (MAX_PHOTO if kind == "photo" else MAX_UPLOAD):
                raise ApiError(413, "Request Entity Too Large")
            file_name = None if kind == "photo" else file_name
            return self.add_file(data, file_name=file_name, mime_type=mime_type)[0]
        if str(value) not in self.files:
            # URLs would need the network; an unknown id is what Telegram refuses too.
            raise bad_request("wrong file identifier/HTTP URL specified")
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
            raise bad_request("wrong number of media specified: must be 2-10")
        kinds = {item["type"] for item in media}
        if "document" in kinds and len(kinds) > 1:
            raise bad_request("document can't be mixed with other media types")
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
            raise bad_request(f"message to {'forward' if forward else 'copy'} not found")
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
            raise bad_request("inline messages are not supported by the offline kit")
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
            raise bad_request(
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
            raise bad_request("there is no text in the message to edit")
        return self._edit("editMessageText", params, self._text_content(params, "text", MAX_TEXT))

    def _edit_caption(self, params: JSONDict, files: dict[str, Any]) -> Answer:
        old = self._stored(self._chat_id(params), params.get("message_id"))
        if "text" in old.raw:
            raise bad_request("there is no caption in the message to edit")
        content = self._text_content(params, "caption", MAX_CAPTION)
        return self._edit("editMessageCaption", params, content or {"caption": ""})

    def _edit_markup(self, params: JSONDict, files: dict[str, Any]) -> Answer:
        return self._edit("editMessageReplyMarkup", params, {})

    def _delete_message(self, params: JSONDict, files: dict[str, Any]) -> Answer:
        chat_id = self._chat_id(params)
        message_id = _int(params.get("message_id")) or 0
        if (chat_id, message_id) not in self.history:
            raise bad_request("message to delete not found")
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
            raise bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        self.callback_answers[query_id] = dict(params)
        return True, []

    def _scope(self, params: JSONDict) -> tuple[str, str]:
        scope = _json(params.get("scope")) or {"type": "default"}
        return json.dumps(scope, sort_keys=True), str(params.get("language_code") or "")

    def _set_commands(self, params: JSONDict, files: dict[str, Any]) -> Answer:
        commands = list(_json(params.get("commands")) or [])
        for command in commands:
            if not re.fullmatch(r"[a-z0-9_]{1,32}", str(command.get("command", ""))):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise bad_request("command description is invalid")
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
            raise bad_request("file is too big")
        return result | {"file_size": stored.size, "file_path": stored.file_path}, []

    def _download(self, url: str) -> bytes:
        # The URL ends with the file's path, ``offline/<unique id>/<name>``.
        stored = self._paths.get("/".join(url.rsplit("/", 3)[1:]))
        if stored is None:
            raise ApiError(404, "Not Found: file not found")
        return stored.data

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
            raise bad_request("user not found")
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
