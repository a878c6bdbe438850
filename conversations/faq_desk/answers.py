"""``/answer KEY`` in reply to a ticket message: that entry's answer to the user, in their
language (``/answer`` alone suggests entries for the message replied to)."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import BadRequest, Forbidden, TelegramError

from bot.services.support import Ticket
from conversations import faq, keyboards
from conversations.common import Context, account_locale, callback_parts
from conversations.faq_desk import shared

log = logging.getLogger(__name__)


SUGGESTED = 3


# -- /answer ------------------------------------------------------------------------------
async def answer(update: Update, context: Context) -> None:
    """/answer KEY in reply to a ticket message: that entry's answer to the user; /answer
    alone: the entries closest to the message replied to, as buttons."""
    turn = shared.turn_of(update, context)
    message = update.message
    assert message is not None
    target = message.reply_to_message
    tickets = context.services.support
    ticket = tickets.ticket_for(message.chat_id, target.message_id) if target else None
    if ticket is None or target is None:
        await turn.reply(turn.t("faq_desk.usage.answer"))
        return
    key = shared.first_arg(context)
    if key is not None:
        await _send_entry(update, context, ticket, key)
        return
    book = context.services.faq.book
    asked = target.text or target.caption or ""
    close = [book.get(m.topic) for m in book.matcher().rank(asked)[:SUGGESTED] if m.score > 0]
    found = [e for e in close if e is not None]
    if not found:
        await turn.reply(turn.t("faq_desk.answer_none"))
        return
    staff = turn.locale
    rows = [
        [
            (
                turn.button("send_entry", title=faq.title_plain(context.services.texts, staff, e)),
                f"fq:ans:{ticket.id}:{e.key}",
            )
        ]
        for e in found
    ]
    await turn.reply(turn.t("faq_desk.answer_suggest", ticket=ticket.id), keyboards.inline(rows))


async def on_send_entry(update: Update, context: Context) -> None:
    """A suggested entry's button: send it to the ticket's user."""
    turn = shared.turn_of(update, context)
    parts = callback_parts(update)
    ticket = context.services.support.get(int(parts[2])) if parts[2].isdigit() else None
    if ticket is None or len(parts) != 4:
        await turn.acknowledge(turn.button("draft_gone"), alert=True)
        return
    await turn.acknowledge()
    await _send_entry(update, context, ticket, parts[3])


async def _send_entry(update: Update, context: Context, ticket: Ticket, key: str) -> None:
    """Send an entry's answer to a ticket's user in their language; record it; say so."""
    turn = shared.turn_of(update, context)
    services = context.services
    texts = services.texts
    entry = await shared.live_entry(turn, key)
    if entry is None:
        return
    staff = turn.locale
    if not ticket.is_open:
        await turn.reply(turn.t("ticket.group_closed_not_delivered", ticket=ticket.id))
        return
    locale = account_locale(services, ticket.user_id)
    text = texts.render(
        locale,
        "ticket_faq_answer",
        ticket=ticket.id,
        title=faq.title(texts, locale, entry),
        answer=faq.answer(texts, locale, entry, services.settings.SUPPORT_EMAIL),
    )
    try:
        await context.bot.send_message(ticket.user_id, text)
    except Forbidden:
        await turn.reply(turn.t("ticket.group_blocked", ticket=ticket.id))
        return
    except (BadRequest, TelegramError):
        log.warning("ticket %s: FAQ answer not delivered", ticket.id, exc_info=True)
        await turn.reply(turn.t("ticket.group_not_delivered", ticket=ticket.id))
        return
    context.services.support.answered_with(ticket, entry.key)
    services.faq.book.answered_ticket(ticket.id, entry.key, turn.user_id, locale)
    shown = faq.title(texts, staff, entry)
    await turn.reply(
        turn.t(
            "faq_desk.answer_sent",
            title=shown,
            entry=entry.key,
            ticket=ticket.id,
            language=shared.language_name(turn, locale),
        ),
    )
