"""Composing a change request in the admin group: pick fields, give each a catalogue or
typed reason (typed as a reply: in privacy mode the bot sees replies to itself), confirm."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Update

from bot.rules import form, reasons
from bot.rules.models import Registration, Role
from bot.services.change_requests import AwaitedAnswer, ChangeRequestDraft
from conversations import keyboards
from conversations.common import Context, Turn, callback_parts
from conversations.presenter import reason_text
from conversations.review import cards


# -- change requests -------------------------------------------------------------------
async def changes(update: Update, context: Context) -> None:
    """Request changes, step 1: pick the fields (toggle buttons), then Next."""
    turn = cards.turn_of(update, context)
    parts = callback_parts(update)
    rid = parts[2]
    registration = await cards.allowed(
        turn, lambda: context.services.review.open_for(rid, turn.user_id)
    )
    if registration is None:
        return
    await turn.acknowledge()
    rid = registration.number  # what the next buttons name (a card's old buttons: the id)
    drafts = context.services.reviewer_drafts
    draft = drafts.get(turn.user_id, rid) or ChangeRequestDraft()
    if parts[1] == "f" and len(parts) == 4 and parts[3].isdigit():
        keys = [f.key for f in form.fields_for(registration.role)]
        index = int(parts[3])
        if index < len(keys):
            draft.toggle(keys[index])
    drafts.save(turn.user_id, rid, draft)
    text, markup = _field_picker(turn, registration, draft)
    query = update.callback_query
    if query is not None and parts[1] == "f":
        await turn.edit_pressed(text, markup)
    else:
        await turn.reply(text, markup)


def _field_picker(
    turn: Turn, registration: Registration, draft: ChangeRequestDraft
) -> tuple[str, InlineKeyboardMarkup]:
    rid = registration.number
    buttons = [
        (
            ("✅ " if f.key in draft.fields else "") + turn.plain(f"field.{f.key}.label"),
            f"rv:f:{rid}:{i}",
        )
        for i, f in enumerate(form.fields_for(registration.role))
    ]
    rows = keyboards.pairs(buttons)
    rows.append(
        [
            (turn.button("next"), f"rv:next:{rid}"),
            (turn.button("cancel"), f"rv:drop:{rid}"),
        ]
    )
    return turn.t("review.pick_fields", id=rid), keyboards.inline(rows)


async def next_reason(update: Update, context: Context) -> None:
    """Request changes, step 2: a reason for each picked field, then a confirmation."""
    turn = cards.turn_of(update, context)
    parts = callback_parts(update)
    rid = parts[2]
    drafts = context.services.reviewer_drafts
    draft = drafts.get(turn.user_id, rid)
    if draft is None:
        await turn.acknowledge(turn.button("stale"), alert=True)
        return
    registration = await cards.allowed(turn, lambda: context.services.review.get(rid))
    if registration is None:
        return
    role = registration.role
    if parts[1] == "r" and len(parts) == 5 and parts[3].isdigit() and parts[4].isdigit():
        field_i, reason_i = int(parts[3]), int(parts[4])
        # Only a reason offered for that field and role is taken (not a forged one).
        if field_i < len(draft.fields) and reason_i in reasons.fitting(draft.fields[field_i], role):
            draft.reasons[draft.fields[field_i]] = reasons.from_catalogue(reason_i)
            drafts.save(turn.user_id, rid, draft)
    if parts[1] == "other":
        # The field's position rides in the button: a forged or stale one names none.
        if len(parts) != 4 or not parts[3].isdigit() or int(parts[3]) >= len(draft.fields):
            await turn.acknowledge(turn.button("stale"), alert=True)
            return
        await turn.acknowledge()
        field = draft.fields[int(parts[3])]
        label = turn.plain(f"field.{field}.label")
        await cards.await_text(
            turn,
            AwaitedAnswer(action="reason", id=rid, field=field),
            turn.t("review.ask_reason", field=label, id=rid),
        )
        return
    await turn.acknowledge()
    await ask_next_reason(turn, rid, role, draft)


async def ask_next_reason(turn: Turn, rid: str, role: Role, draft: ChangeRequestDraft) -> None:
    fields = draft.fields
    if not fields:
        await turn.reply(turn.t("review.fields_needed"))
        return
    missing = draft.missing()
    if missing:
        i = missing[0]
        label = turn.plain(f"field.{fields[i]}.label")
        buttons = [
            (turn.plain(f"review.reason.{reasons.REASONS[j]}"), f"rv:r:{rid}:{i}:{j}")
            for j in reasons.fitting(fields[i], role)
        ]
        rows = [[b] for b in buttons]
        rows.append([(turn.button("other_reason"), f"rv:other:{rid}:{i}")])
        rows.append([(turn.button("cancel"), f"rv:drop:{rid}")])
        await turn.reply(
            turn.t("review.pick_reason", field=label, id=rid),
            keyboards.inline(rows),
        )
        return
    listed = [
        (turn.t(f"field.{key}.label"), reason_text(turn.texts, turn.locale, draft.reasons[key]))
        for key in fields
    ]
    await turn.reply(
        turn.render("review_request_confirm", id=rid, reasons=listed),
        keyboards.inline(
            [
                [
                    (turn.button("send_changes"), f"rv:send:{rid}"),
                    (turn.button("cancel"), f"rv:drop:{rid}"),
                ]
            ]
        ),
    )


async def send_changes(update: Update, context: Context) -> None:
    """Request changes, step 3: record the decision with its per-field reasons."""
    turn = cards.turn_of(update, context)
    rid = callback_parts(update)[2]
    drafts = context.services.reviewer_drafts
    draft = drafts.get(turn.user_id, rid)
    if draft is None:
        await turn.acknowledge(turn.button("stale"), alert=True)
        return
    reasons = draft.reasons
    done = await cards.act(
        turn,
        lambda r: context.services.review.request_changes(rid, r, reasons),
        "changes_requested",
    )
    if done:
        drafts.discard(turn.user_id, rid)


async def drop_draft(update: Update, context: Context) -> None:
    """Cancel a change request being composed."""
    turn = cards.turn_of(update, context)
    rid = callback_parts(update)[2]
    context.services.reviewer_drafts.discard(turn.user_id, rid)
    await turn.acknowledge()
    await turn.reply(turn.t("review.dropped", id=rid))
