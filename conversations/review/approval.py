"""Approving from the card: the Approve button asks first, and the confirmation names the
round the reviewer saw, so a confirmation left on screen approves nothing once the
registration was submitted again (the reviewer has not seen that version)."""

from __future__ import annotations

from telegram import Update

from bot.rules.status import WAITING
from bot.services.review import Denied
from conversations import keyboards
from conversations.common import Context, callback_parts
from conversations.review import cards


async def ask_to_confirm_approval(update: Update, context: Context) -> None:
    """The card's Approve button: what is being approved, with Confirm and Cancel."""
    turn = cards.turn_of(update, context)
    rid = callback_parts(update)[2]
    registration = await cards.allowed(
        turn, lambda: context.services.review.open_for(rid, turn.user_id)
    )
    if registration is None:
        return
    await turn.acknowledge()
    company = registration.answers.get("company_name") or "—"
    role = turn.plain(f"role.{registration.role}.name")
    await turn.reply(
        turn.t("review.confirm_approve", id=rid, company=company, role=role),
        keyboards.inline(
            [
                [
                    (turn.button("approve_for_good"), f"rv:apok:{rid}:{registration.round}"),
                    (turn.button("cancel"), f"rv:apno:{rid}"),
                ]
            ]
        ),
    )


async def confirm_approval(update: Update, context: Context) -> None:
    """The second tap: approved, if it is still the round the reviewer was shown."""
    turn = cards.turn_of(update, context)
    parts = callback_parts(update)
    if len(parts) != 4 or not parts[3].isdigit():
        await turn.acknowledge(turn.button("stale"), alert=True)
        return
    rid, seen = parts[2], int(parts[3])
    review = context.services.review
    if await cards.act(turn, lambda r: review.approve(rid, r, seen_round=seen), "approved"):
        await cards.strip_buttons(turn)


async def cancel_approval(update: Update, context: Context) -> None:
    """Cancel: nothing is recorded, the confirmation says so; if someone decided the
    registration meanwhile, the reviewer is told that instead of "unchanged"."""
    turn = cards.turn_of(update, context)
    rid = callback_parts(update)[2]
    registration = await cards.allowed(turn, lambda: context.services.review.get(rid))
    if registration is None:
        return
    if registration.status not in WAITING:
        status = registration.status.value
        await cards.deny(turn, Denied("review.not_waiting", status=status))
        await cards.strip_buttons(turn)
        return
    await turn.acknowledge()
    await turn.edit_pressed(turn.t("review.approve_cancelled", id=rid), None)
