"""Support tickets. A user opens one (the button under /support, or the FAQ's offer); from
then on their private messages outside the applicant form are copied into the support group
(``SUPPORT_CHAT_ID``), where a support agent (``SUPPORT_AGENT_IDS``) answers by replying to
a ticket message, or with an FAQ entry (``/answer KEY``, ``conversations.faq_desk``).
``/close`` or the button ends it, on either side. Diagram: ``support.mmd`` beside this file.

Handlers by audience: the user's private chat, and the support group (other groups are
ignored). In the support group one filter, ``agents``, admits agents for every action on
tickets and on the FAQ; anyone else there gets ``refuse``, which says nothing about the
ticket. Tickets are offered only when there is an agent to answer them. Which ticket a group
message belongs to is read from storage, so replies keep working across restarts. Messages
are copied, not forwarded: a copy works when the user hides forwarding, and shows the other
side nothing but the message.

The user's side is here, the support group's side in ``support_group``.
"""

from __future__ import annotations

import logging

from telegram import InlineKeyboardMarkup, Message, ReplyParameters, Update, User
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.services.support import ClosedBy, SupportDesk, Ticket
from bot.settings import Settings
from bot.texts import Texts
from conversations import keyboards
from conversations.common import (
    Context,
    Services,
    Turn,
    callback_parts,
    refuse_staff,
)

log = logging.getLogger(__name__)

PRIVATE = filters.ChatType.PRIVATE


class _HasOpenTicket(filters.MessageFilter):
    """Messages from a user with an open ticket (looked up in storage for each message)."""

    def __init__(self, desk: SupportDesk) -> None:
        super().__init__(name="HasOpenTicket")
        self._desk = desk

    def filter(self, message: Message) -> bool:
        user = message.from_user
        return user is not None and self._desk.open_ticket(user.id) is not None


class RepliesToTicket(filters.MessageFilter):
    """Replies to a ticket's message; other replies are left to other handlers (the same
    group may serve reviewers too)."""

    def __init__(self, desk: SupportDesk) -> None:
        super().__init__(name="RepliesToTicket")
        self._desk = desk

    def filter(self, message: Message) -> bool:
        target = message.reply_to_message
        return (
            target is not None
            and self._desk.ticket_for(message.chat_id, target.message_id) is not None
        )


def agents(settings: Settings) -> filters.BaseFilter:
    """The one access check for support staff: a message in the support chat from one of
    ``SUPPORT_AGENT_IDS`` (nobody, while either is unset)."""
    chat = settings.SUPPORT_CHAT_ID
    # A filter that admits no chat when there is no support chat (Chat() with no id is False).
    return filters.Chat(chat_id=chat) & filters.User(user_id=settings.SUPPORT_AGENT_IDS)


def is_agent(update: Update, settings: Settings) -> bool:
    """The same check for button presses (callback queries carry no message filter)."""
    chat, user = update.effective_chat, update.effective_user
    return (
        chat is not None
        and user is not None
        and settings.SUPPORT_CHAT_ID is not None
        and chat.id == settings.SUPPORT_CHAT_ID
        and user.id in settings.SUPPORT_AGENT_IDS
    )


async def refuse(update: Update, context: Context) -> None:
    """Anyone but an agent, on a staff action: a refusal that reveals nothing (the same
    words whatever was asked, and whether or not it exists)."""
    await refuse_staff(update, context, "ticket.refused")


def relayable(message: Message) -> bool:
    """Text, photos and documents are relayed; stickers, voice, polls … are not."""
    return bool(message.text or message.photo or message.document)


def ticket_buttons(texts: Texts, locale: str, ticket: Ticket | None) -> InlineKeyboardMarkup:
    """The "open a ticket" button, or "close ticket" when one is open."""
    if ticket is not None:
        return keyboards.inline(
            [[(texts.plain(locale, "button.close_ticket"), f"sup:close:{ticket.id}")]]
        )
    return keyboards.inline([[(texts.plain(locale, "button.open_ticket"), "sup:open")]])


def staff_locale(context: Context) -> str:
    """The support group reads the platform's language."""
    return context.services.settings.DEFAULT_LOCALE


# -- the user's side ---------------------------------------------------------------------
async def open_ticket(update: Update, context: Context) -> None:
    """Open a ticket (or show the open one); a question carried from the FAQ goes first."""
    turn = Turn.of(update, context)
    await turn.acknowledge()
    user, chat = update.effective_user, update.effective_chat
    assert user is not None and chat is not None
    services = context.services
    texts = services.texts
    support_chat = services.settings.SUPPORT_CHAT_ID
    if support_chat is None or not services.settings.support_desk or chat.type != ChatType.PRIVATE:
        email = services.settings.SUPPORT_EMAIL
        await turn.reply(turn.t("ticket.unavailable", email=email))
        return
    # Agents' replies and the closing notice reach the user outside their updates: the
    # account remembers the language to write in.
    services.accounts.ensure(user.id, language_code=user.language_code)
    tickets = context.services.support
    if tickets.open_ticket(user.id) is None and not tickets.allow(user.id):
        # The header is a post in the support group: it counts against the user's limit
        # like every message relayed there (opening and closing in a loop would flood it).
        await turn.reply(turn.t("ticket.slow_down", limit=tickets.limit))
        return
    ticket, new = tickets.open(user.id)
    if not new:
        await turn.reply(
            turn.t("ticket.already_open", ticket=ticket.id),
            ticket_buttons(turn.texts, turn.locale, ticket),
        )
        return
    staff = staff_locale(context)
    try:
        header = await context.bot.send_message(
            support_chat,
            _header(context, user, ticket, turn.locale),
            reply_markup=ticket_buttons(texts, staff, ticket),
        )
    except TelegramError:
        log.warning("ticket %s: the support group is unreachable", ticket.id, exc_info=True)
        # Nobody would read the user's messages: close it and point to the e-mail.
        tickets.close(ticket, ClosedBy.SYSTEM)
        email = services.settings.SUPPORT_EMAIL
        await turn.reply(turn.t("ticket.unavailable", email=email))
        return
    ticket = tickets.posted_header(ticket, support_chat, header.message_id)
    parts = callback_parts(update)
    question = int(parts[2]) if len(parts) == 3 and parts[2].isdigit() else None
    passed_on = False
    if question is not None and tickets.allow(user.id):
        passed_on = await _copy_to_support(context, ticket, chat.id, question) is not None
    await turn.reply(
        turn.render("ticket_opened", ticket=ticket.id, question=passed_on),
        ticket_buttons(turn.texts, turn.locale, ticket),
    )


def _header(context: Context, user: User, ticket: Ticket, user_locale: str) -> str:
    """The ticket's first message in the support group: who writes, and where they stand."""
    services = context.services
    return services.texts.render(
        staff_locale(context),
        "ticket_header",
        ticket=ticket.id,
        name=user.full_name,
        username=user.username,
        user_id=user.id,
        language=user_locale,
        registrations=services.registrations.of_user(user.id),
    )


async def _copy_to_support(
    context: Context, ticket: Ticket, from_chat: int, message_id: int
) -> Ticket | None:
    """Copy one of the user's messages into the support group under the ticket's header;
    None when Telegram refused (the message is gone, the group is unreachable)."""
    support_chat = context.services.settings.SUPPORT_CHAT_ID
    assert support_chat is not None
    under = None
    if ticket.header_chat_id == support_chat and ticket.header_message_id is not None:
        under = ReplyParameters(ticket.header_message_id, allow_sending_without_reply=True)
    try:
        copied = await context.bot.copy_message(
            support_chat, from_chat, message_id, reply_parameters=under
        )
    except TelegramError:
        log.warning("ticket %s: message not copied to support", ticket.id, exc_info=True)
        return None
    tickets = context.services.support
    tickets.link(ticket, support_chat, copied.message_id)
    return tickets.relayed_from_user(ticket)


async def relay_to_support(update: Update, context: Context) -> None:
    """A message while the user's ticket is open: copied to the support group (within the
    rate limit, and only the kinds agents can read)."""
    message = update.message
    user = update.effective_user
    if message is None or user is None:
        return  # an edit: the copy already posted stays as it was sent
    tickets = context.services.support
    ticket = tickets.open_ticket(user.id)
    if ticket is None:
        return
    turn = Turn.of(update, context)
    if not tickets.allow(user.id):
        await turn.reply(turn.t("ticket.rate_limited", limit=tickets.limit))
        return
    if not relayable(message):
        await turn.reply(turn.t("ticket.unsupported"))
        return
    relayed = await _copy_to_support(context, ticket, message.chat_id, message.message_id)
    if relayed is None:
        await turn.reply(turn.t("ticket.relay_failed"))
    elif relayed.from_user == 1:
        # Said once per ticket: acknowledging every message would double the chat.
        await turn.reply(turn.t("ticket.sent", ticket=ticket.id))


async def close_own(update: Update, context: Context) -> None:
    """The user closes their ticket (/close, or the button in the private chat)."""
    turn = Turn.of(update, context)
    await turn.acknowledge()
    tickets = context.services.support
    ticket = tickets.open_ticket(turn.user_id)
    parts = callback_parts(update)
    if len(parts) == 3 and (ticket is None or parts[2] != str(ticket.id)):
        # The button of an earlier ticket: that one is closed, a newer one stays open.
        await turn.reply(turn.t("ticket.already_closed", ticket=parts[2]))
        return
    if ticket is None:
        await turn.reply(turn.t("ticket.none_open"))
        return
    if not tickets.allow(turn.user_id):  # the closing notice is a post in the group too
        await turn.reply(turn.t("ticket.slow_down", limit=tickets.limit))
        return
    ticket = tickets.close(ticket, ClosedBy.USER)
    notice = turn.texts.t(staff_locale(context), "ticket.group_closed_by_user", ticket=ticket.id)
    await _tell_support(context, ticket, notice)
    await turn.reply(turn.t("ticket.closed_by_user", ticket=ticket.id))


async def _tell_support(context: Context, ticket: Ticket, text: str) -> None:
    """A notice in the support group, under the ticket's header."""
    support_chat = context.services.settings.SUPPORT_CHAT_ID
    if support_chat is None:
        return
    under = None
    if ticket.header_chat_id == support_chat and ticket.header_message_id is not None:
        under = ReplyParameters(ticket.header_message_id, allow_sending_without_reply=True)
    try:
        await context.bot.send_message(support_chat, text, reply_parameters=under)
    except TelegramError:
        log.warning("ticket %s: notice not posted in support", ticket.id, exc_info=True)


def register(application: Application, services: Services) -> None:  # type: ignore[type-arg]
    """The user's side of tickets; after the applicant conversation (the form keeps its
    text) and before the basic handlers (a user with an open ticket writes to support, not
    to the FAQ)."""
    application.add_handler(CallbackQueryHandler(open_ticket, pattern=r"^sup:open(:\d+)?$"))
    application.add_handler(CommandHandler("close", close_own, filters=PRIVATE))
    application.add_handler(
        MessageHandler(
            PRIVATE & ~filters.COMMAND & _HasOpenTicket(services.support), relay_to_support
        )
    )
