"""The FAQ desk in the support chat: support agents curate the FAQ and answer tickets with
its entries. Diagram: ``faq_desk.mmd`` beside this file.

- ``/faq_list``: every entry with its key, title and this month's answers (and votes);
- ``/faq_add``: a new entry, guided: the title, the wordings and the answer, each in 中文
  and English, then a preview of the answer as users get it, to save or to correct;
- ``/faq_edit KEY``: the same preview of an entry, with a button per part to change;
- ``/faq_remove KEY``: after a confirmation;
- ``/faq_gaps``: questions the FAQ did not answer, grouped, most asked first, each with
  "new entry from it", "an entry answers it" and "dismiss";
- ``/answer KEY`` in reply to a ticket message: that entry's answer to the user, in their
  language (``/answer`` alone suggests entries for the message replied to);
- ``/faq_cancel``: drop the draft being written.

Only agents in the support chat act (``support.agents``: one filter for every command and
reply here, the same check for every button); anyone else gets ``support.refuse``.

In a group the bot sees only commands and replies to its own messages (privacy mode), so
each part of a draft is asked with ForceReply and the agent replies to the question; the
draft and the questions asked are kept in storage, so a restart mid-way loses nothing.
Changes apply at once: the next user question is matched against the new FAQ.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any, cast

from markupsafe import Markup
from telegram import ForceReply, Message, Update
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.services.faq_book import Entry, FaqError, Usage
from bot.services.faq_drafts import PARTS, Draft, Invalid, Prompt
from bot.services.faq_gaps import GapStatus
from bot.services.support import Ticket
from bot.settings import LOCALES
from conversations import faq, keyboards, support
from conversations.common import (
    Context,
    Services,
    account_locale,
    acknowledge,
    callback_parts,
    edit_pressed,
    reply,
)

log = logging.getLogger(__name__)

#: The agents' commands, in menu order (``/close`` is the tickets', listed with them).
COMMANDS = ("faq_list", "faq_add", "faq_edit", "faq_remove", "faq_gaps", "faq_cancel", "answer")
MENU = (*COMMANDS, "close")

PAGE_SIZE = 20
GAPS_SHOWN = 10
SUGGESTED = 3
#: Short codes for the parts in callback data (``fq:p:<draft>:<code>``).
CODES = {"topic.zh": "tz", "topic.en": "te", "questions.zh": "qz", "questions.en": "qe"}
CODES |= {"answer.zh": "az", "answer.en": "ae"}
PART_OF = {code: part for part, code in CODES.items()}

Handler = Callable[[Update, Context], Coroutine[Any, Any, None]]


def _staff(context: Context) -> str:
    """The support chat reads the platform's language."""
    return context.services.settings.DEFAULT_LOCALE


def _t(context: Context, name: str, **params: Any) -> Markup:
    return context.services.texts.t(_staff(context), f"faq_desk.{name}", **params)


def _b(context: Context, name: str, **params: Any) -> str:
    return context.services.texts.plain(_staff(context), f"faq_desk.button.{name}", **params)


def _language(context: Context, locale: str) -> str:
    return context.services.texts.plain(_staff(context), f"faq_desk.language.{locale}")


def _agent(update: Update) -> int:
    user = update.effective_user
    assert user is not None
    return user.id


def _arg(context: Context) -> str | None:
    return context.args[0].strip().casefold() if context.args else None


async def _error(update: Update, context: Context, error: FaqError) -> None:
    """A change that could not be made, said plainly (an alert for a button)."""
    text = _t(context, f"error.{error.code}", **error.params)
    if update.callback_query is not None:
        await acknowledge(update, context, text.striptags(), alert=True)
    else:
        await reply(update, text)


# -- /faq_list ----------------------------------------------------------------------------
async def list_entries(update: Update, context: Context) -> None:
    """/faq_list (and its page buttons): key, title and this month's use of every entry."""
    await acknowledge(update, context)
    parts = callback_parts(update)
    page = int(parts[2]) if len(parts) == 3 and parts[2].isdigit() else 0
    services = context.services
    book = services.faq.book
    entries = book.entries()
    usage = book.usage()
    pages = max(1, -(-len(entries) // PAGE_SIZE))
    page = min(max(page, 0), pages - 1)
    staff = _staff(context)
    rows = [
        (e.key, faq.title_plain(services.texts, staff, e), usage.get(e.key, Usage()))
        for e in entries[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    ]
    text = services.texts.render(
        staff,
        "faq_list",
        rows=rows,
        total=len(entries),
        page=page + 1,
        pages=pages,
        month=book.month(),
    )
    nav = []
    if page > 0:
        nav.append((_b(context, "previous"), f"fq:ls:{page - 1}"))
    if page + 1 < pages:
        nav.append((_b(context, "next"), f"fq:ls:{page + 1}"))
    markup = keyboards.inline([nav]) if nav else None
    query = update.callback_query
    if query is not None and parts[:2] == ["fq", "ls"]:
        await edit_pressed(update, text, markup)
    else:
        await reply(update, text, markup)


# -- drafts: /faq_add, /faq_edit, the parts, the preview, save ----------------------------
async def add(update: Update, context: Context) -> None:
    """/faq_add: a new entry, asked part by part."""
    if await _unfinished(update, context, "a"):
        return
    draft = context.services.faq.drafts.start_new(_agent(update))
    await reply(update, _t(context, "started_new"))
    await _next(update, context, draft)


async def edit(update: Update, context: Context) -> None:
    """/faq_edit KEY: the entry as users get it, with a button for each part."""
    key = _arg(context)
    if key is None:
        await reply(update, _t(context, "usage.edit"))
        return
    await _edit(update, context, key)


async def _edit(update: Update, context: Context, key: str) -> None:
    entry = context.services.faq.book.get(key)
    if entry is None:
        await _error(update, context, FaqError("missing", entry=key))
        return
    if await _unfinished(update, context, f"e.{key}"):
        return
    draft = context.services.faq.drafts.start_edit(_agent(update), entry)
    await _preview(update, context, draft)


async def _unfinished(update: Update, context: Context, wanted: str) -> bool:
    """When the agent has a draft open, ask before dropping it: True when asked (the new
    draft waits for the answer). Asking for the same edit again just continues it."""
    draft = context.services.faq.drafts.get(_agent(update))
    if draft is None:
        return False
    if wanted == f"e.{draft.key}":
        await _next(update, context, draft)
        return True
    what = (
        _t(context, "what_edit", entry=draft.key)
        if draft.key is not None
        else _t(context, "what_new")
    )
    buttons = [
        [(_b(context, "continue"), f"fq:go:{draft.id}")],
        [(_b(context, "start_new"), f"fq:new:{wanted}")],
    ]
    await acknowledge(update, context)
    await reply(update, _t(context, "resume", what=what), keyboards.inline(buttons))
    return True


async def on_continue(update: Update, context: Context) -> None:
    """ "Continue the draft": the next question, or the preview when all is there."""
    draft = await _own_draft(update, context)
    if draft is not None:
        await acknowledge(update, context)
        await _next(update, context, draft)


async def on_start_new(update: Update, context: Context) -> None:
    """ "Drop it, start the new one": the draft goes, what the agent asked for begins."""
    await acknowledge(update, context)
    parts = callback_parts(update)
    wanted = ":".join(parts[2:])
    desk = context.services.faq
    desk.drafts.discard(_agent(update))
    if wanted == "a":
        await add(update, context)
    elif wanted.startswith("e."):
        await _edit(update, context, wanted.removeprefix("e."))
    elif wanted.startswith("g.") and wanted[2:].isdigit():
        await _from_gap(update, context, int(wanted[2:]))


async def _next(update: Update, context: Context, draft: Draft) -> None:
    """Ask for the next missing part, or show the preview when none is missing."""
    if draft.pending:
        await _ask(update, context, draft, draft.pending[0])
    else:
        await _preview(update, context, draft)


async def _ask(
    update: Update, context: Context, draft: Draft, part: str, problem: str | None = None
) -> None:
    """Ask for one part, as a question the agent replies to (ForceReply, aimed at them)."""
    user = update.effective_user
    assert user is not None
    name, locale = part.split(".")
    value = draft.value(part)
    params: dict[str, Any] = {
        "mention": Markup('<a href="tg://user?id={}">{}</a>').format(user.id, user.full_name),
        "language": _language(context, locale),
        "step": None if draft.editing else PARTS.index(part) + 1,
        "steps": len(PARTS),
        "problem": problem,
    }
    if name == "questions":
        params["current"] = "\n".join(value) if isinstance(value, list) else ""
    else:
        params["current"] = bool(value)
    text = _t(context, f"ask.{name}", **params)
    force = ForceReply(selective=True, input_field_placeholder=_b(context, "placeholder"))
    message = update.effective_message
    quote = message.message_id if update.callback_query is None and message else None
    asked = await reply(update, text, force, quote=quote)
    if asked is not None:
        context.services.faq.drafts.asked(
            user.id, asked.message_id, Prompt(draft=draft.id, part=part)
        )


def _draft_entry(context: Context, draft: Draft) -> Entry:
    """The draft as an entry, to render it as users would get it (an edited shipped entry
    keeps its templates for the parts nobody typed)."""
    current = context.services.faq.book.get(draft.key) if draft.key is not None else None
    return Entry(
        key=draft.key or "new",
        shipped=current is not None and current.shipped,
        **draft.content.model_dump(),
    )


async def _preview(update: Update, context: Context, draft: Draft) -> None:
    """The answer in each language exactly as users get it, then the draft's card with a
    button per part, Save and Cancel."""
    services = context.services
    texts = services.texts
    entry = _draft_entry(context, draft)
    email = services.settings.SUPPORT_EMAIL
    for locale in LOCALES:
        body = texts.render(
            locale,
            "faq_answer",
            title=faq.title(texts, locale, entry),
            answer=faq.answer(texts, locale, entry, email),
        )
        label = _t(context, "preview_label", language=_language(context, locale))
        await reply(update, texts.render(_staff(context), "faq_preview", label=label, body=body))
    staff = _staff(context)
    card = texts.render(
        staff,
        "faq_draft",
        key=draft.key,
        gap=draft.gap,
        titles=[(_language(context, loc), faq.title(texts, loc, entry)) for loc in LOCALES],
        wordings=[(_language(context, loc), entry.questions.get(loc, [])) for loc in LOCALES],
    )
    rows = [
        [
            (
                _b(context, f"part_{name}", language=_language(context, loc)),
                f"fq:p:{draft.id}:{CODES[f'{name}.{loc}']}",
            )
            for loc in LOCALES
        ]
        for name in ("topic", "questions", "answer")
    ]
    rows.append(
        [
            (_b(context, "save"), f"fq:save:{draft.id}"),
            (_b(context, "cancel"), f"fq:drop:{draft.id}"),
        ]
    )
    await reply(update, card, keyboards.inline(rows))


async def _own_draft(update: Update, context: Context) -> Draft | None:
    """The agent's draft named by the button, or None (and the agent told it is closed)."""
    parts = callback_parts(update)
    draft = context.services.faq.drafts.get(_agent(update))
    if draft is None or len(parts) < 3 or parts[2] != draft.id:
        await acknowledge(update, context, _b(context, "draft_gone"), alert=True)
        return None
    return draft


async def on_part(update: Update, context: Context) -> None:
    """A part's button on the card: ask for it again."""
    draft = await _own_draft(update, context)
    parts = callback_parts(update)
    if draft is None or len(parts) != 4 or parts[3] not in PART_OF:
        return
    await acknowledge(update, context)
    draft = context.services.faq.drafts.ask(draft, PART_OF[parts[3]])
    await _next(update, context, draft)


async def on_reply(update: Update, context: Context) -> None:
    """An agent's reply to one of the bot's questions: a part of their draft, or the key of
    the entry that answers a gap."""
    message = update.message
    if message is None or message.reply_to_message is None:
        return  # an edited reply: the first version was taken
    agent = _agent(update)
    desk = context.services.faq
    prompt = desk.drafts.prompt(agent, message.reply_to_message.message_id)
    if prompt is None:
        return
    if prompt.gap is not None:
        await _teach(update, context, prompt.gap, message)
        return
    draft = desk.drafts.get(agent)
    if draft is None or draft.id != prompt.draft or prompt.part is None:
        await reply(update, _t(context, "stale_prompt"), quote=message.message_id)
        return
    if not message.text:
        await _ask(update, context, draft, prompt.part, problem=_t(context, "text_only"))
        return
    try:
        draft = desk.drafts.fill(draft, prompt.part, message.text)
    except Invalid as invalid:
        problem = _t(context, f"invalid.{invalid.code}", **invalid.params)
        await _ask(update, context, draft, prompt.part, problem=problem)
        return
    await _next(update, context, draft)


async def on_save(update: Update, context: Context) -> None:
    """Save: publish the entry at once, close the gap it came from."""
    draft = await _own_draft(update, context)
    if draft is None:
        return
    texts = context.services.texts
    try:
        saved = context.services.faq.save(draft.agent)
    except FaqError as error:
        await _error(update, context, error)
        return
    await acknowledge(update, context)
    await _drop_buttons(update)
    shown = faq.title(texts, _staff(context), saved.entry)
    done = "saved_new" if saved.added else "saved_edit"
    await reply(update, _t(context, done, entry=saved.entry.key, title=shown))
    if saved.gap is not None:
        await reply(update, _t(context, "gap_linked", gap=saved.gap.id, entry=saved.entry.key))


async def on_drop(update: Update, context: Context) -> None:
    """Cancel on the card: the draft goes, nothing changes."""
    draft = await _own_draft(update, context)
    if draft is None:
        return
    context.services.faq.drafts.discard(draft.agent)
    await acknowledge(update, context)
    await _drop_buttons(update)
    await reply(update, _t(context, "cancelled"))


async def cancel(update: Update, context: Context) -> None:
    """/faq_cancel: drop the draft being written."""
    drafts = context.services.faq.drafts
    agent = _agent(update)
    if drafts.get(agent) is None:
        await reply(update, _t(context, "error.no_draft"))
        return
    drafts.discard(agent)
    await reply(update, _t(context, "cancelled"))


async def _drop_buttons(update: Update) -> None:
    """Take the buttons off a card that has been acted on (best effort)."""
    query = update.callback_query
    if query is None:
        return
    try:
        await query.edit_message_reply_markup(None)
    except TelegramError:
        log.info("buttons left on a finished card", exc_info=True)


# -- /faq_remove --------------------------------------------------------------------------
async def remove(update: Update, context: Context) -> None:
    """/faq_remove KEY: asks to confirm, showing what goes."""
    key = _arg(context)
    if key is None:
        await reply(update, _t(context, "usage.remove"))
        return
    book = context.services.faq.book
    entry = book.get(key)
    if entry is None:
        await _error(update, context, FaqError("missing", entry=key))
        return
    used = book.usage().get(key, Usage()).answered
    shown = faq.title(context.services.texts, _staff(context), entry)
    buttons = [
        [
            (_b(context, "remove"), f"fq:rm:{key}:{entry.revision}"),
            (_b(context, "keep"), f"fq:keep:{key}"),
        ]
    ]
    text = _t(context, "confirm_remove", entry=key, title=shown, answered=used)
    await reply(update, text, keyboards.inline(buttons))


async def on_remove(update: Update, context: Context) -> None:
    """The confirmation: remove the entry (unless it changed since the question)."""
    parts = callback_parts(update)
    if len(parts) != 4 or not parts[3].isdigit():
        await acknowledge(update, context)
        return
    key, revision = parts[2], int(parts[3])
    book = context.services.faq.book
    entry = book.get(key)
    try:
        book.remove(key, _agent(update), revision)
    except FaqError as error:
        await _error(update, context, error)
        return
    assert entry is not None
    await acknowledge(update, context)
    await _drop_buttons(update)
    shown = faq.title(context.services.texts, _staff(context), entry)
    await reply(update, _t(context, "removed", entry=key, title=shown))


async def on_keep(update: Update, context: Context) -> None:
    """ "Keep it": nothing changes."""
    await acknowledge(update, context)
    await _drop_buttons(update)
    parts = callback_parts(update)
    await reply(update, _t(context, "kept", entry=parts[2] if len(parts) > 2 else ""))


# -- /faq_gaps ----------------------------------------------------------------------------
async def gaps(update: Update, context: Context) -> None:
    """/faq_gaps: the most asked unanswered questions, grouped, with what to do."""
    services = context.services
    found = services.faq.gaps.open_gaps()
    shown = found[:GAPS_SHOWN]
    staff = _staff(context)
    titles = {e.key: faq.title_plain(services.texts, staff, e) for e in services.faq.book.entries()}
    text = services.texts.render(staff, "faq_gaps", gaps=shown, total=len(found), titles=titles)
    rows = [
        [
            (_b(context, "gap_new", gap=g.id), f"fq:gn:{g.id}"),
            (_b(context, "gap_teach", gap=g.id), f"fq:gt:{g.id}"),
            (_b(context, "gap_dismiss", gap=g.id), f"fq:gd:{g.id}"),
        ]
        for g in shown
    ]
    await reply(update, text, keyboards.inline(rows) if rows else None)


async def on_gap_new(update: Update, context: Context) -> None:
    """ "New entry" on a gap: a draft whose wordings start with the gap's questions."""
    parts = callback_parts(update)
    if len(parts) == 3 and parts[2].isdigit():
        await _from_gap(update, context, int(parts[2]))


async def _from_gap(update: Update, context: Context, gap_id: int) -> None:
    if await _unfinished(update, context, f"g.{gap_id}"):
        return
    try:
        draft = context.services.faq.start_from_gap(_agent(update), gap_id)
    except FaqError as error:
        await _error(update, context, error)
        return
    await acknowledge(update, context)
    await reply(update, _t(context, "started_gap", gap=gap_id))
    await _next(update, context, draft)


async def on_gap_teach(update: Update, context: Context) -> None:
    """ "An entry answers it" on a gap: ask which one (the agent replies with its key)."""
    parts = callback_parts(update)
    gap = context.services.faq.gaps.get(int(parts[2])) if parts[2].isdigit() else None
    if gap is None or gap.status is not GapStatus.OPEN:
        await _error(update, context, FaqError("gap_closed", gap=parts[2]))
        return
    await acknowledge(update, context)
    user = update.effective_user
    assert user is not None
    mention = Markup('<a href="tg://user?id={}">{}</a>').format(user.id, user.full_name)
    force = ForceReply(selective=True, input_field_placeholder=_b(context, "placeholder_key"))
    text = _t(context, "ask.teach", mention=mention, gap=gap.id, text=gap.text)
    asked = await reply(update, text, force)
    if asked is not None:
        context.services.faq.drafts.asked(user.id, asked.message_id, Prompt(gap=gap.id))


async def _teach(update: Update, context: Context, gap_id: int, message: Message) -> None:
    """The agent named the entry answering a gap: its questions become that entry's."""
    key = (message.text or "").strip().casefold().removeprefix("/").split(" ")[0]
    try:
        entry, _ = context.services.faq.teach(gap_id, key, _agent(update))
    except FaqError as error:
        await _error(update, context, error)
        return
    shown = faq.title(context.services.texts, _staff(context), entry)
    await reply(update, _t(context, "taught", gap=gap_id, entry=entry.key, title=shown))


async def on_gap_dismiss(update: Update, context: Context) -> None:
    """ "Dismiss" on a gap: it needs no entry (small talk, another service)."""
    parts = callback_parts(update)
    try:
        if not parts[2].isdigit():
            raise FaqError("gap_closed", gap=parts[2])
        gap = context.services.faq.dismiss(int(parts[2]), _agent(update))
    except FaqError as error:
        await _error(update, context, error)
        return
    await acknowledge(update, context)
    await reply(update, _t(context, "gap_dismissed", gap=gap.id))


# -- /answer ------------------------------------------------------------------------------
async def answer(update: Update, context: Context) -> None:
    """/answer KEY in reply to a ticket message: that entry's answer to the user; /answer
    alone: the entries closest to the message replied to, as buttons."""
    message = update.message
    assert message is not None
    target = message.reply_to_message
    tickets = support.desk(context.bot_data)
    ticket = tickets.ticket_for(message.chat_id, target.message_id) if target else None
    if ticket is None or target is None:
        await reply(update, _t(context, "usage.answer"))
        return
    key = _arg(context)
    if key is not None:
        await _send_entry(update, context, ticket, key)
        return
    book = context.services.faq.book
    asked = target.text or target.caption or ""
    close = [book.get(m.topic) for m in book.matcher().rank(asked)[:SUGGESTED] if m.score > 0]
    found = [e for e in close if e is not None]
    if not found:
        await reply(update, _t(context, "answer_none"))
        return
    staff = _staff(context)
    rows = [
        [
            (
                _b(context, "send_entry", title=faq.title_plain(context.services.texts, staff, e)),
                f"fq:ans:{ticket.id}:{e.key}",
            )
        ]
        for e in found
    ]
    await reply(update, _t(context, "answer_suggest", ticket=ticket.id), keyboards.inline(rows))


async def on_send_entry(update: Update, context: Context) -> None:
    """A suggested entry's button: send it to the ticket's user."""
    parts = callback_parts(update)
    ticket = support.desk(context.bot_data).get(int(parts[2])) if parts[2].isdigit() else None
    if ticket is None or len(parts) != 4:
        await acknowledge(update, context, _b(context, "draft_gone"), alert=True)
        return
    await acknowledge(update, context)
    await _send_entry(update, context, ticket, parts[3])


async def _send_entry(update: Update, context: Context, ticket: Ticket, key: str) -> None:
    """Send an entry's answer to a ticket's user in their language; record it; say so."""
    services = context.services
    texts = services.texts
    entry = services.faq.book.get(key)
    if entry is None:
        await _error(update, context, FaqError("missing", entry=key))
        return
    staff = _staff(context)
    if not ticket.is_open:
        await reply(update, texts.t(staff, "ticket.group_closed_not_delivered", ticket=ticket.id))
        return
    locale = account_locale(services, ticket.user_id)
    text = texts.render(
        locale,
        "ticket_faq_answer",
        ticket=ticket.id,
        title=faq.title(texts, locale, entry),
        answer=faq.answer(texts, locale, entry, services.settings.SUPPORT_EMAIL),
    )
    try:
        await context.bot.send_message(ticket.user_id, text)
    except Forbidden:
        await reply(update, texts.t(staff, "ticket.group_blocked", ticket=ticket.id))
        return
    except (BadRequest, TelegramError):
        log.warning("ticket %s: FAQ answer not delivered", ticket.id, exc_info=True)
        await reply(update, texts.t(staff, "ticket.group_not_delivered", ticket=ticket.id))
        return
    support.desk(context.bot_data).answered_with(ticket, entry.key)
    services.faq.book.answered_ticket(ticket.id, entry.key, _agent(update), locale)
    shown = faq.title(texts, staff, entry)
    await reply(
        update,
        _t(
            context,
            "answer_sent",
            title=shown,
            entry=entry.key,
            ticket=ticket.id,
            language=_language(context, locale),
        ),
    )


# -- access and wiring --------------------------------------------------------------------
_BUTTONS: dict[str, Handler] = {
    "ls": list_entries,
    "go": on_continue,
    "new": on_start_new,
    "p": on_part,
    "save": on_save,
    "drop": on_drop,
    "rm": on_remove,
    "keep": on_keep,
    "gn": on_gap_new,
    "gt": on_gap_teach,
    "gd": on_gap_dismiss,
    "ans": on_send_entry,
}


async def on_button(update: Update, context: Context) -> None:
    """Every button of the desk: checked once for chat and agent, then dispatched."""
    if not support.is_agent(update, context.services.settings):
        await support.refuse(update, context)
        return
    parts = callback_parts(update)
    handler = _BUTTONS.get(parts[1]) if len(parts) >= 3 else None
    if handler is None:
        await acknowledge(update, context, _b(context, "draft_gone"), alert=True)
        return
    await handler(update, context)


class _RepliesToPrompt(filters.MessageFilter):
    """Replies to a question the bot asked this agent (looked up in storage, so a question
    asked before a restart still counts); other replies are left to other handlers."""

    def __init__(self, services: Services) -> None:
        super().__init__(name="RepliesToFaqPrompt")
        self._services = services

    def filter(self, message: Message) -> bool:
        """Whether the message replies to one of the sender's open questions."""
        target, user = message.reply_to_message, message.from_user
        if target is None or user is None:
            return False
        return self._services.faq.drafts.prompt(user.id, target.message_id) is not None


def register(application: Application) -> None:  # type: ignore[type-arg]
    """The agents' commands, replies and buttons behind ``support.agents``; the same
    commands from anyone else, in any group, are refused."""
    services = cast(Services, application.bot_data["services"])
    if services.settings.SUPPORT_CHAT_ID is None:
        return
    staff = support.agents(services.settings)
    commands: dict[str, Handler] = {
        "faq_list": list_entries,
        "faq_add": add,
        "faq_edit": edit,
        "faq_remove": remove,
        "faq_gaps": gaps,
        "faq_cancel": cancel,
        "answer": answer,
    }
    for name, callback in commands.items():
        application.add_handler(CommandHandler(name, callback, filters=staff))
    application.add_handler(
        MessageHandler(
            staff & filters.REPLY & ~filters.COMMAND & _RepliesToPrompt(services), on_reply
        )
    )
    application.add_handler(CallbackQueryHandler(on_button, pattern=r"^fq:"))
    application.add_handler(
        CommandHandler(list(COMMANDS), support.refuse, filters=~filters.ChatType.PRIVATE)
    )
