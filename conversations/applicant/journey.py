"""The applicant's journey in a private chat: phone, agreement, role, the form, the
summary and submission. Diagram: ``applicant.mmd`` in this package.

Where the applicant stands is read from storage (account, registration cursor) by
``resume``; the conversation state only says which kind of answer is expected next. So
after a restart, a lost state or ``/cancel``, ``/apply`` continues at the exact field.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable, Coroutine
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
from bot.rules.models import Registration
from bot.rules.status import WAITING
from bot.services.registrations import (
    AlreadyAnswered,
    Incomplete,
    NeedsConfirmation,
    NotAsked,
)
from conversations import delivery, faq, keyboards
from conversations.applicant import prompts
from conversations.applicant.onboarding import (
    on_agree,
    on_agreement_page,
    on_choose,
    on_contact,
    on_decline,
    on_phone_text,
    on_reuse,
    on_role,
    on_role_confirmed,
    on_roles,
)
from conversations.applicant.state import END, NAME, State
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
        waiting = _waiting_for_review(turn, parts[-1])
        if waiting is not None:
            # Pressed again, or handed over again after a crash between the submission's
            # commit and its answer: the same answer, nothing changed.
            await turn.acknowledge()
            await _say_submitted(turn, waiting)
            return END
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
        delivery.trigger(context, registration.id)  # the card leaves now, not at the tick
    await _say_submitted(turn, registration)
    return END


def _waiting_for_review(turn: Turn, registration_id: str) -> Registration | None:
    """The applicant's registration a Submit button names, if it waits for review."""
    registration = turn.services.registrations.get(registration_id)
    if registration is None or registration.user_id != turn.user_id:
        return None
    return registration if registration.status in WAITING else None


async def _say_submitted(turn: Turn, registration: Registration) -> None:
    """Submitted: the date by which reviewers answer, and the administrator's link."""
    admin_link = None
    if registration.admin_confirmed_at is None:
        payload = turn.services.registrations.admin_link(registration.id)
        admin_link = f"https://t.me/{turn.context.bot.username}?start={payload}"
    await turn.reply(
        turn.render(
            "submitted",
            registration=registration,
            email=turn.services.settings.email_enabled,
            admin_link=admin_link,
        ),
        keyboards.main_menu(turn.texts, turn.locale),
    )


# -- anywhere in the conversation ------------------------------------------------------
async def on_cancel(update: Update, context: Context) -> int:
    """Leave the form; the draft stays and /apply continues it."""
    faq.close(context)
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
    return await prompts.resume_turn(turn, unexpected=True)


async def on_faq(update: Update, context: Context) -> None:
    """/faq or the menu's FAQ in the middle of the form: the FAQ takes typed text as
    questions until the applicant goes back to the form; the form stays where it is."""
    faq.open_from_form(context)
    await faq.topics(update, context)


Step = Callable[[Update, Context], Coroutine[Any, Any, State | int]]
#: None from a conversation's step: stay at the same state.
Staying = Callable[[Update, Context], Coroutine[Any, Any, State | int | None]]


def questions_first(step: Step) -> Staying:
    """A step that takes a message: while the FAQ opened from the form is open, typed text
    is a question for it (the form stays at its step), anything else goes to ``step``."""

    @functools.wraps(step)
    async def handle(update: Update, context: Context) -> State | int | None:
        message = update.effective_message
        if faq.opened_from_form(context) and message is not None and message.text:
            await faq.answer_question(update, context)
            return None  # stay at the same step
        return await step(update, context)

    return handle


def back_at_form(step: Step) -> Step:
    """A step the applicant reaches by a button of the form, a contact or a file: they are
    back at the form, so typed text answers its steps again."""

    @functools.wraps(step)
    async def handle(update: Update, context: Context) -> State | int:
        faq.close(context)
        return await step(update, context)

    return handle


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
    with warnings.catch_warnings():
        # Buttons of earlier messages are accepted on purpose (each is checked against the
        # stored place in the form), so PTB's per_message advice does not apply here.
        warnings.filterwarnings("ignore", "If 'per_message=False'", PTBUserWarning)
        return _conversation()


def _button(step: Step, pattern: str) -> CallbackQueryHandler[Context, Any]:
    return CallbackQueryHandler(back_at_form(step), pattern=pattern)


def _message(kind: filters.BaseFilter, step: Step) -> MessageHandler[Context, Any]:
    """Typed text (a question while the FAQ is open), a contact or a file (back at the form)."""
    return MessageHandler(kind, questions_first(back_at_form(step)))


def _conversation() -> ConversationHandler[Context]:
    return ConversationHandler(
        name=NAME,
        persistent=True,
        per_chat=True,
        per_user=True,
        per_message=False,
        entry_points=[
            CommandHandler("apply", prompts.resume, filters=PRIVATE),
            CallbackQueryHandler(prompts.resume, pattern=r"^menu:apply$"),
            _button(on_choose, r"^ap:fix:"),
            # Pressed again once submitted: says so (the conversation has ended).
            _button(on_submit, r"^ap:submit:"),
            _button(on_unexpected, r"^ap:"),
        ],
        states={
            State.PHONE: [
                _message(filters.CONTACT, on_contact),
                _message(TEXT, on_phone_text),
            ],
            State.AGREEMENT: [
                _button(on_agreement_page, r"^ap:agr:"),
                _button(on_agree, r"^ap:agree:"),
                _button(on_decline, r"^ap:decline$"),
            ],
            State.ROLE: [
                _button(on_role, r"^ap:role:"),
                _button(on_role_confirmed, r"^ap:role_ok:"),
                _button(on_reuse, r"^ap:(reuse|fresh):"),
                _button(on_roles, r"^ap:roles$"),
                _button(on_choose, r"^ap:cont:"),
            ],
            State.FORM: [
                _message(TEXT, on_text),
                _message(UPLOAD, on_document),
                _button(on_form_button, r"^ap:(choice|keep|skip|back|confirm):"),
            ],
            State.SUMMARY: [
                _button(on_edit, r"^ap:edit:"),
                _button(on_submit, r"^ap:submit:"),
                _message(UPLOAD, on_document),
            ],
        },
        fallbacks=[
            CommandHandler("cancel", on_cancel, filters=PRIVATE),
            CommandHandler("apply", prompts.resume, filters=PRIVATE),
            CommandHandler("faq", on_faq, filters=PRIVATE),
            CallbackQueryHandler(prompts.resume, pattern=r"^menu:apply$"),
            CallbackQueryHandler(on_faq, pattern=r"^menu:faq$"),
            _button(on_choose, r"^ap:fix:"),
            _button(on_submit, r"^ap:submit:"),
            _button(on_unexpected, r"^ap:"),
            MessageHandler(filters.COMMAND & ~GLOBAL_COMMANDS & PRIVATE, on_other_command),
            _message(ANYTHING_ELSE, on_unexpected),
        ],
    )


def register(application: Application) -> None:  # type: ignore[type-arg]
    """Add the applicant conversation (before the basic handlers, so it sees updates first)."""
    application.add_handler(build())
