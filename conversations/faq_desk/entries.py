"""The FAQ's entries as they are: ``/faq_list`` and ``/faq_remove`` (after a confirmation)."""

from __future__ import annotations

from telegram import Update

from bot.services.faq_book import FaqError, Usage
from conversations import faq, keyboards
from conversations.common import Context, callback_parts
from conversations.faq_desk import shared

PAGE_SIZE = 20


# -- /faq_list ----------------------------------------------------------------------------
async def list_entries(update: Update, context: Context) -> None:
    """/faq_list (and its page buttons): key, title and this month's use of every entry."""
    turn = shared.turn_of(update, context)
    await turn.acknowledge()
    parts = callback_parts(update)
    page = int(parts[2]) if len(parts) == 3 and parts[2].isdigit() else 0
    services = context.services
    book = services.faq.book
    entries = book.entries()
    usage = book.usage()
    pages = max(1, -(-len(entries) // PAGE_SIZE))
    page = min(max(page, 0), pages - 1)
    staff = turn.locale
    rows = [
        (e.key, faq.title_plain(services.texts, staff, e), usage.get(e.key, Usage()))
        for e in entries[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    ]
    text = turn.render(
        "faq_list",
        rows=rows,
        total=len(entries),
        page=page + 1,
        pages=pages,
        month=book.month(),
    )
    nav = []
    if page > 0:
        nav.append((turn.button("previous"), f"fq:ls:{page - 1}"))
    if page + 1 < pages:
        nav.append((turn.button("next"), f"fq:ls:{page + 1}"))
    markup = keyboards.inline([nav]) if nav else None
    query = update.callback_query
    if query is not None and parts[:2] == ["fq", "ls"]:
        await turn.edit_pressed(text, markup)
    else:
        await turn.reply(text, markup)


# -- /faq_remove --------------------------------------------------------------------------
async def remove(update: Update, context: Context) -> None:
    """/faq_remove KEY: asks to confirm, showing what goes."""
    turn = shared.turn_of(update, context)
    key = shared.first_arg(context)
    if key is None:
        await turn.reply(turn.t("faq_desk.usage.remove"))
        return
    book = context.services.faq.book
    entry = book.get(key)
    if entry is None:
        await shared.show_error(turn, FaqError("missing", entry=key))
        return
    used = book.usage().get(key, Usage()).answered
    shown = faq.title(context.services.texts, turn.locale, entry)
    buttons = [
        [
            (turn.button("remove"), f"fq:rm:{key}:{entry.revision}"),
            (turn.button("keep"), f"fq:keep:{key}"),
        ]
    ]
    text = turn.t("faq_desk.confirm_remove", entry=key, title=shown, answered=used)
    await turn.reply(text, keyboards.inline(buttons))


async def on_remove(update: Update, context: Context) -> None:
    """The confirmation: remove the entry (unless it changed since the question)."""
    turn = shared.turn_of(update, context)
    parts = callback_parts(update)
    if len(parts) != 4 or not parts[3].isdigit():
        await turn.acknowledge()
        return
    key, revision = parts[2], int(parts[3])
    book = context.services.faq.book
    entry = book.get(key)
    try:
        book.remove(key, turn.user_id, revision)
    except FaqError as error:
        await shared.show_error(turn, error)
        return
    assert entry is not None
    await turn.acknowledge()
    await shared.drop_buttons(update)
    shown = faq.title(context.services.texts, turn.locale, entry)
    await turn.reply(turn.t("faq_desk.removed", entry=key, title=shown))


async def on_keep(update: Update, context: Context) -> None:
    """ "Keep it": nothing changes."""
    turn = shared.turn_of(update, context)
    await turn.acknowledge()
    await shared.drop_buttons(update)
    parts = callback_parts(update)
    await turn.reply(turn.t("faq_desk.kept", entry=parts[2] if len(parts) > 2 else ""))
