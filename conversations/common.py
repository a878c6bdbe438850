"""What every handler module shares: the services, the context type, locale and replies."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, cast

from telegram import InlineKeyboardMarkup, Message, ReplyKeyboardMarkup, ReplyKeyboardRemove, Update
from telegram.ext import CallbackContext, ExtBot

from bot.services.accounts import AccountService, Clock
from bot.services.registrations import RegistrationService
from bot.settings import LOCALES, Settings
from bot.texts import Texts
from storage.files import FileStore
from storage.protocols import Storage

Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove


@dataclass
class Services:
    """Everything handlers use, built once by the factory."""

    settings: Settings
    storage: Storage
    texts: Texts
    accounts: AccountService
    registrations: RegistrationService
    files: FileStore
    clock: Clock
    agreement_version: str
    album_wait: float = 1.0


class Context(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """The callback context with typed access to the services."""

    @property
    def services(self) -> Services:
        return cast(Services, self.application.bot_data["services"])


def locale_of(update: Update, context: Context) -> str:
    """The user's language: their choice, else Telegram's language_code, else the default."""
    user = update.effective_user
    services = context.services
    if user is None:
        return services.settings.DEFAULT_LOCALE
    account = services.accounts.get(user.id)
    if account is not None and account.locale in LOCALES:
        return account.locale
    code = (user.language_code or "").lower()
    for locale in LOCALES:
        if code.startswith(locale):
            return locale
    return services.settings.DEFAULT_LOCALE


async def reply(update: Update, text: str, markup: Markup | None = None) -> Message | None:
    """Send an HTML message to the chat the update came from."""
    chat = update.effective_chat
    if chat is None:
        return None
    return await chat.send_message(text, reply_markup=markup)


#: How many answered callback query ids each application remembers (a query is answered
#: within seconds, so a short memory is enough).
_ANSWERED_MEMORY = 1000


async def acknowledge(
    update: Update, context: Context, text: str | None = None, alert: bool = False
) -> None:
    """Answer a button press once (stops the client's spinner); a no-op for messages.

    Telegram refuses a second answer to the same query, and several steps of one handler
    may want to answer (a "button out of date" note, then the re-prompt), so the first
    answer wins and later ones are skipped."""
    query = update.callback_query
    if query is None:
        return
    answered: OrderedDict[str, None] = context.bot_data.setdefault("answered", OrderedDict())
    if query.id in answered:
        return
    answered[query.id] = None
    if len(answered) > _ANSWERED_MEMORY:
        answered.popitem(last=False)
    await query.answer(text, show_alert=alert)


def callback_parts(update: Update) -> list[str]:
    """The colon-separated parts of a button's callback data."""
    query = update.callback_query
    return (query.data or "").split(":") if query is not None else []
