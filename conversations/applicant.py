"""The applicant's journey in a private chat: phone, agreement, role, the form, the
summary and submission. Diagram: ``applicant.mmd`` beside this file.

Where the applicant stands is read from storage (account, registration cursor) by
``resume``; the conversation state only says which kind of answer is expected next. So
after a restart, a lost state or ``/cancel``, ``/apply`` continues at the exact field.
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from datetime import timedelta
from typing import Any

from telegram import ReplyKeyboardRemove, Update
from telegram.error import Forbidden, TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)
from telegram.warnings import PTBUserWarning

from bot.rules import form, validators
from bot.rules.models import Role
from bot.services.registrations import AlreadyAnswered, Incomplete, NotAsked, RoleTaken
from conversations import _applicant_prompts as prompts
from conversations import delivery, keyboards
from conversations._applicant_prompts import END, State
from conversations._applicant_uploads import on_document
from conversations.common import (
    Context,
    account_locale,
    acknowledge,
    callback_parts,
    locale_of,
    reply,
)

log = logging.getLogger(__name__)

#: How often idle drafts are looked for, and how soon after start-up the first time.
REMINDER_EVERY = timedelta(hours=1)
REMINDER_FIRST = timedelta(minutes=1)


# -- phone -------------------------------------------------------------------------------
async def on_contact(update: Update, context: Context) -> State | int:
    """A shared contact: accepted only when it is the sender's own."""
    message = update.effective_message
    user = update.effective_user
    assert message is not None and message.contact is not None and user is not None
    locale = locale_of(update, context)
    texts = context.services.texts
    if message.contact.user_id != user.id:
        return await prompts.ask_phone(update, context, texts.t(locale, "error.contact.not_yours"))
    return await _bind_phone(update, context, message.contact.phone_number)


async def on_phone_text(update: Update, context: Context) -> State | int:
    """A typed mobile number."""
    message = update.effective_message
    assert message is not None and message.text is not None
    return await _bind_phone(update, context, message.text)


async def _bind_phone(update: Update, context: Context, number: str) -> State | int:
    user = update.effective_user
    assert user is not None
    locale = locale_of(update, context)
    texts = context.services.texts
    try:
        account = context.services.accounts.bind_phone(user.id, number)
    except validators.Invalid as error:
        return await prompts.ask_phone(update, context, prompts.error_text(context, locale, error))
    assert account.phone is not None
    await reply(
        update,
        texts.t(locale, "misc.phone_saved", phone=form.mask(account.phone)),
        ReplyKeyboardRemove(),
    )
    return await prompts.resume(update, context)


# -- agreement ---------------------------------------------------------------------------
async def on_agreement_page(update: Update, context: Context) -> State:
    """Turn a page of the agreement."""
    await acknowledge(update, context)
    parts = callback_parts(update)
    page = int(parts[2]) if len(parts) == 3 and parts[2].isdigit() else 0
    return await prompts.show_agreement(update, context, page)


async def on_agree(update: Update, context: Context) -> State | int:
    """Record acceptance of the version shown (an outdated page is shown anew)."""
    user = update.effective_user
    assert user is not None
    parts = callback_parts(update)
    locale = locale_of(update, context)
    texts = context.services.texts
    version = context.services.agreement_version
    if len(parts) != 3 or parts[2] != version:
        await acknowledge(update, context, texts.plain(locale, "misc.stale_button"))
        return await prompts.show_agreement(update, context, 0, updated=True)
    context.services.accounts.accept_agreement(user.id, version)
    await acknowledge(update, context)
    await reply(update, texts.t(locale, "misc.agreement_accepted", version=version))
    return await prompts.resume(update, context)


async def on_decline(update: Update, context: Context) -> State:
    """Registration needs the agreement: explain, and offer to read it again."""
    await acknowledge(update, context)
    locale = locale_of(update, context)
    texts = context.services.texts
    await reply(
        update,
        texts.render(locale, "agreement_declined"),
        keyboards.inline([[(texts.plain(locale, "button.read_again"), "ap:agr:0")]]),
    )
    return State.AGREEMENT


# -- role --------------------------------------------------------------------------------
async def on_role(update: Update, context: Context) -> State | int:
    """A role was picked: show what it means and ask to confirm (it cannot change)."""
    await acknowledge(update, context)
    parts = callback_parts(update)
    user = update.effective_user
    assert user is not None
    locale = locale_of(update, context)
    texts = context.services.texts
    try:
        role = Role(parts[2])
    except (IndexError, ValueError):
        return await prompts.show_roles(update, context, texts.t(locale, "misc.stale_button"))
    if role not in context.services.registrations.available_roles(user.id):
        return await prompts.show_roles(update, context, texts.t(locale, "error.role.taken"))
    await reply(
        update,
        texts.render(locale, "role_confirm", role=role.value),
        keyboards.inline(
            [
                [(texts.plain(locale, "button.confirm_role"), f"ap:role_ok:{role}")],
                [(texts.plain(locale, "button.other_role"), "ap:roles")],
            ]
        ),
    )
    return State.ROLE


async def on_roles(update: Update, context: Context) -> State | int:
    """Back to the list of roles."""
    await acknowledge(update, context)
    return await prompts.show_roles(update, context)


async def on_role_confirmed(update: Update, context: Context) -> State | int:
    """Open the registration for the confirmed role and ask the first field."""
    await acknowledge(update, context)
    parts = callback_parts(update)
    user = update.effective_user
    assert user is not None
    locale = locale_of(update, context)
    texts = context.services.texts
    try:
        role = Role(parts[2])
        registration = context.services.registrations.start(user.id, role)
    except (IndexError, ValueError):
        return await prompts.show_roles(update, context, texts.t(locale, "misc.stale_button"))
    except RoleTaken:
        return await prompts.show_roles(update, context, texts.t(locale, "error.role.taken"))
    prompts.choose(context, registration)
    return await prompts.ask(update, context, registration)


async def on_choose(update: Update, context: Context) -> State | int:
    """Work on one registration: "continue" one of several unfinished ones, or "Fix it now"
    under a change request (which then walks exactly the flagged fields)."""
    await acknowledge(update, context)
    parts = callback_parts(update)
    user = update.effective_user
    assert user is not None
    service = context.services.registrations
    registration = service.get(parts[2]) if len(parts) == 3 else None
    if registration is None or registration not in service.editable(user.id):
        stale = context.services.texts.t(locale_of(update, context), "misc.stale_button")
        return await prompts.resume(update, context, stale)
    prompts.choose(context, registration)
    return await prompts.resume(update, context)


# -- the form ----------------------------------------------------------------------------
async def on_text(update: Update, context: Context) -> State | int:
    """A typed answer to the current field."""
    message = update.effective_message
    assert message is not None and message.text is not None
    registration = prompts.active(update, context)
    if registration is None or registration.cursor is None:
        return await prompts.resume(update, context)
    locale = locale_of(update, context)
    try:
        registration = context.services.registrations.answer_text(
            registration.id, registration.cursor, message.text, message.message_id
        )
    except validators.Invalid as error:
        return await prompts.ask(
            update, context, registration, prompts.error_text(context, locale, error)
        )
    except AlreadyAnswered:
        # Handed over again after a restart: taken already, it must not become the answer
        # to the next field. Show where the applicant stands.
        return await prompts.resume(update, context)
    return await prompts.ask(update, context, registration)


async def on_form_button(update: Update, context: Context) -> State | int:
    """Choice, keep, skip and back buttons; an old button gets "out of date"."""
    parts = callback_parts(update)
    registration = prompts.active(update, context)
    locale = locale_of(update, context)
    texts = context.services.texts
    service = context.services.registrations
    if registration is None or len(parts) < 3 or registration.cursor != parts[2]:
        await acknowledge(update, context, texts.plain(locale, "misc.stale_button"))
        return await prompts.resume(update, context)
    await acknowledge(update, context)
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
    except validators.Invalid as error:
        return await prompts.ask(
            update, context, registration, prompts.error_text(context, locale, error)
        )
    except NotAsked:
        return await prompts.resume(update, context, texts.t(locale, "misc.stale_button"))
    return await prompts.ask(update, context, registration)


# -- summary -----------------------------------------------------------------------------
async def on_edit(update: Update, context: Context) -> State | int:
    """Jump from the summary to one field."""
    parts = callback_parts(update)
    registration = prompts.active(update, context)
    locale = locale_of(update, context)
    texts = context.services.texts
    if registration is None or len(parts) != 3:
        await acknowledge(update, context, texts.plain(locale, "misc.stale_button"))
        return await prompts.resume(update, context)
    try:
        registration = context.services.registrations.edit(registration.id, parts[2])
    except NotAsked:
        await acknowledge(update, context, texts.plain(locale, "misc.stale_button"))
        return await prompts.resume(update, context)
    await acknowledge(update, context)
    return await prompts.ask(update, context, registration)


async def on_submit(update: Update, context: Context) -> State | int:
    """Submit for review; tell the applicant the date by which reviewers answer."""
    parts = callback_parts(update)
    registration = prompts.active(update, context)
    locale = locale_of(update, context)
    texts = context.services.texts
    if registration is None or len(parts) != 3 or parts[2] != registration.id:
        await acknowledge(update, context, texts.plain(locale, "misc.stale_button"))
        return await prompts.resume(update, context)
    try:
        registration = context.services.registrations.submit(registration.id)
    except Incomplete as missing:
        await acknowledge(update, context)
        return await prompts.resume(
            update,
            context,
            texts.t(
                locale,
                "error.field.missing",
                field=texts.plain(locale, f"field.{missing.field}.label"),
            ),
        )
    except NotAsked:
        await acknowledge(update, context, texts.plain(locale, "misc.stale_button"))
        return await prompts.resume(update, context)
    await acknowledge(update, context)
    if context.user_data is not None:
        context.user_data.pop("active", None)
    if registration.pending:
        delivery.trigger(context)  # the reviewers' card leaves now, not at the next tick
    await reply(
        update,
        texts.render(locale, "submitted", registration=registration),
        keyboards.main_menu(texts, locale),
    )
    return END


# -- reminders ---------------------------------------------------------------------------
async def remind_idle_drafts(context: Context) -> None:
    """Once per idle spell, remind applicants whose draft has not moved for some days."""
    services = context.services
    idle_for = timedelta(days=services.settings.DRAFT_REMINDER_DAYS)
    # Reads every draft (seconds at 100k of them): in a worker thread, so the bot keeps
    # answering meanwhile (the storage allows scans beside the loop's writes).
    idle = await asyncio.to_thread(services.registrations.idle_drafts, idle_for)
    for registration in idle:
        locale = account_locale(services, registration.user_id)
        text = services.texts.render(locale, "reminder", registration=registration)
        try:
            await context.bot.send_message(registration.user_id, text)
        except Forbidden:
            log.info("draft %s: the applicant blocked the bot; no reminder", registration.id)
        except TelegramError:
            log.warning("draft %s: reminder not sent, will retry", registration.id, exc_info=True)
            continue
        services.registrations.mark_reminded(registration.id)


def schedule_reminders(application: Application) -> None:  # type: ignore[type-arg]
    """Arm the reminder job; called at every start, since jobs live in memory only."""
    assert application.job_queue is not None
    application.job_queue.run_repeating(
        remind_idle_drafts, interval=REMINDER_EVERY, first=REMINDER_FIRST, name="draft-reminders"
    )


# -- anywhere in the conversation ------------------------------------------------------
async def on_cancel(update: Update, context: Context) -> int:
    """Leave the form; the draft stays and /apply continues it."""
    await acknowledge(update, context)
    locale = locale_of(update, context)
    texts = context.services.texts
    await reply(update, texts.t(locale, "misc.cancelled"), ReplyKeyboardRemove())
    return END


async def on_unexpected(update: Update, context: Context) -> State | int:
    """Stickers, voice, locations, polls, a text where a button is expected …: say what is
    expected and ask again, staying where we are."""
    locale = locale_of(update, context)
    texts = context.services.texts
    if update.callback_query is not None:
        await acknowledge(update, context, texts.plain(locale, "misc.stale_button"))
        return await prompts.resume(update, context)
    return await prompts.resume(update, context, texts.t(locale, "misc.unexpected"))


async def on_other_command(update: Update, context: Context) -> State | int:
    """A command that means nothing inside the form: explain and ask again."""
    locale = locale_of(update, context)
    return await prompts.resume(
        update, context, context.services.texts.t(locale, "misc.unknown_command")
    )


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
                CallbackQueryHandler(on_form_button, pattern=r"^ap:(choice|keep|skip|back):"),
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
    schedule_reminders(application)
