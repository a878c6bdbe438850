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
    shown, page, pages = keyboards.page_of(entries, page, PAGE_SIZE)
    staff = turn.locale
    rows = [
        (e.key, faq.title_plain(services.texts, staff, e), usage.get(e.key, Usage())) for e in shown
    ]
    text = turn.render(
        "faq_list",
        rows=rows,
        total=len(entries),
        page=page + 1,
        pages=pages,
        month=book.month(),
    )
    nav = turn.pager(page, pages, "fq:ls:")
    markup = keyboards.inline([nav]) if nav else None
    await turn.show(text, markup, edit=parts[:2] == ["fq", "ls"])


# -- /faq_remove --------------------------------------------------------------------------
async def remove(update: Update, context: Context) -> None:
    """/faq_remove KEY: asks to confirm, showing what goes."""
    turn = shared.turn_of(update, context)
    key = await shared.named_key(turn, context, "remove")
    entry = await shared.live_entry(turn, key) if key is not None else None
    if key is None or entry is None:
        return
    used = context.services.faq.book.usage().get(key, Usage()).answered
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
