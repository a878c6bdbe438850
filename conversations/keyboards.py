"""Inline and reply keyboards; labels come from ``strings.toml``, callback data is short
and namespaced (``ap:`` applicant, ``menu:`` main menu, ``lang:`` language, ``faq:`` FAQ,
``sup:`` support tickets, ``my:`` the user's data, ``rv:`` reviewers, ``fq:`` the support
agents' FAQ desk)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, KeyboardButton, ReplyKeyboardMarkup

from bot.texts import Texts

Button = tuple[str, str]  # (label, callback data)
T = TypeVar("T")


def inline(rows: Sequence[Sequence[Button]]) -> InlineKeyboardMarkup:
    """An inline keyboard from rows of (label, callback data)."""
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=data) for label, data in row] for row in rows]
    )


def pairs(buttons: Sequence[Button]) -> list[list[Button]]:
    """Lay buttons out two to a row."""
    return [list(buttons[i : i + 2]) for i in range(0, len(buttons), 2)]


def page_of(items: Sequence[T], page: int, size: int) -> tuple[list[T], int, int]:
    """One page of ``items``: its items, its index (``page``, from 0, moved into the pages
    there are) and how many pages there are (at least one, even for no items)."""
    pages = max(1, -(-len(items) // size))
    page = min(max(page, 0), pages - 1)
    return list(items[page * size : (page + 1) * size]), page, pages


def pager(labels: tuple[str, str], page: int, pages: int, prefix: str) -> list[Button]:
    """The buttons to the previous and the next page, those that exist, of page ``page``
    (from 0) of ``pages``: ``labels`` (previous, next), callback data ``prefix`` + page."""
    nav = []
    if page > 0:
        nav.append((labels[0], f"{prefix}{page - 1}"))
    if page + 1 < pages:
        nav.append((labels[1], f"{prefix}{page + 1}"))
    return nav


def main_menu(texts: Texts, locale: str) -> InlineKeyboardMarkup:
    """The main menu under /start."""

    def b(key: str) -> str:
        return texts.plain(locale, f"button.{key}")

    return inline(
        [
            [(b("apply"), "menu:apply")],
            [(b("status"), "menu:status"), (b("support"), "menu:support")],
            [(b("profile"), "menu:profile"), (b("faq"), "menu:faq")],
            [(b("language"), "menu:language"), (b("help"), "menu:help")],
        ]
    )


def languages() -> InlineKeyboardMarkup:
    """Language choice; each language is named in itself."""
    return inline([[("中文", "lang:zh"), ("English", "lang:en")]])


def share_phone(texts: Texts, locale: str) -> ReplyKeyboardMarkup:
    """A reply keyboard with Telegram's "share my phone number" button."""
    return ReplyKeyboardMarkup(
        [[KeyboardButton(texts.plain(locale, "button.share_phone"), request_contact=True)]],
        resize_keyboard=True,
        one_time_keyboard=True,
    )
