"""The developer profile after approval: what was registered, e-mail verification and
change (at most once a calendar month), and the phone handover.
Diagram: ``profile.mmd`` beside this file."""

from __future__ import annotations

import logging
import warnings
from enum import StrEnum
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

from bot.mailer import Mail, MailError
from bot.rules import form, validators
from bot.rules.form import Kind
from bot.rules.models import Registration
from bot.rules.verification import Outcome, Purpose
from bot.services.profile import Refused
from conversations import delivery, keyboards
from conversations.common import Context, acknowledge, callback_parts, locale_of, reply

log = logging.getLogger(__name__)

END = ConversationHandler.END


class State(StrEnum):
    CODE = "code"  # waiting for the 6-digit code
    EMAIL = "email"  # waiting for the new address
    PHONE = "phone"  # waiting for the new phone (contact or typed)


def _t(update: Update, context: Context, key: str, **params: Any) -> str:
    return context.services.texts.t(locale_of(update, context), key, **params)


def _user(update: Update) -> int:
    assert update.effective_user is not None
    return update.effective_user.id


async def show(update: Update, context: Context) -> State | int:
    """/profile: each approved registration, with what can be done about it."""
    await acknowledge(update, context)
    locale = locale_of(update, context)
    texts = context.services.texts
    registrations = context.services.profile.approved(_user(update))
    account = context.services.accounts.get(_user(update))
    rows: list[list[tuple[str, str]]] = []
    for r in registrations:
        role = texts.plain(locale, f"role.{r.role}.name")
        if r.email_verified_at is None:
            rows.append(
                [(texts.plain(locale, "profile.button.verify", role=role), f"pf:verify:{r.id}")]
            )
        else:
            rows.append(
                [(texts.plain(locale, "profile.button.email", role=role), f"pf:email:{r.id}")]
            )
    if account is not None and account.phone:
        rows.append([(texts.plain(locale, "profile.button.phone"), "pf:phone")])
    await reply(
        update,
        texts.render(
            locale,
            "profile",
            registrations=[(r, _sections(r, locale, context)) for r in registrations],
            phone=form.mask(account.phone) if account and account.phone else None,
        ),
        keyboards.inline(rows) if rows else None,
    )
    return END


def _sections(
    r: Registration, locale: str, context: Context
) -> list[tuple[str, list[tuple[str, str]]]]:
    texts = context.services.texts
    out = []
    for section in form.FORM:
        shown = []
        for f in section.fields:
            if not f.applies_to(r.role) or f.kind is Kind.DOCUMENT or f.key not in r.answers:
                continue
            value = r.answers[f.key]
            if value is None:
                continue
            if f.kind is Kind.CHOICE:
                text = texts.plain(locale, f"choice.{f.key}.{value}")
            else:
                text = form.mask(str(value)) if f.masked else str(value)
            shown.append((f.key, text))
        out.append((section.key, shown))
    return out


async def _send_code(
    update: Update, context: Context, registration: Registration, code: str
) -> State | int:
    """Mail the code; say where it went, or why it could not go."""
    services = context.services
    locale = locale_of(update, context)
    check = registration.email_check
    assert check is not None
    if services.mailer is None:
        await reply(update, _t(update, context, "profile.email_off"))
        return END
    try:
        await services.mailer.send(
            Mail(
                to=check.address,
                subject=services.texts.plain(locale, "mail.email_code.subject"),
                text=services.texts.render_mail(locale, "email_code", "txt", code=code),
                html=services.texts.render_mail(locale, "email_code", "html", code=code),
                reference=f"{registration.id}:code",
            )
        )
    except MailError:
        log.warning("verification code for %s not sent", registration.id, exc_info=True)
        await reply(update, _t(update, context, "profile.send_failed"))
        return END
    if context.user_data is not None:
        context.user_data["profile"] = registration.id
    await reply(
        update,
        _t(update, context, "profile.code_sent", address=check.address),
        keyboards.inline([[(services.texts.plain(locale, "profile.button.cancel"), "pf:cancel")]]),
    )
    return State.CODE


async def on_verify(update: Update, context: Context) -> State | int:
    """Send a code to the current address."""
    await acknowledge(update, context)
    try:
        registration, code = context.services.profile.start_verification(
            _user(update), callback_parts(update)[2]
        )
    except Refused as refused:
        return await _refused(update, context, refused)
    return await _send_code(update, context, registration, code)


async def on_email(update: Update, context: Context) -> State | int:
    """Change the address: allowed once a calendar month, after verification."""
    await acknowledge(update, context)
    rid = callback_parts(update)[2]
    try:
        context.services.profile.check_change(_user(update), rid)
    except Refused as refused:
        return await _refused(update, context, refused)
    if context.user_data is not None:
        context.user_data["profile"] = rid
    await reply(update, _t(update, context, "profile.ask_email"), _cancel(update, context))
    return State.EMAIL


async def on_new_email(update: Update, context: Context) -> State | int:
    """A new address typed: check it, then send it a code."""
    message = update.effective_message
    assert message is not None and message.text is not None
    rid = (context.user_data or {}).get("profile", "")
    try:
        registration, code = context.services.profile.start_change(_user(update), rid, message.text)
    except validators.Invalid as error:
        await reply(
            update,
            _t(update, context, f"error.{error.code}", **error.params),
            _cancel(update, context),
        )
        return State.EMAIL
    except Refused as refused:
        return await _refused(update, context, refused)
    return await _send_code(update, context, registration, code)


async def on_code(update: Update, context: Context) -> State | int:
    """A typed code: verified, changed, wrong, expired or locked."""
    message = update.effective_message
    assert message is not None and message.text is not None
    rid = (context.user_data or {}).get("profile", "")
    try:
        outcome, registration, purpose = context.services.profile.confirm(
            _user(update), rid, message.text
        )
    except Refused as refused:
        return await _refused(update, context, refused)
    except validators.Invalid as error:
        await reply(update, _t(update, context, f"error.{error.code}", **error.params))
        return END
    if outcome is Outcome.WRONG:
        check = registration.email_check
        left = 5 - (check.tries if check else 0)
        await reply(
            update, _t(update, context, "profile.code_wrong", left=left), _cancel(update, context)
        )
        return State.CODE
    if outcome is Outcome.EXPIRED:
        await reply(update, _t(update, context, "profile.code_expired"))
        return END
    if outcome is Outcome.LOCKED:
        check = registration.email_check
        await reply(
            update,
            _t(update, context, "profile.locked", until=check.locked_until if check else None),
        )
        return END
    key = "profile.email_changed" if purpose is Purpose.CHANGE else "profile.email_verified"
    await reply(
        update, _t(update, context, key, address=registration.answers.get(form.CONTACT_EMAIL))
    )
    if registration.pending:
        delivery.trigger(context)
    return END


async def on_phone(update: Update, context: Context) -> State | int:
    """Hand the account over: bind a new mobile number."""
    await acknowledge(update, context)
    locale = locale_of(update, context)
    await reply(
        update,
        _t(update, context, "profile.ask_phone"),
        keyboards.share_phone(context.services.texts, locale),
    )
    return State.PHONE


async def on_new_phone(update: Update, context: Context) -> State | int:
    """A shared contact (only one's own) or a typed number."""
    message = update.effective_message
    assert message is not None
    if message.contact is not None:
        if message.contact.user_id != _user(update):
            await reply(update, _t(update, context, "error.contact.not_yours"))
            return State.PHONE
        number = message.contact.phone_number
    else:
        number = message.text or ""
    try:
        phone = context.services.profile.change_phone(_user(update), number)
    except validators.Invalid as error:
        await reply(update, _t(update, context, f"error.{error.code}", **error.params))
        return State.PHONE
    except Refused as refused:
        return await _refused(update, context, refused)
    await reply(
        update,
        _t(update, context, "profile.phone_changed", phone=form.mask(phone)),
        ReplyKeyboardRemove(),
    )
    return END


async def on_cancel(update: Update, context: Context) -> State | int:
    """Leave the profile step; nothing changes."""
    await acknowledge(update, context)
    await reply(update, _t(update, context, "profile.cancelled"), ReplyKeyboardRemove())
    return END


async def on_unexpected(update: Update, context: Context) -> None:
    """Anything else while we wait: say what we wait for and keep waiting."""
    await acknowledge(update, context)
    await reply(update, _t(update, context, "profile.unexpected"), _cancel(update, context))
    # Returning nothing keeps the conversation in its state.


def _cancel(update: Update, context: Context) -> Any:
    locale = locale_of(update, context)
    return keyboards.inline(
        [[(context.services.texts.plain(locale, "profile.button.cancel"), "pf:cancel")]]
    )


async def _refused(update: Update, context: Context, refused: Refused) -> State | int:
    params = dict(refused.params)
    await reply(update, _t(update, context, refused.code, **params))
    return END


def build() -> ConversationHandler[Context]:
    """The profile conversation (persistent: a code typed after a restart still counts)."""
    private = filters.ChatType.PRIVATE
    text = filters.TEXT & ~filters.COMMAND
    with warnings.catch_warnings():
        # Buttons are checked against stored state, so per-message tracking is not needed.
        warnings.filterwarnings("ignore", "If 'per_message=False'", PTBUserWarning)
        return ConversationHandler(
            name="profile",
            persistent=True,
            per_message=False,
            entry_points=[
                CallbackQueryHandler(on_verify, pattern=r"^pf:verify:"),
                CallbackQueryHandler(on_email, pattern=r"^pf:email:"),
                CallbackQueryHandler(on_phone, pattern=r"^pf:phone$"),
            ],
            states={
                State.CODE: [MessageHandler(text, on_code)],
                State.EMAIL: [MessageHandler(text, on_new_email)],
                State.PHONE: [MessageHandler(filters.CONTACT | text, on_new_phone)],
            },
            fallbacks=[
                CommandHandler("cancel", on_cancel, filters=private),
                CallbackQueryHandler(on_cancel, pattern=r"^pf:cancel$"),
                CallbackQueryHandler(on_verify, pattern=r"^pf:verify:"),
                CallbackQueryHandler(on_email, pattern=r"^pf:email:"),
                CallbackQueryHandler(on_phone, pattern=r"^pf:phone$"),
                MessageHandler(~filters.COMMAND & private, on_unexpected),
            ],
        )


def register(application: Application) -> None:  # type: ignore[type-arg]
    """The profile conversation and the /profile command (works anywhere in private)."""
    application.add_handler(build())
    application.add_handler(CommandHandler("profile", show, filters=filters.ChatType.PRIVATE))
    application.add_handler(CallbackQueryHandler(show, pattern=r"^menu:profile$"))
