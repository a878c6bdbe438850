"""What the offline Bot API remembers: files, bot messages as they stand, and every call."""

from dataclasses import dataclass
from typing import Any

JSONDict = dict[str, Any]


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
