"""Telegram's rules for a message's text in one home: its HTML (parsed as Telegram parses it, into
plain text and entities), its limits and the unit they are counted in. The bot checks its
templates with it and the offline kit refuses what Telegram would refuse with the same code."""

from __future__ import annotations

import html
import re
from typing import Any, Final

from telegram.constants import FileSizeLimit, InlineKeyboardButtonLimit, MessageLimit

JSONDict = dict[str, Any]

#: Telegram's limits, as python-telegram-bot states them (texts in UTF-16 code units).
MAX_TEXT: Final = int(MessageLimit.MAX_TEXT_LENGTH)
MAX_CAPTION: Final = int(MessageLimit.CAPTION_LENGTH)
MAX_CALLBACK_DATA: Final = int(InlineKeyboardButtonLimit.MAX_CALLBACK_DATA)
#: getFile serves at most 20 MB, counted in decimal megabytes.
MAX_DOWNLOAD: Final = int(FileSizeLimit.FILESIZE_DOWNLOAD)
MAX_UPLOAD: Final = int(FileSizeLimit.FILESIZE_UPLOAD)
MAX_PHOTO: Final = int(FileSizeLimit.PHOTOSIZE_UPLOAD)


class HtmlError(ValueError):
    """Telegram would refuse the text: "can't parse entities: <the message>"."""


_TAG = re.compile(
    r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)"
    r"((?:\s+[a-zA-Z][a-zA-Z0-9-]*(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s\"'>]+))?)*)\s*>"
)
_ATTR = re.compile(r"([a-zA-Z][a-zA-Z0-9-]*)(?:\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s\"'>]+)))?")
_SPECIAL = re.compile(r"[<&]")
_CHAR_REF = re.compile(r"&(#[0-9]+|#[xX][0-9a-fA-F]+|lt|gt|amp|quot);")
_NAMED_REF = re.compile(r"&([a-zA-Z][a-zA-Z0-9]*);")
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
        raise HtmlError(f'unsupported start tag "span" at byte offset {offset}')
    if name == "a":
        entity["url"] = values.get("href", "")
    if name == "tg-emoji":
        entity["custom_emoji_id"] = values.get("emoji-id", "")
    if name == "blockquote" and "expandable" in values:
        entity["type"] = "expandable_blockquote"
    if name == "code" and values.get("class", "").startswith("language-"):
        entity["language"] = values["class"].removeprefix("language-")
    return entity


def parse(source: str) -> tuple[str, list[JSONDict]]:
    """Plain text and entities of a Telegram-HTML text; HtmlError as Telegram would refuse it."""
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
            raise HtmlError(f'unexpected "<" at byte offset {offset}')
        closing, name = match[1] == "/", match[2].lower()
        if name not in _TAG_ENTITY:
            kind = "end" if closing else "start"
            raise HtmlError(f'unsupported {kind} tag "{name}" at byte offset {offset}')
        if not closing:
            stack.append((name, units, _open_entity(name, match[3], offset)))
        elif not stack or stack[-1][0] != name:
            raise HtmlError(f'unmatched end tag "{name}" at byte offset {offset}')
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
        raise HtmlError(f'can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def problems(text: str, *, caption: bool = False) -> list[str]:
    """Everything Telegram would refuse in this HTML message (empty when it is fine), and named
    entities it would show literally (only &lt; &gt; &amp; &quot; are understood)."""
    try:
        plain, _ = parse(text)
    except HtmlError as exc:
        return [str(exc)]
    found = [
        f"entity &{name}; is not supported"
        for name in _NAMED_REF.findall(text)
        if name not in ("lt", "gt", "amp", "quot")
    ]
    limit = MAX_CAPTION if caption else MAX_TEXT
    if utf16_len(plain) > limit:
        found.append(f"{utf16_len(plain)} characters, more than {limit}")
    if not caption and not plain.strip():
        found.append("empty message")
    return found


def to_plain(source: str) -> str:
    """Telegram HTML as the plain text a person reads, tolerant of markup Telegram would refuse."""
    try:
        return parse(source)[0]
    except HtmlError:
        return html.unescape(re.sub(r"<[^<>]*>", "", source))
