"""The applicant's journey in a private chat: phone, agreement, role, the form, the
summary and submission. Diagram: ``applicant.mmd`` beside this file.

Where the applicant stands is read from storage (account, registration cursor) by
``resume``; the conversation state only says which kind of answer is expected next. So
after a restart, a lost state or ``/cancel``, ``/apply`` continues at the exact field.
"""

from __future__ import annotations

import warnings
from typing import Any

from telegram import ReplyKeyboardRemove, Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)
from telegram.warnings import PTBUserWarning

from bot.rules import validators
from bot.services.registrations import (
    AlreadyAnswered,
    Incomplete,
    NeedsConfirmation,
    NotAsked,
)
from conversations import delivery, keyboards
from conversations.applicant import prompts
from conversations.applicant.onboarding import (
    on_agree,
    on_agreement_page,
    on_choose,
    on_contact,
    on_decline,
    on_phone_text,
    on_role,
    on_role_confirmed,
    on_roles,
)
from conversations.applicant.prompts import END, State
from conversations.applicant.uploads import on_document
from conversations.common import Context, Turn, callback_parts


# -- the form ----------------------------------------------------------------------------
async def on_text(update: Update, context: Context) -> State | int:
    """A typed answer to the current field."""
    turn = Turn.of(update, context)
    message = update.effective_message
    assert message is not None and message.text is not None
    registration = prompts.active(turn)
    if registration is None or registration.cursor is None:
        return await prompts.resume_turn(turn)
    try:
        registration = context.services.registrations.answer_text(
            registration.id, registration.cursor, message.text, message.message_id
        )
    except validators.Invalid as error:
        return await prompts.ask(turn, registration, prompts.error_text(turn, error))
    except NeedsConfirmation as unsure:
        # Asked again, with the button that confirms the held answer.
        notice = turn.t("error.scope.unsure", missing=unsure.missing)
        return await prompts.ask(turn, unsure.registration, notice)
    except AlreadyAnswered:
        # Handed over again after a restart: taken already, it must not become the answer
        # to the next field. Show where the applicant stands.
        return await prompts.resume_turn(turn)
    return await prompts.ask(turn, registration)


async def on_form_button(update: Update, context: Context) -> State | int:
    """Choice, keep, skip, back and confirm buttons; an old button gets "out of date"."""
    turn = Turn.of(update, context)
    parts = callback_parts(update)
    registration = prompts.active(turn)
    service = context.services.registrations
    if registration is None or len(parts) < 3 or registration.cursor != parts[2]:
        await turn.acknowledge(turn.plain("misc.stale_button"))
        return await prompts.resume_turn(turn)
    await turn.acknowledge()
    action, key = parts[1], parts[2]
    try:
        if action == "choice" and len(parts) == 4:
            registration = service.answer_text(registration.id, key, parts[3])
        elif action == "keep":
            registration = service.keep(registration.id, key)
        elif action == "skip":
            registration = service.skip(registration.id, key)
        elif action == "back":
            registration = service.back(registration.id, key)
        elif action == "confirm":
            registration = service.confirm(registration.id, key)
    except validators.Invalid as error:
        return await prompts.ask(turn, registration, prompts.error_text(turn, error))
    except NotAsked:
        return await prompts.resume_turn(turn, turn.t("misc.stale_button"))
    return await prompts.ask(turn, registration)


# -- summary -----------------------------------------------------------------------------
async def on_edit(update: Update, context: Context) -> State | int:
    """Jump from the summary to one field."""
    turn = Turn.of(update, context)
    parts = callback_parts(update)
    registration = prompts.active(turn)
    if registration is None or len(parts) != 3:
        await turn.acknowledge(turn.plain("misc.stale_button"))
        return await prompts.resume_turn(turn)
    try:
        registration = context.services.registrations.edit(registration.id, parts[2])
    except NotAsked:
        await turn.acknowledge(turn.plain("misc.stale_button"))
        return await prompts.resume_turn(turn)
    await turn.acknowledge()
    return await prompts.ask(turn, registration)


async def on_submit(update: Update, context: Context) -> State | int:
    """Submit for review; tell the applicant the date by which reviewers answer."""
    turn = Turn.of(update, context)
    parts = callback_parts(update)
    registration = prompts.active(turn)
    if registration is None or len(parts) != 3 or parts[2] != registration.id:
        await turn.acknowledge(turn.plain("misc.stale_button"))
        return await prompts.resume_turn(turn)
    try:
        registration = context.services.registrations.submit(registration.id)
    except Incomplete as missing:
        await turn.acknowledge()
        return await prompts.resume_turn(
            turn,
            turn.t(
                "error.field.missing",
                field=turn.plain(f"field.{missing.field}.label"),
            ),
        )
    except NotAsked:
        await turn.acknowledge(turn.plain("misc.stale_button"))
        return await prompts.resume_turn(turn)
    await turn.acknowledge()
    if context.user_data is not None:
        context.user_data.pop("active", None)
    if registration.pending:
        delivery.trigger(context)  # the reviewers' card leaves now, not at the next tick
    admin_link = None
    if registration.admin_confirmed_at is None:
        payload = context.services.registrations.admin_link(registration.id)
        admin_link = f"https://t.me/{context.bot.username}?start={payload}"
    await turn.reply(
        turn.render(
            "submitted",
            registration=registration,
            email=context.services.settings.email_enabled,
            admin_link=admin_link,
        ),
        keyboards.main_menu(turn.texts, turn.locale),
    )
    return END


# -- anywhere in the conversation ------------------------------------------------------
async def on_cancel(update: Update, context: Context) -> int:
    """Leave the form; the draft stays and /apply continues it."""
    turn = Turn.of(update, context)
    await turn.acknowledge()
    await turn.reply(turn.t("misc.cancelled"), ReplyKeyboardRemove())
    return END


async def on_unexpected(update: Update, context: Context) -> State | int:
    """Stickers, voice, locations, polls, a text where a button is expected …: say what is
    expected and ask again, staying where we are."""
    turn = Turn.of(update, context)
    if update.callback_query is not None:
        await turn.acknowledge(turn.plain("misc.stale_button"))
        return await prompts.resume_turn(turn)
    return await prompts.resume_turn(turn, turn.t("misc.unexpected"))


async def on_other_command(update: Update, context: Context) -> State | int:
    """A command that means nothing inside the form: explain and ask again."""
    turn = Turn.of(update, context)
    return await prompts.resume_turn(turn, turn.t("misc.unknown_command"))


PRIVATE = filters.ChatType.PRIVATE
TEXT = filters.TEXT & ~filters.COMMAND
UPLOAD = filters.PHOTO | filters.Document.ALL
# Commands answered by the basic handlers even in the middle of the form.
GLOBAL_COMMANDS = filters.Regex(
    r"^/(start|help|language|status|support|close|profile|faq|mydata|delete)(@\w+)?(\s|$)"
)
ANYTHING_ELSE = ~filters.COMMAND


def build() -> ConversationHandler[Context]:
    """The applicant conversation (persistent, one per private chat)."""
    unexpected = MessageHandler(ANYTHING_ELSE, on_unexpected)
    stale = CallbackQueryHandler(on_unexpected, pattern=r"^ap:")
    with warnings.catch_warnings():
        # Buttons of earlier messages are accepted on purpose (each is checked against the
        # stored place in the form), so PTB's per_message advice does not apply here.
        warnings.filterwarnings("ignore", "If 'per_message=False'", PTBUserWarning)
        return _conversation(unexpected, stale)


def _conversation(
    unexpected: MessageHandler[Context, Any], stale: CallbackQueryHandler[Context, Any]
) -> ConversationHandler[Context]:
    return ConversationHandler(
        name="applicant",
        persistent=True,
        per_chat=True,
        per_user=True,
        per_message=False,
        entry_points=[
            CommandHandler("apply", prompts.resume, filters=PRIVATE),
            CallbackQueryHandler(prompts.resume, pattern=r"^menu:apply$"),
            CallbackQueryHandler(on_choose, pattern=r"^ap:fix:"),
            CallbackQueryHandler(on_unexpected, pattern=r"^ap:"),
        ],
        states={
            State.PHONE: [
                MessageHandler(filters.CONTACT, on_contact),
                MessageHandler(TEXT, on_phone_text),
            ],
            State.AGREEMENT: [
                CallbackQueryHandler(on_agreement_page, pattern=r"^ap:agr:"),
                CallbackQueryHandler(on_agree, pattern=r"^ap:agree:"),
                CallbackQueryHandler(on_decline, pattern=r"^ap:decline$"),
            ],
            State.ROLE: [
                CallbackQueryHandler(on_role, pattern=r"^ap:role:"),
                CallbackQueryHandler(on_role_confirmed, pattern=r"^ap:role_ok:"),
                CallbackQueryHandler(on_roles, pattern=r"^ap:roles$"),
                CallbackQueryHandler(on_choose, pattern=r"^ap:cont:"),
            ],
            State.FORM: [
                MessageHandler(TEXT, on_text),
                MessageHandler(UPLOAD, on_document),
                CallbackQueryHandler(
                    on_form_button, pattern=r"^ap:(choice|keep|skip|back|confirm):"
                ),
            ],
            State.SUMMARY: [
                CallbackQueryHandler(on_edit, pattern=r"^ap:edit:"),
                CallbackQueryHandler(on_submit, pattern=r"^ap:submit:"),
                MessageHandler(UPLOAD, on_document),
            ],
        },
        fallbacks=[
            CommandHandler("cancel", on_cancel, filters=PRIVATE),
            CommandHandler("apply", prompts.resume, filters=PRIVATE),
            CallbackQueryHandler(prompts.resume, pattern=r"^menu:apply$"),
            CallbackQueryHandler(on_choose, pattern=r"^ap:fix:"),
            stale,
            MessageHandler(filters.COMMAND & ~GLOBAL_COMMANDS & PRIVATE, on_other_command),
            unexpected,
        ],
    )


def register(application: Application) -> None:  # type: ignore[type-arg]
    """Add the applicant conversation (before the basic handlers, so it sees updates first)."""
    application.add_handler(build())
