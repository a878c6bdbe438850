"""What every part of the FAQ desk shares: the staff's language, texts and buttons, who is
acting, errors said plainly."""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any

from telegram import Update
from telegram.error import TelegramError

from bot.services.faq_book import Entry, FaqError
from conversations.common import Context, Turn

log = logging.getLogger(__name__)

#: A handler of the desk (a command, a button, a reply).
Handler = Callable[[Update, Context], Coroutine[Any, Any, None]]


#: Where the desk's button labels are.
BUTTONS = "faq_desk.button"


def turn_of(update: Update, context: Context) -> Turn:
    """The turn of an update in the support chat (the platform's language)."""
    return Turn.staff(update, context, BUTTONS)


def language_name(turn: Turn, locale: str) -> str:
    """A language's name, as the staff read it."""
    return turn.plain(f"faq_desk.language.{locale}")


def first_arg(context: Context) -> str | None:
    return context.args[0].strip().casefold() if context.args else None


async def named_key(turn: Turn, context: Context, usage: str) -> str | None:
    """The entry key a command names; None without one (the agent is told the usage)."""
    key = first_arg(context)
    if key is None:
        await turn.reply(turn.t(f"faq_desk.usage.{usage}"))
    return key


async def live_entry(turn: Turn, key: str) -> Entry | None:
    """The live entry ``key``; None when there is none (the agent is told so)."""
    entry = turn.services.faq.book.get(key)
    if entry is None:
        await show_error(turn, FaqError("missing", entry=key))
    return entry


async def show_error(turn: Turn, error: FaqError) -> None:
    """A change that could not be made, said plainly (an alert for a button)."""
    text = turn.t(f"faq_desk.error.{error.code}", **error.params)
    if turn.is_press:
        await turn.acknowledge(text.striptags(), alert=True)
    else:
        await turn.reply(text)


async def drop_buttons(update: Update) -> None:
    """Take the buttons off a card that has been acted on (best effort)."""
    query = update.callback_query
    if query is None:
        return
    try:
        await query.edit_message_reply_markup(None)
    except TelegramError:
        log.info("buttons left on a finished card", exc_info=True)
