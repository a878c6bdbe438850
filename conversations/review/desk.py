"""The reviewers' desk in the admin group: the queue, cards, claims and decisions.
Diagram: ``review.mmd`` in this package.

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
from bot.telegram_html import MAX_TEXT
from conversations import keyboards, presenter
from conversations.common import (
    Context,
    Services,
    callback_parts,
    refuse_staff,
)
from conversations.review import cards
from conversations.review.approval import (
    ask_to_confirm_approval,
    cancel_approval,
    confirm_approval,
)
from conversations.review.change_requests import (
    changes,
    drop_draft,
    next_reason,
    send_changes,
)
from conversations.review.overview import export, stats
from conversations.review.removal import cancel_removal, confirm_removal, remove
from conversations.review.typed import rewrite_held, send_held, typed_answer

PAGE_SIZE = 10
COMMANDS = (
    "queue",
    "review",
    "approve",
    "reject",
    "remove",
    "history",
    "find",
    "release",
    "export",
    "stats",
)


# -- commands --------------------------------------------------------------------------
async def queue(update: Update, context: Context) -> None:
    """/queue: waiting registrations, oldest first, with age and overdue marks, paged."""
    turn = cards.turn_of(update, context)
    await turn.acknowledge()
    parts = callback_parts(update)
    page = int(parts[2]) if len(parts) == 3 and parts[2].isdigit() else 0
    await _show_queue(update, context, page)


async def _show_queue(update: Update, context: Context, page: int) -> None:
    turn = cards.turn_of(update, context)
    items = context.services.review.queue()
    shown, page, pages = keyboards.page_of(items, page, PAGE_SIZE)
    text = turn.render(
        "review_queue",
        items=shown,
        total=len(items),
        page=page + 1,
        pages=pages,
        holder=lambda r: presenter.who(context.services, context.services.review.holder(r)),
    )
    nav = turn.pager(page, pages, "rv:page:")
    rows = [[(w.registration.number, f"rv:open:{w.registration.number}")] for w in shown]
    markup = keyboards.inline([*rows, nav] if nav else rows) if rows or nav else None
    await turn.show(text, markup, edit=(turn.pressed or "").startswith("rv:page:"))


async def review(update: Update, context: Context) -> None:
    """/review ID (or a queue button): the registration's card."""
    turn = cards.turn_of(update, context)
    await turn.acknowledge()
    found = await cards.opened(turn, update, context, "review", context.services.review.get)
    if found is None:
        return
    text, markup = presenter.card(context.services, found[1])
    posted = await turn.reply(text, markup)
    if posted is not None and turn.chat_id == context.services.settings.ADMIN_CHAT_ID:
        context.services.review.posted_copy(found[0], posted.message_id)


async def _on_target(
    update: Update,
    context: Context,
    usage: str,
    action: Callable[[str, int], Registration],
    done: str,
) -> None:
    """A reviewer action on the registration a button or command names (usage if none)."""
    turn = cards.turn_of(update, context)
    rid = await cards.named(turn, update, context, usage)
    if rid is None:
        return
    await cards.act(turn, lambda reviewer: action(rid, reviewer), done)


async def approve(update: Update, context: Context) -> None:
    """/approve ID approves (typing the id is the deliberate act); the card's Approve button
    asks for a confirmation first (one tap is easily a slip)."""
    if update.callback_query is not None:
        await ask_to_confirm_approval(update, context)
        return
    await _on_target(update, context, "approve", context.services.review.approve, "approved")


async def reject(update: Update, context: Context) -> None:
    """/reject ID REASON; the Reject button asks for the reason."""
    turn = cards.turn_of(update, context)
    review = context.services.review
    given = await cards.with_reason(turn, update, context, "reject", review.open_for)
    if given is not None:
        rid, reason = given
        await cards.act(turn, lambda r: review.not_passed(rid, r, reason), "rejected")


async def claim(update: Update, context: Context) -> None:
    """The Claim button: take the registration."""
    await _on_target(update, context, "review", context.services.review.claim, "claimed")


async def release(update: Update, context: Context) -> None:
    """/release ID or the Release button: give it back to the queue."""
    await _on_target(update, context, "release", context.services.review.release, "released")


async def reveal(update: Update, context: Context) -> None:
    """The Reveal button: the card with full ID numbers, sent privately to the reviewer who
    asked (every group member would read it in the group), audited; the group is told."""
    turn = cards.turn_of(update, context)
    user = update.effective_user
    rid = cards.target(update, context)
    assert user is not None and rid is not None
    registration = await cards.allowed(turn, lambda: context.services.review.reveal(rid, user.id))
    if registration is None:
        return
    await turn.acknowledge()
    text, _ = presenter.card(context.services, registration, revealed=True)
    name = user.full_name
    try:
        await context.bot.send_message(user.id, text)
    except (Forbidden, BadRequest):
        # The reviewer never opened a private chat with the bot (or blocked it).
        await turn.reply(turn.t("review.reveal_no_private", id=rid, name=name))
        return
    await turn.reply(turn.t("review.revealed_privately", id=rid, name=name))


async def history(update: Update, context: Context) -> None:
    """/history ID or the History button: the audit trail, a page at a time (the latest
    first); a page's buttons lead to earlier and later events."""
    turn = cards.turn_of(update, context)
    await turn.acknowledge()
    review = context.services.review
    found = await cards.opened(
        turn, update, context, "history", lambda rid: (review.history(rid), review.get(rid))
    )
    if found is None:
        return
    rid, (events, registration) = found

    def render(start: int, shown: list[AuditEvent]) -> str:
        return turn.render(
            "review_history",
            id=rid,
            r=registration,
            events=shown,
            first=start + 1,
            total=len(events),
            who=lambda actor: presenter.who(context.services, actor),
        )

    pages = _pages(events, render)
    parts = callback_parts(update)
    wanted = int(parts[3]) if len(parts) == 4 and parts[3].isdigit() else len(pages) - 1
    page = min(wanted, len(pages) - 1)
    start, shown = pages[page]
    nav = turn.pager(page, len(pages), f"rv:history:{rid}:")
    markup = keyboards.inline([nav]) if nav else None
    await turn.show(render(start, shown), markup, edit=len(parts) == 4)


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
        if current and (len(current) >= HISTORY_PAGE or len(render(start, longer)) > MAX_TEXT):
            pages.append((start, current))
            start, longer = i, [event]
        current = longer
    pages.append((start, current))
    return pages


async def find(update: Update, context: Context) -> None:
    """/find TEXT: by company name, credit code or e-mail."""
    turn = cards.turn_of(update, context)
    text = " ".join(context.args or [])
    if len(text.strip()) < 2:
        await turn.reply(turn.t("review.usage.find"))
        return
    # Full scans run in a worker thread so everyone else keeps being answered meanwhile
    # (they only read, and every file is replaced atomically, so none is seen half-written).
    found = await asyncio.to_thread(context.services.review.find, text)
    rows = [[(r.number, f"rv:open:{r.number}")] for r in found[:PAGE_SIZE]]
    await turn.reply(
        turn.render(
            "review_found",
            query=text,
            found=found[:PAGE_SIZE],
            total=len(found),
        ),
        keyboards.inline(rows) if rows else None,
    )


async def help_(update: Update, context: Context) -> None:
    """/help in the reviewers' group: the desk's commands and what the card's buttons do."""
    turn = cards.turn_of(update, context)
    await turn.reply(turn.render("review_help", commands=COMMANDS))


async def refuse(update: Update, context: Context) -> None:
    """Anyone else, anywhere else: a refusal that reveals nothing, bounded in groups."""
    await refuse_staff(update, context, "review.refused")


_BUTTONS: tuple[tuple[str, Any], ...] = (
    ("page", queue),
    ("open", review),
    ("claim", claim),
    ("release", release),
    ("approve", approve),
    ("apok", confirm_approval),
    ("apno", cancel_approval),
    ("reject", reject),
    ("remove", remove),
    ("rmok", confirm_removal),
    ("rmno", cancel_removal),
    ("reveal", reveal),
    ("history", history),
    ("changes", changes),
    ("f", changes),
    ("next", next_reason),
    ("r", next_reason),
    ("other", next_reason),
    ("send", send_changes),
    ("drop", drop_draft),
    ("tyok", send_held),
    ("tyre", rewrite_held),
)


async def on_button(update: Update, context: Context) -> None:
    """Every reviewer button: checked for chat and reviewer once, then dispatched."""
    turn = cards.turn_of(update, context)
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
    await turn.acknowledge(turn.button("stale"), alert=True)


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
        CommandHandler("remove", remove, filters=allowed),
        CommandHandler("history", history, filters=allowed),
        CommandHandler("find", find, filters=allowed),
        CommandHandler("release", release, filters=allowed),
        CommandHandler("export", export, filters=allowed),
        CommandHandler("stats", stats, filters=allowed),
        CommandHandler("help", help_, filters=allowed),
        MessageHandler(allowed & filters.REPLY & filters.TEXT & ~filters.COMMAND, typed_answer),
    ]
    for handler in handlers:
        application.add_handler(handler)
    application.add_handler(CallbackQueryHandler(on_button, pattern=r"^rv:"))
    # Everyone else: reviewer commands in other groups or from non-reviewers.
    application.add_handler(
        CommandHandler(list(COMMANDS), refuse, filters=~filters.ChatType.PRIVATE)
    )
