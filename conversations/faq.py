"""Frequently asked questions in a private chat: the topics under /faq and the main menu,
and answers to questions typed outside any form (``basics.unknown`` hands free text to
``answer_question``). An answer asks whether it helped; when it did not, or nothing matched,
the user is offered support (a ticket, see ``conversations.support``, or the e-mail).
"""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, filters

from bot.services.faq import FaqMatcher, load_topics
from conversations import keyboards
from conversations.common import Context, acknowledge, callback_parts, locale_of, reply

#: The question variants beside the locale folders (data, not texts: see templates/faq.toml).
QUESTIONS_FILE = "faq.toml"

#: Where the application keeps its matcher (built once: it indexes every variant).
_MATCHER = "faq_matcher"

PRIVATE = filters.ChatType.PRIVATE


def matcher(context: Context) -> FaqMatcher:
    """The application's FAQ matcher, built on first use from the question file."""
    found = context.bot_data.get(_MATCHER)
    if not isinstance(found, FaqMatcher):
        found = FaqMatcher(load_topics(context.services.texts.root / QUESTIONS_FILE))
        context.bot_data[_MATCHER] = found
    return found


def _tickets_available(context: Context) -> bool:
    return context.services.settings.SUPPORT_CHAT_ID is not None


async def topics(update: Update, context: Context) -> None:
    """Every topic as a button (/faq, the menu's FAQ button, "all questions")."""
    await acknowledge(update, context)
    locale = locale_of(update, context)
    texts = context.services.texts
    rows = [
        [(texts.plain(locale, f"faq.{key}.title"), f"faq:t:{key}")]
        for key in matcher(context).topics
    ]
    await reply(update, texts.render(locale, "faq"), keyboards.inline(rows))


async def on_topic(update: Update, context: Context) -> None:
    """A topic's button: its answer."""
    parts = callback_parts(update)
    if len(parts) != 3 or parts[2] not in matcher(context).topics:
        locale = locale_of(update, context)
        await acknowledge(
            update, context, context.services.texts.plain(locale, "misc.stale_button")
        )
        await topics(update, context)
        return
    await acknowledge(update, context)
    await _answer(update, context, parts[2], None)


async def answer_question(update: Update, context: Context) -> None:
    """A question typed in the user's own words: the matching answer, else an offer of
    support with the closest topics."""
    message = update.effective_message
    assert message is not None and message.text is not None
    verdict = matcher(context).match(message.text)
    if verdict.answer is not None:
        await _answer(update, context, verdict.answer, message.message_id)
    else:
        await _offer(update, context, "no_match", verdict.suggestions, message.message_id)


async def _answer(update: Update, context: Context, topic: str, question: int | None) -> None:
    """An entry, asking whether it helped; "no" remembers the question to pass it on."""
    locale = locale_of(update, context)
    texts = context.services.texts
    asked = f":{question}" if question is not None else ""
    rows = [
        [
            (texts.plain(locale, "button.faq_helped"), f"faq:y:{topic}"),
            (texts.plain(locale, "button.faq_not_helped"), f"faq:n:{topic}{asked}"),
        ],
        [(texts.plain(locale, "button.faq_topics"), "menu:faq")],
    ]
    email = context.services.settings.SUPPORT_EMAIL
    await reply(
        update,
        texts.render(locale, "faq_answer", topic=topic, email=email),
        keyboards.inline(rows),
    )


async def on_helped(update: Update, context: Context) -> None:
    """The answer helped: say we are glad, and how to ask more."""
    await acknowledge(update, context)
    locale = locale_of(update, context)
    await reply(update, context.services.texts.t(locale, "faq_ui.glad"))


async def on_not_helped(update: Update, context: Context) -> None:
    """The answer did not help: offer support, carrying the question along if there was one."""
    await acknowledge(update, context)
    parts = callback_parts(update)
    question = int(parts[3]) if len(parts) == 4 and parts[3].isdigit() else None
    await _offer(update, context, "not_helped", (), question)


async def _offer(
    update: Update,
    context: Context,
    reason: str,
    suggestions: tuple[str, ...],
    question: int | None,
) -> None:
    """Support: a ticket here (when a support group is set) or the e-mail; plus topics that
    came close, and the full list."""
    locale = locale_of(update, context)
    texts = context.services.texts
    rows: list[list[tuple[str, str]]] = [
        [(texts.plain(locale, f"faq.{key}.title"), f"faq:t:{key}")] for key in suggestions
    ]
    desk = _tickets_available(context)
    if desk:
        # The question's message id rides along, so the ticket starts with it.
        asked = f":{question}" if question is not None else ""
        rows.append([(texts.plain(locale, "button.open_ticket"), f"sup:open{asked}")])
    rows.append([(texts.plain(locale, "button.faq_topics"), "menu:faq")])
    params: dict[str, Any] = {
        "reason": reason,
        "suggestions": bool(suggestions),
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
