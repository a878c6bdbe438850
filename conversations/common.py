"""What every handler module shares: the services, the context type, locale and replies."""

from __future__ import annotations

import io
from collections import OrderedDict
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from markupsafe import Markup as Html
from telegram import (
    ForceReply,
    InlineKeyboardMarkup,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    ReplyParameters,
    Update,
)
from telegram.constants import ChatType
from telegram.error import BadRequest
from telegram.ext import CallbackContext, ExtBot

from bot.mailer import Mailer
from bot.services.accounts import AccountService, Clock
from bot.services.change_requests import ReviewerDrafts
from bot.services.faq_desk import FaqDesk
from bot.services.outbox import Deliveries
from bot.services.privacy import PersonalData
from bot.services.profile import ProfileService
from bot.services.registrations import RegistrationService
from bot.services.reports import Reports
from bot.services.review import ReviewService
from bot.services.support import SupportDesk
from bot.services.uploads import Uploads
from bot.settings import LOCALES, Settings
from bot.texts import Texts
from conversations import keyboards

Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | ForceReply


@dataclass
class Services:
    """Everything handlers use, built once by the factory (``bot.factory.build``). Handlers
    reach data only through these services, never through storage."""

    settings: Settings
    texts: Texts
    clock: Clock
    accounts: AccountService
    registrations: RegistrationService
    uploads: Uploads
    review: ReviewService
    reviewer_drafts: ReviewerDrafts
    deliveries: Deliveries
    reports: Reports
    profile: ProfileService
    privacy: PersonalData
    support: SupportDesk
    faq: FaqDesk
    mailer: Mailer | None
    agreement_version: str
    album_wait: float = 1.0


class BotData(dict[Any, Any]):
    """The application's ``bot_data`` (PTB makes one per application, through
    ``ContextTypes``): the services, and the small runtime state handlers keep in memory
    (answered button presses, albums being collected, the outbox's lock)."""

    services: Services


class Context(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], BotData]):
    """The callback context with typed access to the services."""

    @property
    def services(self) -> Services:
        return self.bot_data.services


def pick_locale(chosen: str | None, language_code: str | None, default: str) -> str:
    """The user's choice, else Telegram's language when we speak it, else the default."""
    if chosen in LOCALES:
        return chosen
    code = (language_code or "").lower()
    for locale in LOCALES:
        if code.startswith(locale):
            return locale
    return default


def _locale_of(update: Update, context: Context) -> str:
    """The language to answer this update in."""
    user = update.effective_user
    services = context.services
    if user is None:
        return services.settings.DEFAULT_LOCALE
    account = services.accounts.get(user.id)
    chosen = account.locale if account is not None else None
    return pick_locale(chosen, user.language_code, services.settings.DEFAULT_LOCALE)


def account_locale(services: Services, user_id: int) -> str:
    """The language to write to a user in outside an update (jobs, notifications)."""
    account = services.accounts.get(user_id)
    if account is None:
        return services.settings.DEFAULT_LOCALE
    return pick_locale(account.locale, account.language_code, services.settings.DEFAULT_LOCALE)


#: How many answered callback query ids each application remembers (a query is answered
#: within seconds, so a short memory is enough).
_ANSWERED_MEMORY = 1000


async def edit_pressed(update: Update, text: str, markup: InlineKeyboardMarkup | None) -> None:
    """Replace the message a button is on. A double tap or an old button asks for the text
    it already shows, which Telegram refuses as "not modified": that is no error."""
    query = update.callback_query
    assert query is not None
    try:
        await query.edit_message_text(text, reply_markup=markup)
    except BadRequest as error:
        if "not modified" not in str(error).lower():
            raise


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
    try:
        await query.answer(text, show_alert=alert)
    except BadRequest as error:
        # A press redelivered after a restart, or answered too late: the spinner is gone
        # anyway, and the real answer is the message that follows.
        if "query is too old" not in str(error).lower() and "query id" not in str(error).lower():
            raise


#: A staff member refused in a group is told so at most this often (per group).
REFUSAL_PERIOD = timedelta(hours=1)


async def refuse_staff(update: Update, context: Context, key: str) -> None:
    """A staff command or button from someone who may not use it here, refused with the
    text ``key`` in the platform's language (it reveals nothing). A button press is
    answered privately (an alert costs the group nothing). In a group, strangers get
    silence and staff at most one message per REFUSAL_PERIOD: every message there counts
    against Telegram's 20 a minute for the group, which the reviewers' work needs."""
    settings = context.services.settings
    turn = Turn.maybe(update, context, locale=settings.DEFAULT_LOCALE)
    if turn is None:  # a channel's post: nobody to refuse
        return
    text = turn.plain(key)
    if turn.is_press:
        await turn.acknowledge(text, alert=True)
        return
    if turn.chat_id is None or turn.in_private:
        return
    if turn.user_id not in {*settings.REVIEWER_IDS, *settings.SUPPORT_AGENT_IDS}:
        return
    told: dict[str, datetime] = context.bot_data.setdefault("refused_at", {})
    who, now = f"{turn.chat_id}:{turn.user_id}", context.services.clock()
    if who in told and now - told[who] < REFUSAL_PERIOD:
        return
    told[who] = now
    await turn.reply(text)


def callback_parts(update: Update) -> list[str]:
    """The colon-separated parts of a button's callback data."""
    query = update.callback_query
    return (query.data or "").split(":") if query is not None else []


@dataclass(frozen=True)
class Turn:
    """Answering one update: the chat to write to, the person, their language (resolved
    once, when the turn is made) and the texts. Handlers make it once (``Turn.of``) and
    pass it on; a job that answers later makes it from what it kept (``Turn.in_chat``), so
    a prompt is written once for both."""

    context: Context
    #: None for a press on a message the bot cannot see (inline mode): the press is
    #: answered, and there is nowhere to write.
    chat_id: int | None
    user_id: int
    locale: str
    update: Update | None = None
    #: Where this audience's button labels are (``<buttons>.<key>`` in the texts).
    buttons: str = "button"

    @classmethod
    def of(
        cls,
        update: Update,
        context: Context,
        *,
        locale: str | None = None,
        buttons: str = "button",
    ) -> Turn:
        """The turn of an update from a person, in ``locale`` when given, else in that
        person's language (read from their account)."""
        chat, user = update.effective_chat, update.effective_user
        assert user is not None
        chosen = locale or _locale_of(update, context)
        return cls(context, chat.id if chat else None, user.id, chosen, update, buttons)

    @classmethod
    def maybe(
        cls,
        update: object,
        context: Context,
        *,
        locale: str | None = None,
        buttons: str = "button",
    ) -> Turn | None:
        """The turn of an update that may come from anyone, anywhere (a refusal, an error):
        None when it is no update from a person (a channel's post, an error in a job)."""
        if not isinstance(update, Update) or update.effective_user is None:
            return None
        return cls.of(update, context, locale=locale, buttons=buttons)

    @classmethod
    def staff(cls, update: Update, context: Context, buttons: str) -> Turn:
        """The turn of an update in a staff group (reviewers, support), which reads the
        platform's language (DEFAULT_LOCALE) whoever writes."""
        locale = context.services.settings.DEFAULT_LOCALE
        return cls.of(update, context, locale=locale, buttons=buttons)

    @classmethod
    def in_chat(cls, context: Context, chat_id: int, user_id: int, locale: str) -> Turn:
        """A turn outside an update (a job answering what came before)."""
        return cls(context, chat_id, user_id, locale)

    def in_language(self, locale: str) -> Turn:
        """The same turn in another language (just chosen with /language)."""
        return replace(self, locale=locale)

    @property
    def services(self) -> Services:
        return self.context.services

    @property
    def texts(self) -> Texts:
        return self.context.services.texts

    @property
    def is_press(self) -> bool:
        """Whether the update is a button press."""
        return self.update is not None and self.update.callback_query is not None

    @property
    def in_private(self) -> bool:
        """Whether the update came from a private chat."""
        chat = self.update.effective_chat if self.update is not None else None
        return chat is not None and chat.type == ChatType.PRIVATE

    @property
    def pressed(self) -> str | None:
        """The pressed button's callback data, when the update is a press."""
        query = self.update.callback_query if self.update is not None else None
        return query.data if query is not None else None

    def t(self, key: str, **params: Any) -> Html:
        """A short text in the turn's language, as HTML."""
        return self.texts.t(self.locale, key, **params)

    def plain(self, key: str, **params: Any) -> str:
        """A short text in the turn's language, as plain text (buttons, alerts)."""
        return self.texts.plain(self.locale, key, **params)

    def button(self, key: str, **params: Any) -> str:
        """A button's label (plain text) in the turn's language."""
        return self.plain(f"{self.buttons}.{key}", **params)

    def render(self, template: str, **params: Any) -> str:
        """A whole message from a template, in the turn's language."""
        return self.texts.render(self.locale, template, **params)

    async def reply(
        self, text: str, markup: Markup | None = None, *, quote: int | None = None
    ) -> Message | None:
        """Send an HTML message to the turn's chat (as a reply to ``quote`` when given);
        None when the turn has no chat."""
        if self.chat_id is None:
            return None
        under = None
        if quote is not None:
            under = ReplyParameters(quote, allow_sending_without_reply=True)
        return await self.context.bot.send_message(
            self.chat_id, text, reply_markup=markup, reply_parameters=under
        )

    def pager(self, page: int, pages: int, prefix: str) -> list[tuple[str, str]]:
        """The previous / next page buttons of page ``page`` (from 0) of ``pages``, in this
        audience's labels; their callback data is ``prefix`` and the page."""
        labels = (self.button("previous"), self.button("next"))
        return keyboards.pager(labels, page, pages, prefix)

    async def show(self, text: str, markup: InlineKeyboardMarkup | None, *, edit: bool) -> None:
        """Show a page: over the message whose button was pressed when ``edit`` (paging
        through a list), else as a new message."""
        if edit:
            await self.edit_pressed(text, markup)
        else:
            await self.reply(text, markup)

    async def send_document(self, data: bytes, filename: str, caption: str) -> Message:
        """Send a file to the turn's chat."""
        assert self.chat_id is not None
        return await self.context.bot.send_document(
            self.chat_id, io.BytesIO(data), filename=filename, caption=caption
        )

    async def acknowledge(self, text: str | None = None, alert: bool = False) -> None:
        """Answer the button press, if the turn is one (see ``acknowledge``)."""
        if self.update is not None:
            await acknowledge(self.update, self.context, text, alert)

    async def edit_pressed(self, text: str, markup: InlineKeyboardMarkup | None) -> None:
        """Replace the message the pressed button is on."""
        assert self.update is not None
        await edit_pressed(self.update, text, markup)
