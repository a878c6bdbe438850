"""What every user can do anywhere in a private chat: /start with the menu, /help,
/language, /status, the support contact, and a friendly answer to anything unexpected."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.settings import LOCALES
from conversations import faq, keyboards, presenter
from conversations import support as tickets
from conversations.common import Context, Turn, callback_parts, pick_locale

log = logging.getLogger(__name__)

PRIVATE = filters.ChatType.PRIVATE


async def start(update: Update, context: Context) -> None:
    """Greet, remember a deep-link source on first contact, show the main menu."""
    user = update.effective_user
    assert user is not None
    source = context.args[0][:64] if context.args else None
    context.services.accounts.ensure(user.id, source=source, language_code=user.language_code)
    turn = Turn.of(update, context)
    await turn.reply(
        turn.render(
            "start",
            name=user.first_name or "",
            email=context.services.settings.email_enabled,
        ),
        keyboards.main_menu(turn.texts, turn.locale),
    )


async def help_(update: Update, context: Context) -> None:
    """List what the bot can do."""
    turn = Turn.of(update, context)
    await turn.acknowledge()
    await turn.reply(turn.render("help"))


async def language(update: Update, context: Context) -> None:
    """Offer the languages."""
    turn = Turn.of(update, context)
    await turn.acknowledge()
    await turn.reply(turn.t("misc.choose_language"), keyboards.languages())


async def set_language(update: Update, context: Context) -> None:
    """Remember the chosen language and answer in it."""
    turn = Turn.of(update, context)
    parts = callback_parts(update)
    if len(parts) != 2 or parts[1] not in LOCALES:
        await turn.acknowledge()
        return
    context.services.accounts.set_locale(turn.user_id, parts[1])
    await turn.acknowledge()
    chosen = turn.in_language(parts[1])
    await chosen.reply(
        chosen.t("misc.language_set"), keyboards.main_menu(chosen.texts, chosen.locale)
    )


async def status(update: Update, context: Context) -> None:
    """Each registration with its role, status, last change and expected answer date."""
    turn = Turn.of(update, context)
    await turn.acknowledge()
    service = context.services.registrations
    registrations = service.of_user(turn.user_id)
    await turn.reply(
        turn.render(
            "status",
            registrations=registrations,
            reasons={
                r.id: presenter.flagged_reasons(turn.texts, turn.locale, r) for r in registrations
            },
            timelines={
                r.id: presenter.timeline(turn.texts, turn.locale, service.timeline(r.id))
                for r in registrations
            },
        )
    )


async def support(update: Update, context: Context) -> None:
    """How to reach support: the e-mail address and its reply time, and a ticket right
    here (open one, or the one already open) when a support desk is set (a support
    group and at least one agent)."""
    turn = Turn.of(update, context)
    await turn.acknowledge()
    settings = context.services.settings
    desk = settings.support_desk
    ticket = context.services.support.open_ticket(turn.user_id) if desk else None
    await turn.reply(
        turn.render(
            "support",
            email=settings.SUPPORT_EMAIL,
            ticket=ticket.id if ticket is not None else None,
            desk=desk,
        ),
        tickets.ticket_buttons(turn.texts, turn.locale, ticket) if desk else None,
    )


async def unknown(update: Update, context: Context) -> None:
    """Free text outside a form is a question for the FAQ; anything else we have no answer
    for: say so and show the menu (a press with no chat, in inline mode, is only answered)."""
    message = update.message
    if message is not None and message.text and not message.text.startswith("/"):
        await faq.answer_question(update, context)
        return
    turn = Turn.of(update, context)
    await turn.acknowledge()
    await turn.reply(turn.t("misc.not_understood"), keyboards.main_menu(turn.texts, turn.locale))


async def on_error(update: object, context: Context) -> None:
    """Log with context (never the token or the user's data) and tell the user, in their
    language, that something went wrong; never show a traceback."""
    error = context.error
    where = update.to_dict().get("update_id") if isinstance(update, Update) else None
    log.error("error while handling update %s: %r", where, error, exc_info=error)
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    turn = _error_turn(update, context)
    if turn is None:  # a channel's post: nobody to tell
        return
    try:
        # A handler that failed before answering its button press leaves it spinning.
        await turn.acknowledge()
    except TelegramError:
        log.warning("could not answer the button press after the error", exc_info=True)
    try:
        # A group (reviewers, support staff) is told without the applicant's advice to
        # send /apply.
        await turn.reply(turn.t("misc.error" if turn.in_private else "misc.error_group"))
    except (TelegramError, OSError):  # the chat is unreachable or storage is failing
        log.warning("could not tell chat about the error", exc_info=True)


def _error_turn(update: Update, context: Context) -> Turn | None:
    """Where and how to say so: a group in its language (DEFAULT_LOCALE); a private chat
    in the user's language, or their Telegram app's when their stored choice cannot be
    read (storage may be what failed)."""
    default = context.services.settings.DEFAULT_LOCALE
    chat = update.effective_chat
    if chat is None or chat.type != "private":
        return Turn.maybe(update, context, locale=default)
    try:
        return Turn.maybe(update, context)
    except Exception:  # any failure to read: the user must still be told
        log.warning("could not read the user's language after an error", exc_info=True)
        user = update.effective_user
        language = user.language_code if user is not None else None
        return Turn.maybe(update, context, locale=pick_locale(None, language, default))


def register(application: Application) -> None:  # type: ignore[type-arg]
    """Add the handlers that work anywhere in a private chat (after the conversations)."""
    application.add_handler(CommandHandler("start", start, filters=PRIVATE))
    application.add_handler(CommandHandler("help", help_, filters=PRIVATE))
    application.add_handler(CommandHandler("language", language, filters=PRIVATE))
    application.add_handler(CommandHandler("status", status, filters=PRIVATE))
    application.add_handler(CommandHandler("support", support, filters=PRIVATE))
    application.add_handler(CallbackQueryHandler(set_language, pattern=r"^lang:"))
    application.add_handler(CallbackQueryHandler(help_, pattern=r"^menu:help$"))
    application.add_handler(CallbackQueryHandler(language, pattern=r"^menu:language$"))
    application.add_handler(CallbackQueryHandler(status, pattern=r"^menu:status$"))
    application.add_handler(CallbackQueryHandler(support, pattern=r"^menu:support$"))
    application.add_handler(MessageHandler(PRIVATE, unknown))
    application.add_handler(CallbackQueryHandler(unknown))
    application.add_error_handler(on_error)
