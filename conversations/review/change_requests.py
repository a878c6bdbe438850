"""Composing a change request in the admin group: pick fields, give each a catalogue or
typed reason (typed as a reply: in privacy mode the bot sees replies to itself), confirm."""

from __future__ import annotations

from typing import Any

from telegram import InlineKeyboardMarkup, Update

from bot.rules import form
from bot.rules.models import Registration
from bot.services.review import Denied
from conversations import keyboards
from conversations.common import (
    CATALOGUE,
    Context,
    acknowledge,
    callback_parts,
    edit_pressed,
    reason_text,
    reply,
)
from conversations.review import cards

#: Catalogue reasons (keys of ``review.reason.*`` in every locale), in button order.
REASONS = (
    "licence_unreadable",
    "scope_lacks_tech",
    "scope_lacks_ecommerce",
    "legal_rep_mismatch",
    "description_vague",
    "id_photo_unclear",
    "id_number_mismatch",
    "identity_unverified",
    "company_mismatch",
    "email_unreachable",
)
_DRAFTS = "review.requests"  # kv namespace: change requests being composed


# -- change requests -------------------------------------------------------------------
def _draft_key(reviewer: int, rid: str) -> str:
    return f"{reviewer}:{rid}"


async def changes(update: Update, context: Context) -> None:
    """Request changes, step 1: pick the fields (toggle buttons), then Next."""
    user = update.effective_user
    assert user is not None
    parts = callback_parts(update)
    rid = parts[2]
    try:
        registration = context.services.review.open_for(rid, user.id)
    except Denied as denied:
        await cards.deny(update, context, denied)
        return
    await acknowledge(update, context)
    kv = context.services.storage.kv
    draft = kv.get(_DRAFTS, _draft_key(user.id, rid)) or {"fields": [], "reasons": {}}
    if parts[1] == "f" and len(parts) == 4 and parts[3].isdigit():
        keys = [f.key for f in form.fields_for(registration.role)]
        index = int(parts[3])
        if index < len(keys):
            key = keys[index]
            fields: list[str] = draft["fields"]
            if key in fields:
                fields.remove(key)
                draft["reasons"].pop(key, None)
            else:
                fields.append(key)
    kv.put(_DRAFTS, _draft_key(user.id, rid), draft)
    text, markup = _field_picker(context, registration, draft)
    query = update.callback_query
    if query is not None and parts[1] == "f":
        await edit_pressed(update, text, markup)
    else:
        await reply(update, text, markup)


def _field_picker(
    context: Context, registration: Registration, draft: dict[str, Any]
) -> tuple[str, InlineKeyboardMarkup]:
    texts, locale = context.services.texts, cards.locale(context)
    rid = registration.id
    buttons = [
        (
            ("✅ " if f.key in draft["fields"] else "")
            + texts.plain(locale, f"field.{f.key}.label"),
            f"rv:f:{rid}:{i}",
        )
        for i, f in enumerate(form.fields_for(registration.role))
    ]
    rows = keyboards.pairs(buttons)
    rows.append(
        [
            (cards.b(context, "next"), f"rv:next:{rid}"),
            (cards.b(context, "cancel"), f"rv:drop:{rid}"),
        ]
    )
    return cards.t(context, "review.pick_fields", id=rid), keyboards.inline(rows)


async def next_reason(update: Update, context: Context) -> None:
    """Request changes, step 2: a reason for each picked field, then a confirmation."""
    user = update.effective_user
    assert user is not None
    parts = callback_parts(update)
    rid = parts[2]
    kv = context.services.storage.kv
    draft = kv.get(_DRAFTS, _draft_key(user.id, rid))
    if draft is None:
        await acknowledge(update, context, cards.b(context, "stale"), alert=True)
        return
    if parts[1] == "r" and len(parts) == 5 and parts[3].isdigit() and parts[4].isdigit():
        fields: list[str] = draft["fields"]
        field_i, reason_i = int(parts[3]), int(parts[4])
        if field_i < len(fields) and reason_i < len(REASONS):
            draft["reasons"][fields[field_i]] = CATALOGUE + REASONS[reason_i]
            kv.put(_DRAFTS, _draft_key(user.id, rid), draft)
    if parts[1] == "other" and len(parts) == 4 and parts[3].isdigit():
        await acknowledge(update, context)
        field = draft["fields"][int(parts[3])]
        label = context.services.texts.plain(cards.locale(context), f"field.{field}.label")
        await cards.await_text(
            update,
            context,
            user.id,
            {"action": "reason", "id": rid, "field": field},
            cards.t(context, "review.ask_reason", field=label, id=rid),
        )
        return
    await acknowledge(update, context)
    await _ask_next_reason(update, context, rid, draft)


async def _ask_next_reason(
    update: Update, context: Context, rid: str, draft: dict[str, Any]
) -> None:
    texts, locale = context.services.texts, cards.locale(context)
    fields: list[str] = draft["fields"]
    if not fields:
        await reply(update, cards.t(context, "review.fields_needed"))
        return
    missing = [i for i, key in enumerate(fields) if key not in draft["reasons"]]
    if missing:
        i = missing[0]
        label = texts.plain(locale, f"field.{fields[i]}.label")
        buttons = [
            (texts.plain(locale, f"review.reason.{reason}"), f"rv:r:{rid}:{i}:{j}")
            for j, reason in enumerate(REASONS)
        ]
        rows = [[b] for b in buttons]
        rows.append([(cards.b(context, "other_reason"), f"rv:other:{rid}:{i}")])
        rows.append([(cards.b(context, "cancel"), f"rv:drop:{rid}")])
        await reply(
            update,
            cards.t(context, "review.pick_reason", field=label, id=rid),
            keyboards.inline(rows),
        )
        return
    listed = [
        (texts.t(locale, f"field.{key}.label"), reason_text(texts, locale, draft["reasons"][key]))
        for key in fields
    ]
    await reply(
        update,
        texts.render(locale, "review_request_confirm", id=rid, reasons=listed),
        keyboards.inline(
            [
                [
                    (cards.b(context, "send_changes"), f"rv:send:{rid}"),
                    (cards.b(context, "cancel"), f"rv:drop:{rid}"),
                ]
            ]
        ),
    )


async def send_changes(update: Update, context: Context) -> None:
    """Request changes, step 3: record the decision with its per-field reasons."""
    user = update.effective_user
    assert user is not None
    rid = callback_parts(update)[2]
    kv = context.services.storage.kv
    draft = kv.get(_DRAFTS, _draft_key(user.id, rid))
    if draft is None:
        await acknowledge(update, context, cards.b(context, "stale"), alert=True)
        return
    reasons: dict[str, str] = draft["reasons"]
    done = await cards.act(
        update,
        context,
        lambda r: context.services.review.request_changes(rid, r, reasons),
        "changes_requested",
    )
    if done:
        kv.delete(_DRAFTS, _draft_key(user.id, rid))


async def drop_draft(update: Update, context: Context) -> None:
    """Cancel a change request being composed."""
    user = update.effective_user
    assert user is not None
    rid = callback_parts(update)[2]
    context.services.storage.kv.delete(_DRAFTS, _draft_key(user.id, rid))
    await acknowledge(update, context)
    await reply(update, cards.t(context, "review.dropped", id=rid))


# -- typed answers (reasons) -------------------------------------------------------------
async def typed_answer(update: Update, context: Context) -> None:
    """A reviewer's reply to one of our questions: a reason for a field or a rejection."""
    message = update.effective_message
    user = update.effective_user
    assert message is not None and user is not None and message.reply_to_message is not None
    key = f"{user.id}:{message.reply_to_message.message_id}"
    kv = context.services.storage.kv
    what = kv.get(cards.AWAITING, key)
    if what is None or not message.text:
        return
    kv.delete(cards.AWAITING, key)
    rid = what["id"]
    if what["action"] == "reject":
        text = message.text
        await cards.act(
            update, context, lambda r: context.services.review.not_passed(rid, r, text), "rejected"
        )
        return
    draft = kv.get(_DRAFTS, _draft_key(user.id, rid))
    if draft is None:
        await reply(update, cards.t(context, "review.stale"))
        return
    draft["reasons"][what["field"]] = message.text.strip()[:500]
    kv.put(_DRAFTS, _draft_key(user.id, rid), draft)
    await _ask_next_reason(update, context, rid, draft)
