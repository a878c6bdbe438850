"""What the reviewers' desk modules share: texts in the group's language, the card, and
running a reviewer's action with its answer, card refresh and delivery."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Literal, TypeVar

from markupsafe import Markup
from telegram import ForceReply, Update, User
from telegram.error import BadRequest, TelegramError

from bot.rules.models import Registration
from bot.services.change_requests import AwaitedAnswer
from bot.services.review import Denied
from conversations import delivery, presenter
from conversations.common import Context, Turn, callback_parts

log = logging.getLogger(__name__)

T = TypeVar("T")


#: Where the reviewers' button labels are.
BUTTONS = "review.button"


def turn_of(update: Update, context: Context) -> Turn:
    """The turn of an update in the admin group (the platform's language); a reviewer's
    name is kept as Telegram gives it, to show them by name."""
    user = update.effective_user
    services = context.services
    if user is not None and user.id in services.settings.REVIEWER_IDS:
        try:
            services.review.remember_name(user.id, display_name(user))
        except OSError:  # a full disk must not stop reviewers from reading the queue
            log.warning("the name of reviewer %s was not kept", user.id, exc_info=True)
    return Turn.staff(update, context, BUTTONS)


def display_name(user: User) -> str:
    """First and last name as Telegram gives them, else the @username."""
    return user.full_name.strip() or (f"@{user.username}" if user.username else "")


async def refresh_card(context: Context, registration: Registration) -> None:
    """Edit the group's card and every copy /review posted of it to the registration's
    current state (best effort: a copy someone deleted is only logged)."""
    shown = [registration.card_message_id, *registration.card_copies]
    messages = [m for m in dict.fromkeys(shown) if m is not None]
    if not messages:
        return
    chat = context.services.settings.ADMIN_CHAT_ID
    assert chat is not None
    text, markup = presenter.card(context.services, registration)
    for message_id in messages:
        try:
            await context.bot.edit_message_text(
                text, chat_id=chat, message_id=message_id, reply_markup=markup
            )
        except BadRequest as error:
            if "not modified" not in str(error).lower():
                log.warning("card %s of %s not updated: %s", message_id, registration.number, error)
        except TelegramError:
            log.warning("card %s of %s not updated", message_id, registration.number, exc_info=True)


def arg(context: Context) -> str | None:
    """The first argument of a command, if any."""
    return context.args[0] if context.args else None


async def await_text(turn: Turn, what: AwaitedAnswer, prompt: str) -> None:
    """Ask for a typed answer as a reply (the bot sees replies to it in privacy mode)."""
    message = await turn.reply(prompt, ForceReply(selective=True))
    if message is not None:
        turn.services.reviewer_drafts.expect(turn.user_id, message.message_id, what)


# -- shared ------------------------------------------------------------------------------
def target(update: Update, context: Context) -> str | None:
    """The registration a button or command is about."""
    parts = callback_parts(update)
    if len(parts) >= 3:
        return parts[2]
    return arg(context)


async def named(turn: Turn, update: Update, context: Context, usage: str) -> str | None:
    """The registration a button or command names; without one, how to use the command."""
    rid = target(update, context)
    if not rid:
        await turn.reply(turn.t(f"review.usage.{usage}"))
    return rid or None


async def allowed(turn: Turn, look: Callable[[], T]) -> T | None:
    """What ``look`` gives the acting reviewer; None when the service denies it (the
    reviewer is told why)."""
    try:
        return look()
    except Denied as denied:
        await deny(turn, denied)
        return None


async def opened(
    turn: Turn, update: Update, context: Context, usage: str, look: Callable[[str], T]
) -> tuple[str, T] | None:
    """The registration a button or command names and what ``look`` gives for it; None
    when none is named (the reviewer is told the usage) or the service denies it."""
    rid = await named(turn, update, context, usage)
    if rid is None:
        return None
    found = await allowed(turn, lambda: look(rid))
    return None if found is None else (rid, found)


async def with_reason(
    turn: Turn,
    update: Update,
    context: Context,
    action: Literal["reject", "remove"],
    check: Callable[[str, int], Registration] | None = None,
) -> tuple[str, str] | None:
    """A decision that needs a reason: its button asks for the reason as a reply (after
    ``check``, when given, lets this reviewer decide), its command takes ``ID REASON``.
    (id, reason) when both are given; None when asked for, refused, or told the usage."""
    parts = callback_parts(update)
    if parts:  # the button
        rid = parts[2]
        if check is not None and await allowed(turn, lambda: check(rid, turn.user_id)) is None:
            return None
        await turn.acknowledge()
        prompt = turn.t(f"review.ask_{action}_reason", id=rid)
        await await_text(turn, AwaitedAnswer(action=action, id=rid), prompt)
        return None
    args = context.args or []
    if len(args) < 2:
        await turn.reply(turn.t(f"review.usage.{action}"))
        return None
    return args[0], " ".join(args[1:])


async def act(turn: Turn, action: Any, done_key: str) -> bool:
    """Run a service action for the acting reviewer, answer, refresh the card, deliver."""
    registration: Registration | None = await allowed(turn, lambda: action(turn.user_id))
    if registration is None:
        return False
    done = turn.t(f"review.done.{done_key}", id=registration.number)
    await turn.acknowledge(Markup(done).striptags())  # answers are plain text
    await turn.reply(done)
    await refresh_card(turn.context, registration)
    if registration.pending:
        delivery.trigger(turn.context, registration.id)
    return True


async def strip_buttons(turn: Turn) -> None:
    """Take the buttons off the pressed message (a used confirmation; best effort)."""
    query = turn.update.callback_query if turn.update is not None else None
    if query is None:
        return
    try:
        await query.edit_message_reply_markup(None)
    except TelegramError as error:
        log.info("buttons of a used confirmation not removed: %s", error)


async def deny(turn: Turn, denied: Denied) -> None:
    """Why the reviewer cannot do that (an alert for a button)."""
    params = dict(denied.params)
    if "holder" in params:
        params["holder"] = presenter.who(turn.services, params["holder"])
    if "status" in params:
        params["status"] = turn.plain(f"status.{params['status']}")
    text = turn.t(f"review.denied.{denied.code.removeprefix('review.')}", **params)
    if turn.is_press:
        await turn.acknowledge(Markup(text).striptags(), alert=True)
    else:
        await turn.reply(text)
