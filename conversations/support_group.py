"""Support tickets in the support group: an agent's reply goes to the user, ``/close`` or the
button ends a ticket (the button is also the user's, in private). Only agents act (the
``agents`` filter); anyone else there is refused and nothing reaches the user.
Diagram: ``support_group.mmd`` beside this file (the whole ticket: ``support.mmd``)."""

from __future__ import annotations

import logging

from telegram import Message, Update
from telegram.constants import ChatType
from telegram.error import Forbidden, TelegramError
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot import telegram_html
from bot.services.support import ClosedBy, Ticket
from conversations.common import (
    Context,
    Services,
    Turn,
    account_locale,
    acknowledge,
    callback_parts,
)
from conversations.support import (
    RepliesToTicket,
    agents,
    close_own,
    is_agent,
    refuse,
    relayable,
)

log = logging.getLogger(__name__)


# -- the support group's side ------------------------------------------------------------
async def answer_user(update: Update, context: Context) -> None:
    """An agent's reply to a ticket message: delivered to the user; problems are said in
    the group, success is silent (the group stays readable)."""
    message = update.message
    if message is None or message.reply_to_message is None:
        return  # an edited reply is not delivered twice
    tickets = context.services.support
    ticket = tickets.ticket_for(message.chat_id, message.reply_to_message.message_id)
    if ticket is None:
        return
    turn = Turn.staff(update, context, "button")
    problem: str | None = None
    if not ticket.is_open:
        problem = turn.t("ticket.group_closed_not_delivered", ticket=ticket.id)
    elif not relayable(message):
        problem = turn.t("ticket.group_unsupported")
    else:
        try:
            await _deliver(context, ticket, message)
        except Forbidden:
            problem = turn.t("ticket.group_blocked", ticket=ticket.id)
        except TelegramError:
            log.warning("ticket %s: reply not delivered", ticket.id, exc_info=True)
            problem = turn.t("ticket.group_not_delivered", ticket=ticket.id)
        else:
            tickets.relayed_to_user(ticket)
    if problem is not None:
        await message.reply_text(problem, do_quote=True)


async def _deliver(context: Context, ticket: Ticket, message: Message) -> None:
    """Send an agent's message to the user under a "support replied" line; a message too
    long to carry that line goes as it is."""
    locale = account_locale(context.services, ticket.user_id)
    texts = context.services.texts
    bot = context.bot
    if message.text is not None:
        text = texts.render(locale, "ticket_reply", ticket=ticket.id, text=message.text)
        if not telegram_html.problems(text):
            await bot.send_message(ticket.user_id, text)
            return
    else:
        caption = texts.render(locale, "ticket_reply", ticket=ticket.id, text=message.caption)
        if not telegram_html.problems(caption, caption=True):
            await bot.copy_message(
                ticket.user_id, message.chat_id, message.message_id, caption=caption
            )
            return
    await bot.copy_message(ticket.user_id, message.chat_id, message.message_id)


async def close_by_agent(update: Update, context: Context) -> None:
    """/close in reply to a ticket message, or the header's button: close it, tell the user."""
    turn = Turn.staff(update, context, "button")
    await turn.acknowledge()
    message = update.effective_message
    agent = update.effective_user
    assert message is not None and agent is not None
    tickets = context.services.support
    parts = callback_parts(update)
    ticket: Ticket | None = None
    if update.callback_query is not None:
        ticket = tickets.get(int(parts[2])) if len(parts) == 3 and parts[2].isdigit() else None
    elif message.reply_to_message is not None:
        ticket = tickets.ticket_for(message.chat_id, message.reply_to_message.message_id)
    if ticket is None:
        await turn.reply(turn.t("ticket.group_reply_to_close"))
        return
    if not ticket.is_open:
        await turn.reply(turn.t("ticket.group_already_closed", ticket=ticket.id))
        return
    ticket = tickets.close(ticket, ClosedBy.SUPPORT)
    locale = account_locale(context.services, ticket.user_id)
    told = turn.texts.t(locale, "ticket.closed_by_agent", ticket=ticket.id)
    try:
        await context.bot.send_message(ticket.user_id, told)
    except TelegramError:
        log.info("ticket %s: the user was not told of the closing", ticket.id, exc_info=True)
    await turn.reply(
        turn.t("ticket.group_closed_by_agent", ticket=ticket.id, name=agent.full_name),
    )


async def on_close_button(update: Update, context: Context) -> None:
    """The "close ticket" button: the user's own in private, any ticket in the support group
    for an agent (anyone else there is refused)."""
    chat = update.effective_chat
    settings = context.services.settings
    if chat is not None and chat.type == ChatType.PRIVATE:
        await close_own(update, context)
    elif is_agent(update, settings):
        await close_by_agent(update, context)
    elif chat is not None and chat.id == settings.SUPPORT_CHAT_ID:
        await refuse(update, context)
    else:
        await acknowledge(update, context)


def register(application: Application, services: Services) -> None:  # type: ignore[type-arg]
    """The close button (both sides) and the support group's handlers, right after the
    user's side (``support.register``)."""
    application.add_handler(CallbackQueryHandler(on_close_button, pattern=r"^sup:close:\d+$"))
    support_chat = services.settings.SUPPORT_CHAT_ID
    if support_chat is None:
        return
    if not services.settings.SUPPORT_AGENT_IDS:
        log.warning("SUPPORT_CHAT_ID is set but SUPPORT_AGENT_IDS is empty: no tickets")
    # Only the support group: messages in any other group never reach these handlers.
    in_support = filters.Chat(chat_id=support_chat)
    staff = agents(services.settings)
    to_ticket = filters.REPLY & ~filters.COMMAND & RepliesToTicket(services.support)
    application.add_handler(CommandHandler("close", close_by_agent, filters=staff))
    application.add_handler(MessageHandler(staff & to_ticket, answer_user))
    # Everyone else in the support group: told no, and nothing reaches the user.
    application.add_handler(CommandHandler("close", refuse, filters=in_support))
    application.add_handler(MessageHandler(in_support & to_ticket, refuse))
