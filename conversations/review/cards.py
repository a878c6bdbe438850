"""What the reviewers' desk modules share: texts in the group's language, the card, and
running a reviewer's action with its answer, card refresh and delivery."""

from __future__ import annotations

import logging
from typing import Any

from markupsafe import Markup
from telegram import ForceReply, Update
from telegram.error import BadRequest, TelegramError

from bot.rules.models import Registration
from bot.services.change_requests import AwaitedAnswer
from bot.services.review import Denied
from conversations import delivery, presenter
from conversations.common import Context, acknowledge, callback_parts, reply

log = logging.getLogger(__name__)


def locale(context: Context) -> str:
    """The admin group's language (DEFAULT_LOCALE)."""
    return context.services.settings.DEFAULT_LOCALE


def t(context: Context, key: str, **params: Any) -> str:
    """A short string in the group's language, as HTML."""
    return context.services.texts.t(locale(context), key, **params)


def b(context: Context, key: str, **params: Any) -> str:
    """A reviewer button's label."""
    return context.services.texts.plain(locale(context), f"review.button.{key}", **params)


async def refresh_card(context: Context, registration: Registration) -> None:
    """Edit the group's card to the registration's current state (best effort)."""
    if registration.card_message_id is None:
        return
    chat = context.services.settings.ADMIN_CHAT_ID
    assert chat is not None
    text, markup = presenter.card(context.services, registration)
    try:
        await context.bot.edit_message_text(
            text, chat_id=chat, message_id=registration.card_message_id, reply_markup=markup
        )
    except BadRequest as error:
        if "not modified" not in str(error).lower():
            log.warning("card of %s not updated: %s", registration.id, error)
    except TelegramError:
        log.warning("card of %s not updated", registration.id, exc_info=True)


def arg(context: Context) -> str | None:
    """The first argument of a command, if any."""
    return context.args[0] if context.args else None


async def await_text(
    update: Update, context: Context, reviewer: int, what: AwaitedAnswer, prompt: str
) -> None:
    """Ask for a typed answer as a reply (the bot sees replies to it in privacy mode)."""
    message = await reply(update, prompt, ForceReply(selective=True))
    if message is not None:
        context.services.reviewer_drafts.expect(reviewer, message.message_id, what)


# -- shared ------------------------------------------------------------------------------
def target(update: Update, context: Context) -> str | None:
    """The registration a button or command is about."""
    parts = callback_parts(update)
    if len(parts) >= 3:
        return parts[2]
    return arg(context)


async def act(update: Update, context: Context, action: Any, done_key: str) -> bool:
    """Run a service action for the acting reviewer, answer, refresh the card, deliver."""
    user = update.effective_user
    assert user is not None
    try:
        registration: Registration = action(user.id)
    except Denied as denied:
        await deny(update, context, denied)
        return False
    done = t(context, f"review.done.{done_key}", id=registration.id)
    await acknowledge(update, context, Markup(done).striptags())  # answers are plain text
    await reply(update, done)
    await refresh_card(context, registration)
    if registration.pending:
        delivery.trigger(context)
    return True


async def deny(update: Update, context: Context, denied: Denied) -> None:
    params = dict(denied.params)
    if "status" in params:
        params["status"] = context.services.texts.plain(
            locale(context), f"status.{params['status']}"
        )
    text = t(context, f"review.denied.{denied.code.removeprefix('review.')}", **params)
    if update.callback_query is not None:
        await acknowledge(update, context, Markup(text).striptags(), alert=True)
    else:
        await reply(update, text)
