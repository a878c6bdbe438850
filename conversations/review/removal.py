"""Removal for a violation (清退) in the admin group: the reason (typed after the button, or
given with /remove), then a confirmation that says it is final; only the confirmation
records it. Diagram: ``review.mmd`` in this package."""

from __future__ import annotations

from telegram import Update

from conversations import keyboards
from conversations.common import Context, Turn, callback_parts
from conversations.review import cards


async def remove(update: Update, context: Context) -> None:
    """/remove ID REASON, or the Remove button (asks for the reason): removal for a
    violation (清退) is final, so it is only recorded after the reviewer confirms it."""
    turn = cards.turn_of(update, context)
    given = await cards.with_reason(turn, update, context, "remove")
    if given is not None:
        await ask_to_confirm_removal(turn, *given)


async def ask_to_confirm_removal(turn: Turn, rid: str, reason: str) -> None:
    """Show what a removal means and hold its reason until the reviewer confirms."""
    services = turn.services
    registration = await cards.allowed(turn, lambda: services.review.removable(rid, turn.user_id))
    if registration is None:
        return
    number = registration.number
    services.reviewer_drafts.hold_removal(turn.user_id, number, reason)
    await turn.reply(
        turn.t("review.confirm_remove", id=number, reason=reason[:1000]),
        keyboards.inline(
            [
                [(turn.button("remove_for_good"), f"rv:rmok:{number}")],
                [(turn.button("cancel"), f"rv:rmno:{number}")],
            ]
        ),
    )


async def confirm_removal(update: Update, context: Context) -> None:
    """The confirmation: the registration is removed for good, the applicant told."""
    turn = cards.turn_of(update, context)
    rid = callback_parts(update)[2]
    reason = context.services.reviewer_drafts.take_removal(turn.user_id, rid)
    if reason is None:
        await turn.acknowledge(turn.button("stale"), alert=True)
        return
    await cards.act(turn, lambda r: context.services.review.remove(rid, r, reason), "removed")


async def cancel_removal(update: Update, context: Context) -> None:
    """Nothing is removed; the held reason is dropped."""
    turn = cards.turn_of(update, context)
    rid = callback_parts(update)[2]
    context.services.reviewer_drafts.take_removal(turn.user_id, rid)
    await turn.acknowledge()
    await turn.reply(turn.t("review.remove_cancelled", id=rid))
