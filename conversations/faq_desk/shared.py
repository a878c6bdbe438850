"""What every part of the FAQ desk shares: the staff's language, texts and buttons, who is
acting, errors said plainly."""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any

from markupsafe import Markup
from telegram import Update
from telegram.error import TelegramError

from bot.services.faq_book import FaqError
from conversations.common import Context, acknowledge, reply

log = logging.getLogger(__name__)

#: A handler of the desk (a command, a button, a reply).
Handler = Callable[[Update, Context], Coroutine[Any, Any, None]]


def staff_locale(context: Context) -> str:
    """The support chat reads the platform's language."""
    return context.services.settings.DEFAULT_LOCALE


def t(context: Context, name: str, **params: Any) -> Markup:
    return context.services.texts.t(staff_locale(context), f"faq_desk.{name}", **params)


def b(context: Context, name: str, **params: Any) -> str:
    return context.services.texts.plain(staff_locale(context), f"faq_desk.button.{name}", **params)


def language_name(context: Context, locale: str) -> str:
    return context.services.texts.plain(staff_locale(context), f"faq_desk.language.{locale}")


def agent_of(update: Update) -> int:
    user = update.effective_user
    assert user is not None
    return user.id


def first_arg(context: Context) -> str | None:
    return context.args[0].strip().casefold() if context.args else None


async def show_error(update: Update, context: Context, error: FaqError) -> None:
    """A change that could not be made, said plainly (an alert for a button)."""
    text = t(context, f"error.{error.code}", **error.params)
    if update.callback_query is not None:
        await acknowledge(update, context, text.striptags(), alert=True)
    else:
        await reply(update, text)


async def drop_buttons(update: Update) -> None:
    """Take the buttons off a card that has been acted on (best effort)."""
    query = update.callback_query
    if query is None:
        return
    try:
        await query.edit_message_reply_markup(None)
    except TelegramError:
        log.info("buttons left on a finished card", exc_info=True)
