"""The developer profile after approval: what was registered, e-mail verification and
change (at most once a calendar month), and the phone handover.
Diagram: ``profile.mmd`` beside this file."""

from __future__ import annotations

import logging
import warnings
from enum import StrEnum

from telegram import InlineKeyboardMarkup, ReplyKeyboardRemove, Update
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
from conversations import delivery, keyboards, presenter
from conversations.common import Context, Turn, callback_parts
from conversations.presenter import Section

log = logging.getLogger(__name__)

END = ConversationHandler.END


class State(StrEnum):
    CODE = "code"  # waiting for the 6-digit code
    EMAIL = "email"  # waiting for the new address
    PHONE = "phone"  # waiting for the new phone (contact or typed)


def _user(update: Update) -> int:
    assert update.effective_user is not None
    return update.effective_user.id


async def show(update: Update, context: Context) -> State | int:
    """/profile: each approved registration, with what can be done about it."""
    turn = Turn.of(update, context)
    await turn.acknowledge()
    registrations = context.services.profile.approved(_user(update))
    account = context.services.accounts.get(_user(update))
    rows: list[list[tuple[str, str]]] = []
    for r in registrations:
        role = turn.plain(f"role.{r.role}.name")
        if r.email_verified_at is None:
            rows.append([(turn.plain("profile.button.verify", role=role), f"pf:verify:{r.id}")])
        else:
            rows.append([(turn.plain("profile.button.email", role=role), f"pf:email:{r.id}")])
    if account is not None and account.phone:
        rows.append([(turn.plain("profile.button.phone"), "pf:phone")])
    await turn.reply(
        turn.render(
            "profile",
            registrations=[(r, _sections(turn, r)) for r in registrations],
            phone=form.mask(account.phone) if account and account.phone else None,
        ),
        keyboards.inline(rows) if rows else None,
    )
    return END


def _sections(turn: Turn, r: Registration) -> list[Section]:
    """What was registered, as the summary shows it, without documents and skipped fields."""
    return [
        (key, [(k, v) for k, v in answers if _kept(r, k)])
        for key, answers in presenter.sections(turn.texts, turn.locale, r)
    ]


def _kept(r: Registration, key: str) -> bool:
    return r.answers.get(key) is not None and form.FIELDS[key].kind is not Kind.DOCUMENT


async def _send_code(turn: Turn, registration: Registration, code: str) -> State | int:
    """Mail the code; say where it went, or why it could not go."""
    context, services = turn.context, turn.services
    check = registration.email_check
    assert check is not None
    if services.mailer is None:
        await turn.reply(turn.t("profile.email_off"))
        return END
    try:
        await services.mailer.send(
            Mail(
                to=check.address,
                subject=turn.plain("mail.email_code.subject"),
                text=services.texts.render_mail(turn.locale, "email_code", "txt", code=code),
                html=services.texts.render_mail(turn.locale, "email_code", "html", code=code),
                reference=f"{registration.id}:code",
            )
        )
    except MailError:
        log.warning("verification code for %s not sent", registration.id, exc_info=True)
        await turn.reply(turn.t("profile.send_failed"))
        return END
    if context.user_data is not None:
        context.user_data["profile"] = registration.id
    await turn.reply(
        turn.t("profile.code_sent", address=check.address),
        _cancel(turn),
    )
    return State.CODE


async def on_verify(update: Update, context: Context) -> State | int:
    """Send a code to the current address."""
    turn = Turn.of(update, context)
    await turn.acknowledge()
    try:
        registration, code = context.services.profile.start_verification(
            _user(update), callback_parts(update)[2]
        )
    except Refused as refused:
        return await _refused(update, context, refused)
    return await _send_code(turn, registration, code)


async def on_email(update: Update, context: Context) -> State | int:
    """Change the address: allowed once a calendar month, after verification."""
    turn = Turn.of(update, context)
    await turn.acknowledge()
    rid = callback_parts(update)[2]
    try:
        context.services.profile.check_change(_user(update), rid)
    except Refused as refused:
        return await _refused(update, context, refused)
    if context.user_data is not None:
        context.user_data["profile"] = rid
    await turn.reply(turn.t("profile.ask_email"), _cancel(turn))
    return State.EMAIL


async def on_new_email(update: Update, context: Context) -> State | int:
    """A new address typed: check it, then send it a code."""
    turn = Turn.of(update, context)
    message = update.effective_message
    assert message is not None and message.text is not None
    rid = (context.user_data or {}).get("profile", "")
    try:
        registration, code = context.services.profile.start_change(_user(update), rid, message.text)
    except validators.Invalid as error:
        await turn.reply(
            turn.t(f"error.{error.code}", **error.params),
            _cancel(turn),
        )
        return State.EMAIL
    except Refused as refused:
        return await _refused(update, context, refused)
    return await _send_code(turn, registration, code)


async def on_code(update: Update, context: Context) -> State | int:
    """A typed code: verified, changed, wrong, expired or locked."""
    turn = Turn.of(update, context)
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
        await turn.reply(turn.t(f"error.{error.code}", **error.params))
        return END
    if outcome is Outcome.WRONG:
        left = context.services.profile.tries_left(_user(update))
        await turn.reply(turn.t("profile.code_wrong", left=left), _cancel(turn))
        return State.CODE
    if outcome is Outcome.EXPIRED:
        await turn.reply(turn.t("profile.code_expired"))
        return END
    if outcome is Outcome.LOCKED:
        check = registration.email_check
        await turn.reply(
            turn.t("profile.locked", until=check.locked_until if check else None),
        )
        return END
    key = "profile.email_changed" if purpose is Purpose.CHANGE else "profile.email_verified"
    await turn.reply(turn.t(key, address=registration.answers.get(form.CONTACT_EMAIL)))
    if registration.pending:
        delivery.trigger(context, registration.id)
    return END


async def on_phone(update: Update, context: Context) -> State | int:
    """Hand the account over: bind a new mobile number."""
    turn = Turn.of(update, context)
    await turn.acknowledge()
    await turn.reply(
        turn.t("profile.ask_phone"),
        keyboards.share_phone(turn.texts, turn.locale),
    )
    return State.PHONE


async def on_new_phone(update: Update, context: Context) -> State | int:
    """A shared contact (only one's own) or a typed number."""
    turn = Turn.of(update, context)
    message = update.effective_message
    assert message is not None
    if message.contact is not None:
        if message.contact.user_id != _user(update):
            await turn.reply(turn.t("error.contact.not_yours"))
            return State.PHONE
        number = message.contact.phone_number
    else:
        number = message.text or ""
    try:
        phone = context.services.profile.change_phone(_user(update), number)
    except validators.Invalid as error:
        await turn.reply(turn.t(f"error.{error.code}", **error.params))
        return State.PHONE
    except Refused as refused:
        return await _refused(update, context, refused)
    await turn.reply(
        turn.t("profile.phone_changed", phone=form.mask(phone)),
        ReplyKeyboardRemove(),
    )
    return END


async def on_cancel(update: Update, context: Context) -> State | int:
    """Leave the profile step; nothing changes."""
    turn = Turn.of(update, context)
    await turn.acknowledge()
    await turn.reply(turn.t("profile.cancelled"), ReplyKeyboardRemove())
    return END


async def on_unexpected(update: Update, context: Context) -> None:
    """Anything else while we wait: say what we wait for and keep waiting."""
    turn = Turn.of(update, context)
    await turn.acknowledge()
    await turn.reply(turn.t("profile.unexpected"), _cancel(turn))
    # Returning nothing keeps the conversation in its state.


def _cancel(turn: Turn) -> InlineKeyboardMarkup:
    return keyboards.inline([[(turn.plain("profile.button.cancel"), "pf:cancel")]])


async def _refused(update: Update, context: Context, refused: Refused) -> State | int:
    turn = Turn.of(update, context)
    params = dict(refused.params)
    if refused.code == "profile.admin_unconfirmed":
        payload = context.services.registrations.admin_link(str(params["id"]))
        params["link"] = f"https://t.me/{context.bot.username}?start={payload}"
    await turn.reply(turn.t(refused.code, **params))
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
