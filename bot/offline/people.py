"""People who chat with the bot offline: they send, press, share and upload, as in Telegram.

`OfflineTelegram` owns the fake Bot API, the people and the groups, and feeds their updates to the
application with `Application.process_update`, so a test waits for the bot's whole answer before
its next line, the jobs the handler started included. Every action returns the bot messages sent
or edited while the bot handled it.
"""

import asyncio
import mimetypes
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, TypeAlias, TypeVar

from telegram import Update
from telegram.ext import Application, ApplicationBuilder, CallbackContext, ExtBot

from bot.offline.background import JobWatch
from bot.offline.identity import BOT_ID, BOT_USERNAME, OFFLINE_TOKEN
from bot.offline.records import BotMessage, JSONDict
from bot.offline.transport import FakeBotAPI
from bot.telegram_html import utf16_len

AnyApplication = Application[Any, Any, Any, Any, Any, Any]
BuilderT = TypeVar("BuilderT", bound=ApplicationBuilder[Any, Any, Any, Any, Any, Any])
ChatRef: TypeAlias = "int | Group | Person | None"  # a chat id, a group, or a private chat

_COMMAND = re.compile(r"/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]+)?")


class Group:
    """A supergroup people and the bot share, e.g. the reviewers' group."""

    def __init__(self, kit: "OfflineTelegram", chat_id: int, title: str, bot_is_admin: bool):
        self.kit = kit
        self.id = chat_id
        self.title = title
        self.bot_is_admin = bot_is_admin  # an admin bot sees every message despite privacy mode

    def add(self, person: "Person", status: str = "member") -> None:
        """Put a person in the group with a status (creator, administrator, member, ...)."""
        self.kit.api.set_member(self.id, person.id, status)

    def messages(self) -> list[BotMessage]:
        """Every bot message in the group, as it stands now."""
        return self.kit.messages(self.id)

    def last(self) -> BotMessage:
        """The bot's latest message in the group."""
        return self.kit.last(self.id)


class Person:
    """A Telegram user; each action returns what the bot sent or edited in response."""

    def __init__(self, kit: "OfflineTelegram", user: JSONDict, phone_number: str) -> None:
        self.kit = kit
        self.user = user
        self.id: int = user["id"]
        self.first_name: str = user["first_name"]
        self.phone_number = phone_number
        self.last_answer: str | None = None  # text of the callback answer to the last press
        self._mark = 0

    def __repr__(self) -> str:
        return f"Person({self.id}, {self.first_name!r})"

    # what the person sees --------------------------------------------------------------

    def replies(self) -> list[BotMessage]:
        """Bot messages in this person's private chat since their last action (jobs included)."""
        return [
            m
            for call in self.kit.api.sent[self._mark :]
            for m in call.messages
            if m.chat_id == self.id
        ]

    def messages(self) -> list[BotMessage]:
        """Every bot message in this person's private chat, as it stands now."""
        return self.kit.messages(self.id)

    def last(self) -> BotMessage:
        """The bot's latest message in this person's private chat."""
        return self.kit.last(self.id)

    # actions ---------------------------------------------------------------------------

    async def send(self, text: str, chat: ChatRef = None) -> list[BotMessage]:
        """Type and send a text; a leading /command is marked as a command, as clients do."""
        return await self._say(_text_fields(text), chat)

    async def reply_to(self, message_id: int, text: str, chat: ChatRef = None) -> list[BotMessage]:
        """Reply to a message (swipe, type, send)."""
        chat_id = self.kit.chat_id(chat, self.id)
        target = self.kit.api.history.get((chat_id, message_id))
        if target is None:
            raise LookupError(f"no message {message_id} in chat {chat_id} to reply to")
        quoted = {k: v for k, v in target.items() if k != "reply_to_message"}
        return await self._say(_text_fields(text) | {"reply_to_message": quoted}, chat)

    async def press(
        self,
        text: str,
        chat: ChatRef = None,
        *,
        message_id: int | None = None,
    ) -> list[BotMessage]:
        """Tap the button with this text (exact, else containing it) on the newest message."""
        chat_id = self.kit.chat_id(chat, self.id)
        message, button = self.kit.find_button(chat_id, text, message_id)
        if message.is_inline:
            if "callback_data" not in button:
                raise ValueError(f"button {text!r} is not a callback button: {button}")
            return await self.press_data(str(button["callback_data"]), message.message_id, chat)
        if message.markup and message.markup.get("one_time_keyboard"):
            self.kit.api.hide_reply_keyboard(chat_id)
        if button.get("request_contact"):
            return await self.share_contact(chat=chat)
        if button.get("request_location"):
            return await self.send_location(31.2304, 121.4737, chat=chat)
        return await self.send(str(button["text"]), chat)

    async def press_data(
        self, callback_data: str, message_id: int, chat: ChatRef = None
    ) -> list[BotMessage]:
        """Send a callback query for any data on any message: to forge or replay a press."""
        chat_id = self.kit.chat_id(chat, self.id)
        api = self.kit.api
        current = api.messages.get(chat_id, {}).get(message_id)
        message = current.raw if current else api.history.get((chat_id, message_id))
        if message is None:
            # What Telegram sends for a message it no longer shows: date 0.
            message = {"message_id": message_id, "date": 0, "chat": api.chat(chat_id)}
        query_id = self.kit.next_query_id()
        api.register_callback_query(query_id)
        query = {
            "id": query_id,
            "from": self.user,
            "chat_instance": f"offline-{chat_id}",
            "data": callback_data,
            "message": message,
        }
        self._mark = len(api.sent)
        try:
            return await self.kit.feed({"callback_query": query})
        finally:
            answer = api.callback_answers.get(query_id)
            self.last_answer = answer.get("text") if answer else None

    async def share_contact(
        self,
        phone_number: str | None = None,
        *,
        user_id: int | Literal["self"] | None = "self",
        first_name: str | None = None,
        chat: ChatRef = None,
    ) -> list[BotMessage]:
        """Share a contact card: one's own by default, or anyone's (user_id=None: no account)."""
        contact: JSONDict = {
            "phone_number": phone_number or self.phone_number,
            "first_name": first_name or self.first_name,
        }
        if user_id is not None:
            contact["user_id"] = self.id if user_id == "self" else user_id
        return await self._say({"contact": contact}, chat)

    async def upload(
        self,
        data: bytes | Path,
        *,
        file_name: str | None = None,
        mime_type: str | None = None,
        as_photo: bool = False,
        caption: str | None = None,
        media_group_id: str | None = None,
        chat: ChatRef = None,
    ) -> list[BotMessage]:
        """Send a file as a document (name, type, size) or as a photo (a list of sizes)."""
        if isinstance(data, Path):
            file_name = file_name or data.name
            data = await asyncio.to_thread(data.read_bytes)
        guessed = mimetypes.guess_type(file_name)[0] if file_name else None
        mime_type = (
            mime_type or guessed or ("image/jpeg" if as_photo else "application/octet-stream")
        )
        api = self.kit.api
        file_id, _ = api.add_file(
            data, file_name=None if as_photo else file_name, mime_type=mime_type
        )
        fields: JSONDict = {"photo": api.photo_sizes(file_id)} if as_photo else {}
        if not as_photo:
            fields["document"] = api.document_dict(file_id)
        if caption:
            fields["caption"] = caption
        if media_group_id:
            fields["media_group_id"] = media_group_id
        return await self._say(fields, chat)

    async def send_sticker(self, chat: ChatRef = None) -> list[BotMessage]:
        """Send a sticker (something a form does not expect)."""
        file_id, unique = self.kit.api.add_file(b"RIFF\0\0\0\0WEBPVP8 ", mime_type="image/webp")
        sticker: JSONDict = {"file_id": file_id, "file_unique_id": unique, "type": "regular"}
        sticker |= {
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": "👍",
        }
        return await self._say({"sticker": sticker}, chat)

    async def send_voice(self, duration: int = 2, chat: ChatRef = None) -> list[BotMessage]:
        """Send a voice message."""
        data = b"OggS\0" + bytes(64)
        file_id, unique = self.kit.api.add_file(data, mime_type="audio/ogg")
        voice: JSONDict = {"file_id": file_id, "file_unique_id": unique, "duration": duration}
        voice |= {"mime_type": "audio/ogg", "file_size": len(data)}
        return await self._say({"voice": voice}, chat)

    async def send_location(
        self, latitude: float, longitude: float, chat: ChatRef = None
    ) -> list[BotMessage]:
        """Send a location pin."""
        return await self._say({"location": {"latitude": latitude, "longitude": longitude}}, chat)

    async def send_poll(
        self,
        question: str,
        options: tuple[str, ...] = ("Yes", "No"),
        chat: ChatRef = None,
    ) -> list[BotMessage]:
        """Send a poll."""
        poll = {
            "id": self.kit.next_query_id(),
            "question": question,
            "options": [
                {"text": option, "voter_count": 0, "persistent_id": str(n)}
                for n, option in enumerate(options)
            ],
            "total_voter_count": 0,
            "is_closed": False,
            "is_anonymous": True,
            "type": "regular",
            "allows_multiple_answers": False,
            "allows_revoting": False,  # required since Bot API 9.6
            "members_only": False,  # required since Bot API 10.0
        }
        return await self._say({"poll": poll}, chat)

    async def _say(self, fields: JSONDict, chat: ChatRef) -> list[BotMessage]:
        """Post a message from this person into a chat and let the bot handle it."""
        kit, api = self.kit, self.kit.api
        chat_id = kit.chat_id(chat, self.id)
        message: JSONDict = {
            "message_id": api.next_message_id(chat_id),
            "date": int(api.clock()),
            "chat": api.chat(chat_id),
            "from": self.user,
            **fields,
        }
        api.remember(message)
        self._mark = len(api.sent)
        group = kit.groups.get(chat_id)
        if group is not None and not kit.bot_sees(group, message):
            kit.unseen.append(message)
            return []
        return await kit.feed({"message": message})


def _text_fields(text: str) -> JSONDict:
    fields: JSONDict = {"text": text}
    if command := _COMMAND.match(text):
        fields["entities"] = [{"type": "bot_command", "offset": 0, "length": utf16_len(command[0])}]
    return fields


class OfflineTelegram:
    """Telegram without the network: a fake Bot API, people, groups, and the attached app."""

    def __init__(
        self,
        api: FakeBotAPI | None = None,
        *,
        privacy_mode: bool = True,
        clock: Callable[[], float] = time.time,
        wait_for_jobs: bool = True,
        answers: bool = True,
    ) -> None:
        """``wait_for_jobs``: an action waits for the jobs its handler started (tests);
        without it, the jobs run beside the next actions, as with Telegram (benchmarks).
        ``answers=False``: an action returns no messages (benchmarks, whose walkers read
        none: with many actions at once, collecting them costs as much as the actions in
        flight)."""
        self.api = api or FakeBotAPI(clock=clock, privacy_mode=privacy_mode)
        self.app: AnyApplication | None = None
        self.raise_errors = True
        self.errors: list[BaseException] = []
        self.error_listeners: list[Callable[[BaseException], None]] = []
        self.unseen: list[JSONDict] = []  # group messages privacy mode kept from the bot
        self.people: dict[int, Person] = {}
        self.groups: dict[int, Group] = {}
        self.last_payload: JSONDict | None = None
        self._query_id = 0
        self.wait_for_jobs = wait_for_jobs
        self.answers = answers
        self._jobs: JobWatch | None = None

    # wiring ----------------------------------------------------------------------------

    def wire(self, builder: BuilderT, token: str | None = OFFLINE_TOKEN) -> BuilderT:
        """Point an ApplicationBuilder at the fake API (and set the offline token unless None)."""
        if token is not None:
            builder = builder.token(token)
        return builder.request(self.api).get_updates_request(self.api)

    def attach(self, app: AnyApplication, *, raise_errors: bool = True) -> None:
        """Feed updates to `app`; with raise_errors, an action re-raises its handler's error."""
        # The bot's transport may wrap the kit's (bot/commit_barrier.py).
        if getattr(app.bot.request, "inner", app.bot.request) is not self.api:
            # Otherwise the bot would try the real network with a fake token.
            raise ValueError("build the application over kit.api: kit.wire(ApplicationBuilder())")
        self.app = app
        self.raise_errors = raise_errors
        app.add_error_handler(self._collect_error)
        self._jobs = JobWatch(app.job_queue) if app.job_queue is not None else None

    async def settle(self) -> None:
        """Wait until the jobs the bot has started are done (``bot/offline/background.py``)."""
        if self._jobs is not None:
            await self._jobs.settle()

    async def _collect_error(
        self, update: object, context: CallbackContext[Any, Any, Any, Any]
    ) -> None:
        """Keep every error the application reports, from handlers and jobs alike."""
        if context.error is not None:
            self.errors.append(context.error)
            for listener in list(self.error_listeners):
                listener(context.error)

    async def feed(self, payload: JSONDict) -> list[BotMessage]:
        """Process one update (without update_id) and return the bot messages it produced."""
        if self.app is None:
            raise RuntimeError("attach an application first: kit.attach(app)")
        app = self.app
        # Work started before (a job) finishes first: none of it is this update's answer.
        if self.wait_for_jobs:
            await self.settle()
        update_id = self.api.ids.next("update")
        self.last_payload = payload
        mark, errors = len(self.api.sent), len(self.errors)
        update = Update.de_json({"update_id": update_id, **payload}, app.bot)
        if isinstance(app.bot, ExtBot):
            # What the polling and webhook paths do, so arbitrary callback data resolves.
            app.bot.insert_callback_data(update)
        # Through the application's update processor, as polling and webhooks do.
        await app.update_processor.process_update(update, app.process_update(update))
        # What the handler left to a job (the outbox sending a decision now) is part of
        # the answer, and must not land in the next action's.
        if self.wait_for_jobs:
            await self.settle()
        if self.raise_errors and len(self.errors) > errors:
            raise self.errors[errors]
        if not self.answers:
            return []
        return [m for call in self.api.sent[mark:] for m in call.messages]

    async def redeliver(self) -> list[BotMessage]:
        """Telegram hands the last update over again, as it does after a restart when the
        bot had handled it but not yet confirmed it."""
        if self.last_payload is None:
            raise RuntimeError("no update was fed yet")
        return await self.feed(self.last_payload)

    def next_query_id(self) -> str:
        """A fresh callback query (or poll) id."""
        self._query_id += 1
        return f"offline-query-{self._query_id}"

    # people and chats ------------------------------------------------------------------

    def user(
        self,
        user_id: int,
        first_name: str | None = None,
        *,
        language_code: str | None = "zh",
        username: str | None = None,
        last_name: str | None = None,
        phone_number: str | None = None,
    ) -> Person:
        """A person with a private chat (chat id == user id); the same person if already known."""
        if user_id in self.people:
            return self.people[user_id]
        user: JSONDict = {
            "id": user_id,
            "is_bot": False,
            "first_name": first_name or f"User{user_id}",
        }
        for key, value in (
            ("last_name", last_name),
            ("username", username),
            ("language_code", language_code),
        ):
            if value is not None:
                user[key] = value
        chat = {"id": user_id, "type": "private", "first_name": user["first_name"]}
        chat |= {k: user[k] for k in ("last_name", "username") if k in user}
        self.api.add_user(user)
        self.api.add_chat(chat)
        # A valid mainland mobile with the country code, as Telegram sends it (no "+").
        phone = phone_number or f"86138{user_id % 10**8:08d}"
        self.people[user_id] = Person(self, user, phone)
        return self.people[user_id]

    def group(self, chat_id: int, title: str, *, bot_is_admin: bool = False) -> Group:
        """A supergroup the bot is in; the same group if already known."""
        if chat_id not in self.groups:
            self.api.add_chat({"id": chat_id, "type": "supergroup", "title": title})
            self.groups[chat_id] = Group(self, chat_id, title, bot_is_admin)
        return self.groups[chat_id]

    def chat_id(self, chat: ChatRef, default: int | None = None) -> int:
        """The chat id of a reference: an id, a group, a person (their private chat)."""
        if chat is None:
            if default is None:
                raise ValueError("which chat? pass a chat id, a Group or a Person")
            return default
        return chat if isinstance(chat, int) else chat.id

    def bot_sees(self, group: Group, message: JSONDict) -> bool:
        """Whether Telegram delivers a group message to the bot (privacy mode rules)."""
        if group.bot_is_admin or not self.api.privacy_mode:
            return True
        text = str(message.get("text") or message.get("caption") or "")
        command = _COMMAND.match(text) if "text" in message else None
        if command and ("@" not in command[0] or command[0].lower().endswith(f"@{BOT_USERNAME}")):
            return True
        replied = message.get("reply_to_message") or {}
        if replied.get("from", {}).get("id") == BOT_ID:
            return True
        return f"@{BOT_USERNAME}" in text.lower()

    # what the bot shows ----------------------------------------------------------------

    def messages(self, chat: "int | Group | Person") -> list[BotMessage]:
        """Every bot message in a chat as it stands now, oldest first."""
        by_id = self.api.messages.get(self.chat_id(chat), {})
        return [by_id[i] for i in sorted(by_id)]

    def last(self, chat: "int | Group | Person") -> BotMessage:
        """The bot's latest message in a chat."""
        messages = self.messages(chat)
        if not messages:
            raise LookupError(f"the bot has no message in chat {self.chat_id(chat)}")
        return messages[-1]

    def on_screen(self, chat: ChatRef) -> list[BotMessage]:
        """Bot messages whose buttons a person can tap now, newest first."""
        chat_id = self.chat_id(chat)
        keyboard = self.api.reply_keyboard(chat_id)
        return [
            m
            for m in reversed(self.messages(chat_id))
            if (m.is_inline and m.buttons)
            or (keyboard is not None and m.message_id == keyboard.message_id)
        ]

    def find_button(
        self, chat_id: int, text: str, message_id: int | None = None
    ) -> tuple[BotMessage, JSONDict]:
        """The newest on-screen button with exactly this text, else one containing it."""
        on_screen = [
            m for m in self.on_screen(chat_id) if message_id is None or m.message_id == message_id
        ]
        for exact in (True, False):
            for message in on_screen:
                hits = [
                    b for row in message.buttons for b in row if (b == text if exact else text in b)
                ]
                if len(set(hits)) > 1 and not exact:
                    raise LookupError(
                        f"{text!r} is ambiguous in message {message.message_id}: {hits}"
                    )
                if hits:
                    return message, message.button(hits[0])
        shown = [m.buttons for m in on_screen[:3]]
        raise LookupError(f"no button {text!r} in chat {chat_id}; newest buttons: {shown}")

    @property
    def unanswered_callbacks(self) -> list[str]:
        """Callback queries the bot never answered (the client would show a spinner)."""
        return [q for q, answer in self.api.callback_answers.items() if answer is None]
