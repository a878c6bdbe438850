"""Frequently asked questions in a private chat: the entries under /faq and the main menu,
and answers to questions typed outside any form (``basics.unknown`` hands free text to
``answer_question``). An answer asks whether it helped; when it did not, or nothing matched,
the user is offered support (a ticket, see ``conversations.support``, or the e-mail), and the
question is kept as a gap for the support agents (``conversations.faq_desk``).

The entries are the live FAQ (``bot.services.faq_book``): the shipped ones and what agents
added or changed, so a change applies to the next question. An entry's title and answer are
a shipped template or an agent's plain text, rendered escaped (``title`` / ``answer``).
"""

from __future__ import annotations

from typing import Any

from markupsafe import Markup, escape
from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, filters

from bot.services.faq_book import Entry
from bot.texts import Texts
from conversations import keyboards
from conversations.common import Context, acknowledge, callback_parts, locale_of, reply

PRIVATE = filters.ChatType.PRIVATE


def _typed(entry: Entry, part: dict[str, str], locale: str) -> str | None:
    """An agent's text for a locale; an agent's entry missing it falls back to another
    locale's (a shipped one falls back to its template)."""
    if locale in part:
        return part[locale]
    if entry.shipped or not part:
        return None
    return next(iter(part.values()))


def title(texts: Texts, locale: str, entry: Entry) -> Markup:
    """An entry's title as Telegram HTML (an agent's text escaped)."""
    typed = _typed(entry, entry.topic, locale)
    return escape(typed) if typed is not None else texts.t(locale, f"faq.{entry.key}.title")


def title_plain(texts: Texts, locale: str, entry: Entry) -> str:
    """An entry's title as plain text, for buttons."""
    typed = _typed(entry, entry.topic, locale)
    return typed if typed is not None else texts.plain(locale, f"faq.{entry.key}.title")


def answer(texts: Texts, locale: str, entry: Entry, email: str) -> Markup:
    """An entry's answer as Telegram HTML: a shipped template (which may use ``email``), or
    an agent's plain text, escaped: their ``<``, ``&`` or ``{{ }}`` arrive as typed."""
    typed = _typed(entry, entry.answer, locale)
    if typed is not None:
        return escape(typed)
    return texts.t(locale, f"faq.{entry.key}.answer", email=email)


def _tickets_available(context: Context) -> bool:
    return context.services.settings.support_desk


async def topics(update: Update, context: Context) -> None:
    """Every entry as a button (/faq, the menu's FAQ button, "all questions")."""
    await acknowledge(update, context)
    locale = locale_of(update, context)
    texts = context.services.texts
    rows = [
        [(title_plain(texts, locale, entry), f"faq:t:{entry.key}")]
        for entry in context.services.faq.book.entries()
    ]
    await reply(update, texts.render(locale, "faq"), keyboards.inline(rows))


async def on_topic(update: Update, context: Context) -> None:
    """An entry's button: its answer."""
    parts = callback_parts(update)
    entry = context.services.faq.book.get(parts[2]) if len(parts) == 3 else None
    if entry is None:
        # A forged button, or an entry an agent removed since the list was sent.
        locale = locale_of(update, context)
        await acknowledge(
            update, context, context.services.texts.plain(locale, "misc.stale_button")
        )
        await topics(update, context)
        return
    await acknowledge(update, context)
    await _answer(update, context, entry, None)


async def answer_question(update: Update, context: Context) -> None:
    """A question typed in the user's own words: the matching answer, else an offer of
    support with the closest entries (and the question is kept as a gap)."""
    message = update.effective_message
    assert message is not None and message.text is not None
    faq = context.services.faq
    verdict = faq.ask(message.text, locale_of(update, context))
    entry = faq.book.get(verdict.answer) if verdict.answer is not None else None
    if entry is not None:
        await _answer(update, context, entry, message.message_id)
    else:
        await _offer(update, context, "no_match", verdict.suggestions, message.message_id)


async def _answer(update: Update, context: Context, entry: Entry, question: int | None) -> None:
    """An entry, asking whether it helped; "no" remembers the question to pass it on. A
    typed question is quoted, so "didn't help" can read it back from the answer."""
    locale = locale_of(update, context)
    texts = context.services.texts
    asked = f":{question}" if question is not None else ""
    rows = [
        [
            (texts.plain(locale, "button.faq_helped"), f"faq:y:{entry.key}"),
            (texts.plain(locale, "button.faq_not_helped"), f"faq:n:{entry.key}{asked}"),
        ],
        [(texts.plain(locale, "button.faq_topics"), "menu:faq")],
    ]
    email = context.services.settings.SUPPORT_EMAIL
    text = texts.render(
        locale,
        "faq_answer",
        title=title(texts, locale, entry),
        answer=answer(texts, locale, entry, email),
    )
    await reply(update, text, keyboards.inline(rows), quote=question)
    context.services.faq.answered(entry.key)


async def on_helped(update: Update, context: Context) -> None:
    """The answer helped: say we are glad, and how to ask more."""
    await acknowledge(update, context)
    parts = callback_parts(update)
    faq = context.services.faq
    if len(parts) >= 3 and faq.book.get(parts[2]) is not None:
        faq.helped(parts[2])
    locale = locale_of(update, context)
    await reply(update, context.services.texts.t(locale, "faq_ui.glad"))


def _question_text(update: Update, question: int | None) -> str | None:
    """The user's typed question, read back from the answer that quoted it (nothing about
    it is stored until the user says the answer did not help)."""
    query = update.callback_query
    answered = query.message if query is not None else None
    quoted = getattr(answered, "reply_to_message", None)
    if question is None or quoted is None or quoted.message_id != question:
        return None
    return str(quoted.text) if quoted.text else None


async def on_not_helped(update: Update, context: Context) -> None:
    """The answer did not help: offer support, carrying the question along if there was one,
    and keep that question as a gap."""
    await acknowledge(update, context)
    parts = callback_parts(update)
    question = int(parts[3]) if len(parts) == 4 and parts[3].isdigit() else None
    faq = context.services.faq
    if len(parts) >= 3 and faq.book.get(parts[2]) is not None:
        text = _question_text(update, question)
        faq.not_helped(parts[2], text, locale_of(update, context))
    await _offer(update, context, "not_helped", (), question)


async def _offer(
    update: Update,
    context: Context,
    reason: str,
    suggestions: tuple[str, ...],
    question: int | None,
) -> None:
    """Support: a ticket here (when a support desk is set) or the e-mail; plus entries that
    came close, and the full list."""
    locale = locale_of(update, context)
    texts = context.services.texts
    book = context.services.faq.book
    close = [entry for entry in (book.get(key) for key in suggestions) if entry is not None]
    rows: list[list[tuple[str, str]]] = [
        [(title_plain(texts, locale, entry), f"faq:t:{entry.key}")] for entry in close
    ]
    desk = _tickets_available(context)
    if desk:
        # The question's message id rides along, so the ticket starts with it.
        asked = f":{question}" if question is not None else ""
        rows.append([(texts.plain(locale, "button.open_ticket"), f"sup:open{asked}")])
    rows.append([(texts.plain(locale, "button.faq_topics"), "menu:faq")])
    params: dict[str, Any] = {
        "reason": reason,
        "suggestions": bool(close),
        "desk": desk,
        "carried": question is not None,
        "email": context.services.settings.SUPPORT_EMAIL,
    }
    await reply(update, texts.render(locale, "faq_offer", **params), keyboards.inline(rows))


def register(application: Application) -> None:  # type: ignore[type-arg]
    """Add the FAQ's command and buttons (free text reaches it through ``basics.unknown``)."""
    application.add_handler(CommandHandler("faq", topics, filters=PRIVATE))
    application.add_handler(CallbackQueryHandler(topics, pattern=r"^menu:faq$"))
    application.add_handler(CallbackQueryHandler(on_topic, pattern=r"^faq:t:"))
    application.add_handler(CallbackQueryHandler(on_helped, pattern=r"^faq:y:"))
    application.add_handler(CallbackQueryHandler(on_not_helped, pattern=r"^faq:n:"))
