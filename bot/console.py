"""Chat with the bot in a terminal, without a token: the offline kit plays Telegram.

Every bot message is printed as it is sent, including those jobs send later, because the console
listens to the fake Bot API's record instead of to the answers of its own actions.

Lifecycle: `run_console` runs the application as `run_polling` would (initialize, post_init,
start ... stop, post_stop, shutdown, post_shutdown) without polling, since the console feeds
updates itself. If the application is already running, the caller owns its lifecycle and the
console only chats.
"""

import asyncio
import mimetypes
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from telegram.ext import Application

from bot.offline import BOT_USERNAME, BotMessage, OfflineTelegram, Person, SentCall

AnyApplication = Application[Any, Any, Any, Any, Any, Any]
PHOTO_TYPES = frozenset({"image/jpeg", "image/png"})  # what Telegram clients send as photos

HELP = """\
Offline console: you are a Telegram user; nothing leaves this machine.
  TEXT            send a message (bot commands such as /start too); after a bot message
                  that asks for a reply (ForceReply) the text is that reply, as in Telegram
  TEXT \\         a line ending in a backslash goes on on the next line (multi-line text)
  N               press button N of the latest message with buttons in this chat
  /press TEXT     press the newest button whose label is TEXT (or contains it)
  /reply [#]N TEXT  reply to bot message #N of this chat (numbers are shown as bot #N)
  /reply TEXT     reply to the latest bot message of this chat asking for one (else the latest)
  /say TEXT       send TEXT as it is (e.g. a number, or a line starting with /)
  /upload PATH    send a file: JPEG/PNG as a photo, anything else as a document
  /contact [NUM]  share your contact (asks for the number if none is given)
  /as USER_ID     act as another user (created if new), in their private chat
  /in CHAT_ID     type into a group (e.g. the reviewers' group); /in alone: back to private
  /lang zh|en     the language of your Telegram app (the bot answers in it)
  /?              this help
  /quit           leave (end of input too)
Files the bot sends are saved on disk; their path is printed under the message."""


def format_message(message: BotMessage, *, private_chat: int) -> str:
    """One bot message as plain text: where, its number (to reply to), text, attachment,
    numbered buttons."""
    where = "" if message.chat_id == private_chat else f"[chat {message.chat_id}] "
    label = f"{where}bot #{message.message_id}{' (edited)' if message.edited else ''}: "
    text_lines = (message.text or "").splitlines() or [""]
    lines = [label + text_lines[0], *("    " + line for line in text_lines[1:])]
    if document := message.document:
        name = document.get("file_name", "file")
        mime = document.get("mime_type", "?")
        lines.append(f"    [document: {name}, {mime}, {document.get('file_size', 0)} bytes]")
    if photo := message.photo:
        lines.append(f"    [photo: {photo['width']}x{photo['height']}]")
    if asks_for_reply(message):
        lines.append("    (asks for a reply: type it, or /reply " + f"{message.message_id} TEXT)")
    number = 0
    kind = "" if message.is_inline else "keyboard: "
    for row in message.buttons:
        cells = []
        for text in row:
            number += 1
            cells.append(f"[{number}] {text}")
        lines.append(f"    {kind}{'  '.join(cells)}")
    return "\n".join(lines)


def asks_for_reply(message: BotMessage) -> bool:
    """Whether the message carries ForceReply: a client opens the reply field for it."""
    return bool((message.markup or {}).get("force_reply"))


def greeting(name: str, user_id: int, roles: Sequence[str] = ()) -> str:
    """What the console says first: who you are, what to type first, the roles to try."""
    lines = [
        f"Offline console: you are {name} (user {user_id}) chatting with @{BOT_USERNAME};"
        " nothing leaves this machine.",
        "Type /start to begin (then /apply to register). /? lists the console's commands.",
    ]
    return "\n".join([*lines, *roles])


class _Console:
    """The state of one console session: who acts, where, and how to print."""

    def __init__(
        self,
        kit: OfflineTelegram,
        user_id: int,
        input_fn: Callable[[str], str],
        output_fn: Callable[[str], object],
        files_dir: Path | None = None,
        roles: Sequence[str] = (),
    ) -> None:
        self.kit = kit
        self.person: Person = kit.people.get(user_id) or kit.user(user_id, "Console")
        self.chat: int | None = None  # None: the acting person's private chat
        self.input_fn = input_fn
        self.output_fn = output_fn
        self.files_dir = files_dir  # where files the bot sends are saved (None: not saved)
        self.roles = roles

    @property
    def chat_id(self) -> int:
        """The chat the acting person types into."""
        return self.person.id if self.chat is None else self.chat

    def out(self, text: str) -> None:
        """Print one block of output."""
        self.output_fn(text)

    def prompt(self) -> str:
        """Who is typing, and where."""
        where = "" if self.chat is None else f" in {self.chat}"
        return f"{self.person.first_name}({self.person.id}){where}> "

    # what the bot does -----------------------------------------------------------------

    def show_call(self, call: SentCall) -> None:
        """Print what a Bot API call changed in any chat, the moment the bot makes it."""
        if call.error:
            self.out(f"! {call.method} refused: {call.error}")
            return
        for message in call.messages:
            shown = format_message(message, private_chat=self.person.id)
            if saved := self.save_file(message):
                shown += f"\n    saved as {saved}"
            self.out(shown)
        if call.method == "answerCallbackQuery" and call.params.get("text"):
            kind = "alert" if call.params.get("show_alert") else "toast"
            self.out(f"    ({kind}) {call.params['text']}")
        elif call.method == "deleteMessage":
            self.out(f"    (bot deleted message {call.params.get('message_id')})")

    def save_file(self, message: BotMessage) -> Path | None:
        """Write the file a bot message carries under ``files_dir``; its path."""
        attachment = message.document or message.photo
        if self.files_dir is None or attachment is None or message.edited:
            return None
        stored = self.kit.api.files.get(str(attachment.get("file_id")))
        if stored is None:
            return None
        # Chat and message number first: names repeat (every card's licence is licence.pdf).
        name = stored.file_name or ""
        if not name:  # photos have no name: the type gives the extension
            mime = stored.mime_type or ("image/jpeg" if message.photo else "")
            name = "file" + (mimetypes.guess_extension(mime) or "")
        path = self.files_dir / f"chat{message.chat_id}-{message.message_id}-{name}"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(stored.data)
        return path

    def show_error(self, error: BaseException) -> None:
        """Print an error the application reported (a handler's or a job's)."""
        self.out(f"! error in the bot: {type(error).__name__}: {error}")

    # what the person does --------------------------------------------------------------

    async def ask(self, prompt: str) -> str:
        """Read a line without blocking the event loop (jobs keep running meanwhile)."""
        return await asyncio.to_thread(self.input_fn, prompt)

    async def read(self) -> str:
        """One input, joining lines that end in a backslash (multi-line text)."""
        lines = [await self.ask(self.prompt())]
        while lines[-1].endswith("\\"):
            lines[-1] = lines[-1][:-1]
            lines.append(await self.ask("... "))
        return "\n".join(lines).strip()

    async def loop(self) -> None:
        """Read and act until /quit or end of input."""
        self.out(greeting(self.person.first_name, self.person.id, self.roles))
        while True:
            try:
                line = await self.read()
            except (EOFError, KeyboardInterrupt):
                return
            if line == "/quit":
                return
            if not line:
                continue
            try:
                await self.act(line)
            except Exception as exc:
                # The bot's own errors were printed when the application reported them.
                if not any(exc is error for error in self.kit.errors):
                    self.out(f"! {type(exc).__name__}: {exc}")

    async def act(self, line: str) -> None:
        """Carry out one typed line."""
        command, _, arg = line.partition(" ")
        arg = arg.strip()
        chat = self.chat_id
        if command == "/?":
            self.out(HELP)
        elif command == "/say":
            await self.person.send(arg, chat)
        elif command == "/as" and arg:
            user_id = int(arg)
            self.person = self.kit.people.get(user_id) or self.kit.user(user_id)
            self.chat = None  # the previous person's group is not this person's
            self.out(f"(now acting as {self.person.first_name}, id {self.person.id}, in private)")
        elif command == "/lang" and arg in ("zh", "en"):
            self.person.user["language_code"] = arg
            self.out(f"({self.person.first_name}'s Telegram app is now in {arg})")
        elif command == "/reply":
            await self.reply(arg)
        elif command == "/press" and arg:
            await self.person.press(arg, chat)
        elif command == "/in":
            self.switch_chat(arg)
        elif command == "/upload" and arg:
            await self.upload(arg)
        elif command == "/contact":
            number = arg or (await self.ask(f"phone number [{self.person.phone_number}]: "))
            await self.person.share_contact(number.strip() or None, chat=chat)
        elif line.isdigit() and (button := self.button(int(line))) is not None:
            message, text = button
            await self.person.press(text, chat, message_id=message.message_id)
        elif (prompt := self.open_prompt()) is not None and not line.startswith("/"):
            await self.person.reply_to(prompt.message_id, line, chat)
        else:
            await self.person.send(line, chat)

    def open_prompt(self) -> BotMessage | None:
        """The bot's latest message in this chat if it asks this person for a reply
        (ForceReply; a selective one in a group only of the person it answers)."""
        messages = self.kit.messages(self.chat_id)
        if not messages or not asks_for_reply(messages[-1]):
            return None
        prompt = messages[-1]
        answered = prompt.raw.get("reply_to_message", {}).get("from", {}).get("id")
        selective = bool((prompt.markup or {}).get("selective"))
        return None if selective and answered not in (None, self.person.id) else prompt

    async def reply(self, arg: str) -> None:
        """``/reply N TEXT`` replies to bot message #N; ``/reply TEXT`` to the prompt."""
        number, _, rest = arg.partition(" ")
        if number.removeprefix("#").isdigit() and rest.strip():
            target: int | None = int(number.removeprefix("#"))
            text = rest.strip()
        else:
            prompts = [m for m in self.kit.messages(self.chat_id) if asks_for_reply(m)]
            latest = prompts or self.kit.messages(self.chat_id)
            target, text = (latest[-1].message_id if latest else None), arg
        if target is None or not text:
            self.out("! /reply N TEXT: N is the number shown as bot #N in this chat")
            return
        await self.person.reply_to(target, text, self.chat_id)

    def switch_chat(self, arg: str) -> None:
        """Type into a group from now on, or back into the private chat."""
        if arg and not arg.lstrip("-").isdigit():
            self.out("! /in CHAT_ID: a group's id is a negative number")
            return
        if not arg or int(arg) == self.person.id:
            self.chat = None
            self.out("(back in your private chat with the bot)")
            return
        chat_id = int(arg)
        if chat_id > 0:
            self.out("! only groups (negative ids) or your own private chat")
            return
        group = self.kit.groups.get(chat_id) or self.kit.group(chat_id, f"Group {chat_id}")
        self.chat = group.id
        self.out(f"(now typing in {group.title}, {group.id})")

    def button(self, number: int) -> tuple[BotMessage, str] | None:
        """Button N (from 1, row by row) of the latest message with buttons in this chat."""
        on_screen = self.kit.on_screen(self.chat_id)
        if not on_screen:
            return None
        message = on_screen[0]
        texts = [text for row in message.buttons for text in row]
        return (message, texts[number - 1]) if 1 <= number <= len(texts) else None

    async def upload(self, name: str) -> None:
        """Send a file from disk the way a Telegram client would."""
        path = await asyncio.to_thread(lambda: Path(name).expanduser())
        if not await asyncio.to_thread(path.is_file):
            self.out(f"! no such file: {path}")
            return
        mime_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        as_photo = mime_type in PHOTO_TYPES
        await self.person.upload(path, mime_type=mime_type, as_photo=as_photo, chat=self.chat_id)


async def run_console(
    app: AnyApplication,
    kit: OfflineTelegram,
    *,
    user_id: int = 1,
    input_fn: Callable[[str], str] = input,
    output_fn: Callable[[str], object] = print,
    files_dir: Path | None = None,
    roles: Sequence[str] = (),
) -> None:
    """Let a person chat with `app` in a terminal through the offline kit, until /quit or EOF.
    Files the bot sends are saved under ``files_dir``; ``roles`` are greeting lines on who
    to act as (reviewer, support agent)."""
    if kit.app is not app:
        kit.attach(app)
    console = _Console(kit, user_id, input_fn, output_fn, files_dir, roles)
    remove_listener = kit.api.add_listener(console.show_call)
    kit.error_listeners.append(console.show_error)
    try:
        if app.running:
            await console.loop()
        else:
            await _run_owned(app, console)
    finally:
        remove_listener()
        kit.error_listeners.remove(console.show_error)


async def _run_owned(app: AnyApplication, console: _Console) -> None:
    """Run the application around the console as run_polling would, minus the polling."""
    async with app:
        if app.post_init:
            await app.post_init(app)
        await app.start()
        try:
            await console.loop()
        finally:
            await app.stop()
            if app.post_stop:
                await app.post_stop(app)
    if app.post_shutdown:
        await app.post_shutdown(app)
