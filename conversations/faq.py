"""Frequently asked questions in a private chat: the entries under /faq and the main menu,
and answers to questions typed outside any form (``basics.unknown`` hands free text to
``answer_question``). An answer asks whether it helped; when it did not, or nothing matched,
the user is offered support (a ticket, see ``conversations.support``, or the e-mail), and the
question is kept as a gap for the support agents (``conversations.faq_desk``).

The entries are the live FAQ (``bot.services.faq_book``): the shipped ones and what agents
added or changed, so a change applies to the next question. An entry's title and answer are
a shipped template or an agent's plain text, rendered escaped (``title`` / ``answer``).

/faq in the middle of the applicant's form (``conversations.applicant``) opens the FAQ "from
the form": until the applicant goes back to the form (the "back to my registration" button
every FAQ message then carries, /apply, or a button of the form), typed text is a question
here, not the answer to the form's current step.
"""

from __future__ import annotations

from typing import Any

from markupsafe import Markup, escape
from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, filters

from bot.rules.language import written_in
from bot.services.faq_book import Entry
from bot.texts import Texts
from conversations import keyboards
from conversations.common import Context, Turn, callback_parts

PRIVATE = filters.ChatType.PRIVATE
#: user_data: set while the FAQ opened from the middle of the form takes the typed text.
FROM_FORM = "faq_from_form"


def open_from_form(context: Context) -> None:
    if context.user_data is not None:
        context.user_data[FROM_FORM] = True


def opened_from_form(context: Context) -> bool:
    return bool(context.user_data and context.user_data.get(FROM_FORM))


def close(context: Context) -> None:
    """Back at the form: typed text answers its current step again."""
    if context.user_data is not None:
        context.user_data.pop(FROM_FORM, None)


def _back_to_form(turn: Turn) -> list[list[tuple[str, str]]]:
    """The row that leads back to the form, on every FAQ message while it was opened there."""
    if not opened_from_form(turn.context):
        return []
    return [[(turn.plain("button.back_to_form"), "menu:apply")]]


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


async def topics(update: Update, context: Context) -> None:
    """Every entry as a button (/faq, the menu's FAQ button, "all questions")."""
    await _topics(Turn.of(update, context))


async def _topics(turn: Turn) -> None:
    await turn.acknowledge()
    rows = [
        [(title_plain(turn.texts, turn.locale, entry), f"faq:t:{entry.key}")]
        for entry in turn.services.faq.book.entries()
    ]
    rows += _back_to_form(turn)
    await turn.reply(turn.render("faq"), keyboards.inline(rows))


async def on_topic(update: Update, context: Context) -> None:
    """An entry's button: its answer."""
    turn = Turn.of(update, context)
    parts = callback_parts(update)
    entry = context.services.faq.book.get(parts[2]) if len(parts) == 3 else None
    if entry is None:
        # A forged button, or an entry an agent removed since the list was sent.
        await turn.acknowledge(turn.plain("misc.stale_button"))
        await _topics(turn)
        return
    await turn.acknowledge()
    await _answer(turn, entry, None)


async def answer_question(update: Update, context: Context) -> None:
    """A question typed in the user's own words: the matching answer, else an offer of
    support with the closest entries (and the question is kept as a gap); in the language
    the question is written in, whatever the user's chosen one."""
    message = update.effective_message
    assert message is not None and message.text is not None
    turn = _in_language_of(Turn.of(update, context), message.text)
    faq = context.services.faq
    verdict = faq.ask(message.text, turn.locale)
    entry = faq.book.get(verdict.answer) if verdict.answer is not None else None
    if entry is not None:
        await _answer(turn, entry, message.message_id)
    else:
        await _offer(turn, "no_match", verdict.suggestions, message.message_id)


async def _answer(turn: Turn, entry: Entry, question: int | None) -> None:
    """An entry, asking whether it helped; "no" remembers the question to pass it on. A
    typed question is quoted, so "didn't help" can read it back from the answer."""
    texts, locale = turn.texts, turn.locale
    asked = f":{question}" if question is not None else ""
    rows = [
        [
            (turn.plain("button.faq_helped"), f"faq:y:{entry.key}{asked}"),
            (turn.plain("button.faq_not_helped"), f"faq:n:{entry.key}{asked}"),
        ],
        [(turn.plain("button.faq_topics"), "menu:faq")],
        *_back_to_form(turn),
    ]
    email = turn.services.settings.SUPPORT_EMAIL
    text = turn.render(
        "faq_answer",
        title=title(texts, locale, entry),
        answer=answer(texts, locale, entry, email),
    )
    await turn.reply(text, keyboards.inline(rows), quote=question)
    turn.services.faq.answered(entry.key)


#: How many answers' votes each user's data remembers (older answers are rarely pressed).
VOTES_REMEMBERED = 50


def first_vote(update: Update, context: Context) -> bool:
    """Whether this press is the first vote on an answer the bot showed: the button must be
    on the message pressed (Telegram sends the message as it stands, so forged data for
    another entry, or a message without the button, is no vote), and each answer message
    counts once, whichever of its buttons and however often it is pressed."""
    query = update.callback_query
    message = query.message if query is not None else None
    markup = getattr(message, "reply_markup", None)
    if query is None or message is None or markup is None:
        return False
    shown = {b.callback_data for row in markup.inline_keyboard for b in row}
    if query.data not in shown or context.user_data is None:
        return False
    voted: list[int] = context.user_data.setdefault("faq_voted", [])
    if message.message_id in voted:
        return False
    voted.append(message.message_id)
    del voted[:-VOTES_REMEMBERED]
    return True


async def on_helped(update: Update, context: Context) -> None:
    """The answer helped: say we are glad, and how to ask more (in the question's language)."""
    parts = callback_parts(update)
    turn = _in_language_of(Turn.of(update, context), _question_text(update, _asked(parts)))
    await turn.acknowledge()
    faq = context.services.faq
    if len(parts) >= 3 and faq.book.get(parts[2]) is not None and first_vote(update, context):
        faq.helped(parts[2])
    await turn.reply(turn.t("faq_ui.glad"))


def _in_language_of(turn: Turn, question: str | None) -> Turn:
    """The turn in the language a typed question is written in (a Chinese-speaking user
    asking in English reads the answer in English); the user's own without a question."""
    language = written_in(question) if question is not None else None
    return turn.in_language(language) if language is not None else turn


def _asked(parts: list[str]) -> int | None:
    """The typed question's message id a "helped" / "didn't help" button carries."""
    return int(parts[3]) if len(parts) == 4 and parts[3].isdigit() else None


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
    parts = callback_parts(update)
    question = _asked(parts)
    text = _question_text(update, question)
    turn = _in_language_of(Turn.of(update, context), text)
    await turn.acknowledge()
    faq = context.services.faq
    if len(parts) >= 3 and faq.book.get(parts[2]) is not None and first_vote(update, context):
        faq.not_helped(parts[2], text, turn.locale)
    await _offer(turn, "not_helped", (), question)


async def _offer(
    turn: Turn, reason: str, suggestions: tuple[str, ...], question: int | None
) -> None:
    """Support: a ticket here (when a support desk is set) or the e-mail; plus entries that
    came close, and the full list."""
    texts, locale = turn.texts, turn.locale
    book = turn.services.faq.book
    close = [entry for entry in (book.get(key) for key in suggestions) if entry is not None]
    rows: list[list[tuple[str, str]]] = [
        [(title_plain(texts, locale, entry), f"faq:t:{entry.key}")] for entry in close
    ]
    desk = turn.services.settings.support_desk
    if desk:
        # The question's message id rides along, so the ticket starts with it.
        asked = f":{question}" if question is not None else ""
        rows.append([(turn.plain("button.open_ticket"), f"sup:open{asked}")])
    rows.append([(turn.plain("button.faq_topics"), "menu:faq")])
    rows += _back_to_form(turn)
    params: dict[str, Any] = {
        "reason": reason,
        "suggestions": bool(close),
        "desk": desk,
        "carried": question is not None,
        "email": turn.services.settings.SUPPORT_EMAIL,
    }
    await turn.reply(turn.render("faq_offer", **params), keyboards.inline(rows))


def register(application: Application) -> None:  # type: ignore[type-arg]
    """Add the FAQ's command and buttons (free text reaches it through ``basics.unknown``)."""
    application.add_handler(CommandHandler("faq", topics, filters=PRIVATE))
    application.add_handler(CallbackQueryHandler(topics, pattern=r"^menu:faq$"))
    application.add_handler(CallbackQueryHandler(on_topic, pattern=r"^faq:t:"))
    application.add_handler(CallbackQueryHandler(on_helped, pattern=r"^faq:y:"))
    application.add_handler(CallbackQueryHandler(on_not_helped, pattern=r"^faq:n:"))
