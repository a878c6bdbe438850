"""The reviewers' desk in the admin group: the queue, cards, claims and decisions.
Diagram: ``reviewer.mmd`` beside this file.

Only members of REVIEWER_IDS, and only in ADMIN_CHAT_ID, can act: the access check is one
filter for every command and button here, and anything else gets a refusal that says
nothing about registrations. Every button names its registration, and the service checks
the registration's current state, so a stale or replayed button changes nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from telegram import Update
from telegram.error import BadRequest, Forbidden
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.rules.models import AuditEvent, Registration
from bot.services.change_requests import AwaitedAnswer
from bot.services.review import Denied
from conversations import keyboards, presenter
from conversations.common import (
    Context,
    Services,
    acknowledge,
    callback_parts,
    edit_pressed,
    refuse_in_group,
    reply,
)
from conversations.review import cards
from conversations.review.change_requests import (
    changes,
    drop_draft,
    next_reason,
    send_changes,
    typed_answer,
)
from conversations.review.overview import export, stats

PAGE_SIZE = 10
#: Telegram's limit on a message's text (checked on the HTML, which is never shorter).
MESSAGE_LIMIT = 4096
COMMANDS = (
    "queue",
    "review",
    "approve",
    "reject",
    "history",
    "find",
    "release",
    "export",
    "stats",
)


# -- commands --------------------------------------------------------------------------
async def queue(update: Update, context: Context) -> None:
    """/queue: waiting registrations, oldest first, with age and overdue marks, paged."""
    await acknowledge(update, context)
    parts = callback_parts(update)
    page = int(parts[2]) if len(parts) == 3 and parts[2].isdigit() else 0
    await _show_queue(update, context, page)


async def _show_queue(update: Update, context: Context, page: int) -> None:
    items = context.services.review.queue()
    pages = max(1, -(-len(items) // PAGE_SIZE))
    page = min(max(page, 0), pages - 1)
    shown = items[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    text = context.services.texts.render(
        cards.locale(context),
        "review_queue",
        items=shown,
        total=len(items),
        page=page + 1,
        pages=pages,
        holder=context.services.review.holder,
    )
    nav = []
    if page > 0:
        nav.append((cards.b(context, "previous"), f"rv:page:{page - 1}"))
    if page + 1 < pages:
        nav.append((cards.b(context, "next"), f"rv:page:{page + 1}"))
    rows = [[(f"{w.registration.id}", f"rv:open:{w.registration.id}")] for w in shown]
    markup = keyboards.inline([*rows, nav] if nav else rows) if rows or nav else None
    query = update.callback_query
    if query is not None and (query.data or "").startswith("rv:page:"):
        await edit_pressed(update, text, markup)
    else:
        await reply(update, text, markup)


async def review(update: Update, context: Context) -> None:
    """/review ID (or a queue button): the registration's card."""
    await acknowledge(update, context)
    parts = callback_parts(update)
    rid = parts[2] if len(parts) == 3 else cards.arg(context)
    if not rid:
        await reply(update, cards.t(context, "review.usage.review"))
        return
    try:
        registration = context.services.review.get(rid)
    except Denied as denied:
        await cards.deny(update, context, denied)
        return
    text, markup = presenter.card(context.services, registration)
    await reply(update, text, markup)


async def _on_target(
    update: Update,
    context: Context,
    usage: str,
    action: Callable[[str, int], Registration],
    done: str,
) -> None:
    """A reviewer action on the registration a button or command names (usage if none)."""
    rid = cards.target(update, context)
    if rid is None:
        await reply(update, cards.t(context, f"review.usage.{usage}"))
        return
    await cards.act(update, context, lambda reviewer: action(rid, reviewer), done)


async def approve(update: Update, context: Context) -> None:
    """/approve ID or the Approve button."""
    await _on_target(update, context, "approve", context.services.review.approve, "approved")


async def reject(update: Update, context: Context) -> None:
    """/reject ID REASON; the Reject button asks for the reason."""
    user = update.effective_user
    assert user is not None
    parts = callback_parts(update)
    if parts:  # the button: ask for the reason as a reply
        rid = parts[2]
        try:
            context.services.review.open_for(rid, user.id)
        except Denied as denied:
            await cards.deny(update, context, denied)
            return
        await acknowledge(update, context)
        await cards.await_text(
            update,
            context,
            user.id,
            AwaitedAnswer(action="reject", id=rid),
            cards.t(context, "review.ask_reject_reason", id=rid),
        )
        return
    args = context.args or []
    if len(args) < 2:
        await reply(update, cards.t(context, "review.usage.reject"))
        return
    rid, reason = args[0], " ".join(args[1:])
    await cards.act(
        update, context, lambda r: context.services.review.not_passed(rid, r, reason), "rejected"
    )


async def claim(update: Update, context: Context) -> None:
    """The Claim button: take the registration."""
    await _on_target(update, context, "review", context.services.review.claim, "claimed")


async def release(update: Update, context: Context) -> None:
    """/release ID or the Release button: give it back to the queue."""
    await _on_target(update, context, "release", context.services.review.release, "released")


async def reveal(update: Update, context: Context) -> None:
    """The Reveal button: the card with full ID numbers, sent privately to the reviewer who
    asked (every group member would read it in the group), audited; the group is told."""
    user = update.effective_user
    rid = cards.target(update, context)
    assert user is not None and rid is not None
    try:
        registration = context.services.review.reveal(rid, user.id)
    except Denied as denied:
        await cards.deny(update, context, denied)
        return
    await acknowledge(update, context)
    text, _ = presenter.card(context.services, registration, revealed=True)
    name = user.full_name
    try:
        await context.bot.send_message(user.id, text)
    except (Forbidden, BadRequest):
        # The reviewer never opened a private chat with the bot (or blocked it).
        await reply(update, cards.t(context, "review.reveal_no_private", id=rid, name=name))
        return
    await reply(update, cards.t(context, "review.revealed_privately", id=rid, name=name))


async def history(update: Update, context: Context) -> None:
    """/history ID or the History button: the audit trail, a page at a time (the latest
    first); a page's buttons lead to earlier and later events."""
    await acknowledge(update, context)
    rid = cards.target(update, context)
    if rid is None:
        await reply(update, cards.t(context, "review.usage.history"))
        return
    try:
        events = context.services.review.history(rid)
    except Denied as denied:
        await cards.deny(update, context, denied)
        return
    locale, texts = cards.locale(context), context.services.texts

    def render(start: int, shown: list[AuditEvent]) -> str:
        return texts.render(
            locale, "review_history", id=rid, events=shown, first=start + 1, total=len(events)
        )

    pages = _pages(events, render)
    parts = callback_parts(update)
    wanted = int(parts[3]) if len(parts) == 4 and parts[3].isdigit() else len(pages) - 1
    page = min(wanted, len(pages) - 1)
    start, shown = pages[page]
    nav = []
    if page > 0:
        nav.append((cards.b(context, "previous"), f"rv:history:{rid}:{page - 1}"))
    if page + 1 < len(pages):
        nav.append((cards.b(context, "next"), f"rv:history:{rid}:{page + 1}"))
    markup = keyboards.inline([nav]) if nav else None
    if len(parts) == 4:
        await edit_pressed(update, render(start, shown), markup)
    else:
        await reply(update, render(start, shown), markup)


#: Events per history page at most; fewer when their text would not fit one message.
HISTORY_PAGE = 10


def _pages(
    events: list[AuditEvent], render: Callable[[int, list[AuditEvent]], str]
) -> list[tuple[int, list[AuditEvent]]]:
    """The events cut into pages (first index, events) that each fit one message."""
    pages: list[tuple[int, list[AuditEvent]]] = []
    start, current = 0, list[AuditEvent]()
    for i, event in enumerate(events):
        longer = [*current, event]
        if current and (len(current) >= HISTORY_PAGE or len(render(start, longer)) > MESSAGE_LIMIT):
            pages.append((start, current))
            start, longer = i, [event]
        current = longer
    pages.append((start, current))
    return pages


async def find(update: Update, context: Context) -> None:
    """/find TEXT: by company name, credit code or e-mail."""
    text = " ".join(context.args or [])
    if len(text.strip()) < 2:
        await reply(update, cards.t(context, "review.usage.find"))
        return
    # Full scans run in a worker thread so everyone else keeps being answered meanwhile
    # (they only read, and every file is replaced atomically, so none is seen half-written).
    found = await asyncio.to_thread(context.services.review.find, text)
    rows = [[(r.id, f"rv:open:{r.id}")] for r in found[:PAGE_SIZE]]
    await reply(
        update,
        context.services.texts.render(
            cards.locale(context),
            "review_found",
            query=text,
            found=found[:PAGE_SIZE],
            total=len(found),
        ),
        keyboards.inline(rows) if rows else None,
    )


async def refuse(update: Update, context: Context) -> None:
    """Anyone else, anywhere else: a refusal that reveals nothing, bounded in groups."""
    locale = context.services.settings.DEFAULT_LOCALE
    await refuse_in_group(update, context, context.services.texts.plain(locale, "review.refused"))


_BUTTONS: tuple[tuple[str, Any], ...] = (
    ("page", queue),
    ("open", review),
    ("claim", claim),
    ("release", release),
    ("approve", approve),
    ("reject", reject),
    ("reveal", reveal),
    ("history", history),
    ("changes", changes),
    ("f", changes),
    ("next", next_reason),
    ("r", next_reason),
    ("other", next_reason),
    ("send", send_changes),
    ("drop", drop_draft),
)


async def on_button(update: Update, context: Context) -> None:
    """Every reviewer button: checked for chat and reviewer once, then dispatched."""
    settings = context.services.settings
    chat, user = update.effective_chat, update.effective_user
    if (
        chat is None
        or user is None
        or chat.id != settings.ADMIN_CHAT_ID
        or user.id not in settings.REVIEWER_IDS
    ):
        await refuse(update, context)
        return
    parts = callback_parts(update)
    for name, callback in _BUTTONS:
        if len(parts) >= 3 and parts[1] == name:
            await callback(update, context)
            return
    await acknowledge(update, context, cards.b(context, "stale"), alert=True)


def register(application: Application, services: Services) -> None:  # type: ignore[type-arg]
    """Reviewer commands and buttons, behind one access filter."""
    settings = services.settings
    admin = settings.ADMIN_CHAT_ID
    if admin is None or not settings.REVIEWER_IDS:
        return
    allowed = filters.Chat(admin) & filters.User(settings.REVIEWER_IDS)
    handlers = [
        CommandHandler("queue", queue, filters=allowed),
        CommandHandler("review", review, filters=allowed),
        CommandHandler("approve", approve, filters=allowed),
        CommandHandler("reject", reject, filters=allowed),
        CommandHandler("history", history, filters=allowed),
        CommandHandler("find", find, filters=allowed),
        CommandHandler("release", release, filters=allowed),
        CommandHandler("export", export, filters=allowed),
        CommandHandler("stats", stats, filters=allowed),
        MessageHandler(allowed & filters.REPLY & filters.TEXT & ~filters.COMMAND, typed_answer),
    ]
    for handler in handlers:
        application.add_handler(handler)
    application.add_handler(CallbackQueryHandler(on_button, pattern=r"^rv:"))
    # Everyone else: reviewer commands in other groups or from non-reviewers.
    application.add_handler(
        CommandHandler(list(COMMANDS), refuse, filters=~filters.ChatType.PRIVATE)
    )
