"""The administrator confirms a registration from their own chat: they open the link the
applicant forwards (``/start adm-…``; the applicant may open it too when they are the
administrator) and share their own Telegram contact, whose number must be the
administrator mobile of the registration. Reviewers see the confirmation on the card.
Diagram: ``admin_confirm.mmd`` beside this file."""

from __future__ import annotations

from enum import StrEnum

from telegram import ReplyKeyboardRemove, Update
from telegram.ext import Application, CommandHandler, ConversationHandler, MessageHandler, filters

from bot.rules import validators
from bot.services.registrations import ADMIN_LINK, NotAsked
from conversations import keyboards
from conversations.common import Context, Turn
from conversations.review import cards

END = ConversationHandler.END
_PENDING = "admin_link"  # user_data: the link being confirmed


class State(StrEnum):
    CONTACT = "contact"  # waiting for the administrator's own contact


async def on_link(update: Update, context: Context) -> State | int:
    """The forwarded link: say what is confirmed and ask for the contact."""
    turn = Turn.of(update, context)
    payload = (context.args or [""])[0]
    try:
        registration = context.services.registrations.admin_invitation(payload)
    except NotAsked:
        await turn.reply(turn.t("admin.link_invalid"))
        return END
    if context.user_data is not None:
        context.user_data[_PENDING] = payload
    await turn.reply(
        turn.render("admin_invite", registration=registration),
        keyboards.share_phone(turn.texts, turn.locale),
    )
    return State.CONTACT


async def on_contact(update: Update, context: Context) -> State | int:
    """Their own contact, with the administrator mobile: confirmed."""
    turn = Turn.of(update, context)
    message = update.effective_message
    assert message is not None and message.contact is not None
    if message.contact.user_id != turn.user_id:
        await turn.reply(turn.t("error.contact.not_yours"))
        return State.CONTACT
    payload = context.user_data.pop(_PENDING, "") if context.user_data is not None else ""
    try:
        registration = context.services.registrations.confirm_admin(
            payload, turn.user_id, message.contact.phone_number
        )
    except validators.Invalid as error:
        await turn.reply(turn.t(f"error.{error.code}"), ReplyKeyboardRemove())
        return END
    except NotAsked:
        await turn.reply(turn.t("admin.link_invalid"), ReplyKeyboardRemove())
        return END
    await turn.reply(turn.t("admin.confirmed"), ReplyKeyboardRemove())
    await cards.refresh_card(context, registration)  # the reviewers see it at once
    return END


async def on_other(update: Update, context: Context) -> State:
    """Anything but a contact while one is expected: ask again."""
    turn = Turn.of(update, context)
    await turn.reply(turn.t("admin.share_contact"), keyboards.share_phone(turn.texts, turn.locale))
    return State.CONTACT


async def on_cancel(update: Update, context: Context) -> int:
    turn = Turn.of(update, context)
    if context.user_data is not None:
        context.user_data.pop(_PENDING, None)
    await turn.reply(turn.t("misc.cancelled"), ReplyKeyboardRemove())
    return END


def register(application: Application) -> None:  # type: ignore[type-arg]
    """Before the other conversations: only ``/start adm-…`` enters it."""
    private = filters.ChatType.PRIVATE
    link = filters.Regex(rf"^/start {ADMIN_LINK}")
    application.add_handler(
        ConversationHandler(
            name="admin_confirm",
            persistent=True,
            per_message=False,
            entry_points=[CommandHandler("start", on_link, filters=private & link)],
            states={
                State.CONTACT: [
                    MessageHandler(filters.CONTACT & private, on_contact),
                    MessageHandler(~filters.COMMAND & private, on_other),
                ],
            },
            fallbacks=[CommandHandler("cancel", on_cancel, filters=private)],
        )
    )
