"""Removal for a violation (清退) in the admin group: the reason (typed after the button, or
given with /remove), then a confirmation that says it is final; only the confirmation
records it. Diagram: ``reviewer.mmd``."""

from __future__ import annotations

from telegram import Update

from bot.services.change_requests import AwaitedAnswer
from bot.services.review import Denied
from conversations import keyboards
from conversations.common import Context, acknowledge, callback_parts, reply
from conversations.review import cards


async def remove(update: Update, context: Context) -> None:
    """/remove ID REASON, or the Remove button (asks for the reason): removal for a
    violation (清退) is final, so it is only recorded after the reviewer confirms it."""
    user = update.effective_user
    assert user is not None
    parts = callback_parts(update)
    if parts:  # the button: ask for the reason as a reply
        rid = parts[2]
        await acknowledge(update, context)
        await cards.await_text(
            update,
            context,
            user.id,
            AwaitedAnswer(action="remove", id=rid),
            cards.t(context, "review.ask_remove_reason", id=rid),
        )
        return
    args = context.args or []
    if len(args) < 2:
        await reply(update, cards.t(context, "review.usage.remove"))
        return
    await ask_to_confirm_removal(update, context, args[0], " ".join(args[1:]))


async def ask_to_confirm_removal(update: Update, context: Context, rid: str, reason: str) -> None:
    """Show what a removal means and hold its reason until the reviewer confirms."""
    user = update.effective_user
    assert user is not None
    try:
        registration = context.services.review.removable(rid, user.id)
    except Denied as denied:
        await cards.deny(update, context, denied)
        return
    context.services.reviewer_drafts.hold_removal(user.id, registration.id, reason)
    await reply(
        update,
        cards.t(context, "review.confirm_remove", id=registration.id, reason=reason[:1000]),
        keyboards.inline(
            [
                [(cards.b(context, "remove_for_good"), f"rv:rmok:{registration.id}")],
                [(cards.b(context, "cancel"), f"rv:rmno:{registration.id}")],
            ]
        ),
    )


async def confirm_removal(update: Update, context: Context) -> None:
    """The confirmation: the registration is removed for good, the applicant told."""
    user = update.effective_user
    assert user is not None
    rid = callback_parts(update)[2]
    reason = context.services.reviewer_drafts.take_removal(user.id, rid)
    if reason is None:
        await acknowledge(update, context, cards.b(context, "stale"), alert=True)
        return
    await cards.act(
        update, context, lambda r: context.services.review.remove(rid, r, reason), "removed"
    )


async def cancel_removal(update: Update, context: Context) -> None:
    """Nothing is removed; the held reason is dropped."""
    user = update.effective_user
    assert user is not None
    rid = callback_parts(update)[2]
    context.services.reviewer_drafts.take_removal(user.id, rid)
    await acknowledge(update, context)
    await reply(update, cards.t(context, "review.remove_cancelled", id=rid))
