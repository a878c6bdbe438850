"""Checks that a text is HTML Telegram accepts: only its tags, balanced, entities escaped,
and within its length limits (counted after entity parsing, as Telegram does)."""

from __future__ import annotations

import html
from html.parser import HTMLParser

MAX_TEXT = 4096
MAX_CAPTION = 1024

ALLOWED = {
    "b": set(),
    "strong": set(),
    "i": set(),
    "em": set(),
    "u": set(),
    "ins": set(),
    "s": set(),
    "strike": set(),
    "del": set(),
    "tg-spoiler": set(),
    "span": {"class"},
    "a": {"href"},
    "code": {"class"},
    "pre": set(),
    "blockquote": {"expandable"},
    "tg-emoji": {"emoji-id"},
}


class _Checker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.problems: list[str] = []
        self.stack: list[str] = []
        self.visible = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED:
            self.problems.append(f"tag <{tag}> is not allowed")
            return
        for name, _ in attrs:
            if name not in ALLOWED[tag]:
                self.problems.append(f"attribute {name} not allowed on <{tag}>")
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"unbalanced </{tag}>")
            return
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        if "<" in data or ">" in data:
            self.problems.append("unescaped < or > in text")
        if "&" in data:
            self.problems.append("unescaped & in text")
        self.visible += len(data)

    def handle_entityref(self, name: str) -> None:
        if name not in ("lt", "gt", "amp", "quot"):
            self.problems.append(f"entity &{name}; is not supported")
        self.visible += 1

    def handle_charref(self, name: str) -> None:
        self.visible += 1


def problems(text: str, *, caption: bool = False) -> list[str]:
    """Everything Telegram would refuse in this HTML message (empty when it is fine)."""
    checker = _Checker()
    checker.feed(text)
    checker.close()
    found = list(checker.problems)
    if checker.stack:
        found.append(f"unclosed <{checker.stack[-1]}>")
    limit = MAX_CAPTION if caption else MAX_TEXT
    # Telegram counts UTF-16 code units after parsing entities.
    visible = len(html.unescape(_strip_tags(text)).encode("utf-16-le")) // 2
    if visible > limit:
        found.append(f"{visible} characters, more than {limit}")
    if not caption and not text.strip():
        found.append("empty message")
    return found


def _strip_tags(text: str) -> str:
    class _Text(HTMLParser):
        def __init__(self) -> None:
            super().__init__(convert_charrefs=False)
            self.parts: list[str] = []

        def handle_data(self, data: str) -> None:
            self.parts.append(data)

        def handle_entityref(self, name: str) -> None:
            self.parts.append(f"&{name};")

        def handle_charref(self, name: str) -> None:
            self.parts.append(f"&#{name};")

    parser = _Text()
    parser.feed(text)
    parser.close()
    return "".join(parser.parts)


def to_plain(text: str) -> str:
    """Telegram HTML as the plain text a person reads (tags dropped, entities decoded)."""
    return html.unescape(_strip_tags(text))
