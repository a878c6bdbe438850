"""The reviewers' desk in the admin group: the queue, cards, claims and decisions.
Diagram: ``reviewer.mmd`` beside this file.

Only members of REVIEWER_IDS, and only in ADMIN_CHAT_ID, can act: the access check is one
filter for every command and button here, and anything else gets a refusal that says
nothing about registrations. Every button names its registration, and the service checks
the registration's current state, so a stale or replayed button changes nothing.
"""

from __future__ import annotations

import logging
from typing import Any, cast

from markupsafe import Markup
from telegram import ForceReply, InlineKeyboardMarkup, InputFile, Update
from telegram.error import BadRequest, TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.rules import form
from bot.rules.form import Kind
from bot.rules.models import Registration
from bot.rules.status import WAITING
from bot.rules.workdays import CHINA, china_date
from bot.services import reports
from bot.services.review import Denied
from conversations import delivery, keyboards
from conversations.common import (
    CATALOGUE,
    Context,
    Services,
    acknowledge,
    callback_parts,
    reason_text,
    reply,
)

log = logging.getLogger(__name__)

PAGE_SIZE = 10
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
_AWAITING = "review.awaiting"  # kv namespace: a reviewer's typed answer we wait for


def _locale(context: Context) -> str:
    return context.services.settings.DEFAULT_LOCALE


def _t(context: Context, key: str, **params: Any) -> str:
    return context.services.texts.t(_locale(context), key, **params)


def _b(context: Context, key: str, **params: Any) -> str:
    return context.services.texts.plain(_locale(context), f"review.button.{key}", **params)


# -- the card --------------------------------------------------------------------------
def _shown(services: Services, registration: Registration, key: str, revealed: bool) -> str:
    value = registration.answers.get(key)
    locale = services.settings.DEFAULT_LOCALE
    field = form.FIELDS[key]
    if key not in registration.answers:
        return "—"
    if value is None:
        return services.texts.plain(locale, "misc.skipped")
    if field.kind is Kind.DOCUMENT and isinstance(value, dict):
        return services.texts.plain(
            locale, "misc.file", name=value.get("file_name") or "", size=value.get("size", 0)
        )
    if field.kind is Kind.CHOICE:
        return services.texts.plain(locale, f"choice.{key}.{value}")
    return str(value) if revealed or not field.masked else form.mask(str(value))


def card(
    services: Services, registration: Registration, *, revealed: bool = False
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The reviewers' card: every answer by section, who holds it, what changed, buttons."""
    locale = services.settings.DEFAULT_LOCALE
    texts = services.texts
    sections = [
        (
            section.key,
            [
                (f.key, _shown(services, registration, f.key, revealed))
                for f in section.fields
                if f.applies_to(registration.role)
            ],
        )
        for section in form.FORM
    ]
    text = texts.render(
        locale,
        "review_card",
        r=registration,
        sections=sections,
        holder=services.review.holder(registration),
        changed=services.review.changed_since_review(registration),
        revealed=revealed,
    )
    return text, _card_buttons(services, registration)


def _card_buttons(services: Services, registration: Registration) -> InlineKeyboardMarkup | None:
    if registration.status not in WAITING:
        return None
    locale = services.settings.DEFAULT_LOCALE

    def b(key: str) -> str:
        return services.texts.plain(locale, f"review.button.{key}")

    rid = registration.id
    held = services.review.holder(registration) is not None
    first = (b("release"), f"rv:release:{rid}") if held else (b("claim"), f"rv:claim:{rid}")
    return keyboards.inline(
        [
            [first, (b("approve"), f"rv:approve:{rid}")],
            [(b("changes"), f"rv:changes:{rid}"), (b("reject"), f"rv:reject:{rid}")],
            [(b("reveal"), f"rv:reveal:{rid}"), (b("history"), f"rv:history:{rid}")],
        ]
    )


async def _refresh_card(context: Context, registration: Registration) -> None:
    """Edit the group's card to the registration's current state (best effort)."""
    if registration.card_message_id is None:
        return
    chat = context.services.settings.ADMIN_CHAT_ID
    assert chat is not None
    text, markup = card(context.services, registration)
    try:
        await context.bot.edit_message_text(
            text, chat_id=chat, message_id=registration.card_message_id, reply_markup=markup
        )
    except BadRequest as error:
        if "not modified" not in str(error).lower():
            log.warning("card of %s not updated: %s", registration.id, error)
    except TelegramError:
        log.warning("card of %s not updated", registration.id, exc_info=True)


# -- commands --------------------------------------------------------------------------
def _arg(context: Context) -> str | None:
    return context.args[0] if context.args else None


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
        _locale(context),
        "review_queue",
        items=shown,
        total=len(items),
        page=page + 1,
        pages=pages,
        holder=context.services.review.holder,
    )
    nav = []
    if page > 0:
        nav.append((_b(context, "previous"), f"rv:page:{page - 1}"))
    if page + 1 < pages:
        nav.append((_b(context, "next"), f"rv:page:{page + 1}"))
    rows = [[(f"{w.registration.id}", f"rv:open:{w.registration.id}")] for w in shown]
    markup = keyboards.inline([*rows, nav] if nav else rows) if rows or nav else None
    query = update.callback_query
    if query is not None and (query.data or "").startswith("rv:page:"):
        await query.edit_message_text(text, reply_markup=markup)
    else:
        await reply(update, text, markup)


async def review(update: Update, context: Context) -> None:
    """/review ID (or a queue button): the registration's card."""
    await acknowledge(update, context)
    parts = callback_parts(update)
    rid = parts[2] if len(parts) == 3 else _arg(context)
    if not rid:
        await reply(update, _t(context, "review.usage.review"))
        return
    try:
        registration = context.services.review.get(rid)
    except Denied as denied:
        await _deny(update, context, denied)
        return
    text, markup = card(context.services, registration)
    await reply(update, text, markup)


async def approve(update: Update, context: Context) -> None:
    """/approve ID or the Approve button."""
    rid = _target(update, context)
    if rid is None:
        await reply(update, _t(context, "review.usage.approve"))
        return
    await _act(update, context, lambda r: context.services.review.approve(rid, r), "approved")


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
            await _deny(update, context, denied)
            return
        await acknowledge(update, context)
        await _await_text(
            update,
            context,
            user.id,
            {"action": "reject", "id": rid},
            _t(context, "review.ask_reject_reason", id=rid),
        )
        return
    args = context.args or []
    if len(args) < 2:
        await reply(update, _t(context, "review.usage.reject"))
        return
    rid, reason = args[0], " ".join(args[1:])
    await _act(
        update, context, lambda r: context.services.review.reject(rid, r, reason), "rejected"
    )


async def claim(update: Update, context: Context) -> None:
    """The Claim button: take the registration."""
    rid = _target(update, context)
    assert rid is not None
    await _act(update, context, lambda r: context.services.review.claim(rid, r), "claimed")


async def release(update: Update, context: Context) -> None:
    """/release ID or the Release button: give it back to the queue."""
    rid = _target(update, context)
    if rid is None:
        await reply(update, _t(context, "review.usage.release"))
        return
    await _act(update, context, lambda r: context.services.review.release(rid, r), "released")


async def reveal(update: Update, context: Context) -> None:
    """The Reveal button: the card with full ID numbers, sent to the group, audited."""
    user = update.effective_user
    rid = _target(update, context)
    assert user is not None and rid is not None
    try:
        registration = context.services.review.reveal(rid, user.id)
    except Denied as denied:
        await _deny(update, context, denied)
        return
    await acknowledge(update, context)
    text, _ = card(context.services, registration, revealed=True)
    await reply(update, text)


async def history(update: Update, context: Context) -> None:
    """/history ID or the History button: the audit trail."""
    await acknowledge(update, context)
    rid = _target(update, context)
    if rid is None:
        await reply(update, _t(context, "review.usage.history"))
        return
    try:
        events = context.services.review.history(rid)
    except Denied as denied:
        await _deny(update, context, denied)
        return
    await reply(
        update,
        context.services.texts.render(
            _locale(context), "review_history", id=rid, events=events[-40:], total=len(events)
        ),
    )


async def find(update: Update, context: Context) -> None:
    """/find TEXT: by company name, credit code or e-mail."""
    text = " ".join(context.args or [])
    if len(text.strip()) < 2:
        await reply(update, _t(context, "review.usage.find"))
        return
    found = context.services.review.find(text)
    rows = [[(r.id, f"rv:open:{r.id}")] for r in found[:PAGE_SIZE]]
    await reply(
        update,
        context.services.texts.render(
            _locale(context), "review_found", query=text, found=found[:PAGE_SIZE], total=len(found)
        ),
        keyboards.inline(rows) if rows else None,
    )


# -- reports and deadlines -------------------------------------------------------------
async def export(update: Update, context: Context) -> None:
    """/export: every registration with status and timestamps, as a CSV document."""
    registrations = context.services.storage.registrations.all()
    data = reports.registrations_csv(registrations)
    chat = update.effective_chat
    assert chat is not None
    await chat.send_document(
        InputFile(data, filename="registrations.csv"),
        caption=_t(context, "review.export_caption"),
    )


async def stats(update: Update, context: Context) -> None:
    """/stats: a chart of submissions and decisions per day, with the median wait."""
    services = context.services
    data = reports.activity(services.storage.registrations.all(), china_date(services.clock()))
    # ASCII in the picture (server fonts may lack CJK glyphs); the caption is localised.
    png = reports.activity_chart(
        data, "Submissions and decisions per day (last 30 days)", ("submitted", "decided")
    )
    median = None if data.median_hours is None else round(data.median_hours, 1)
    chat = update.effective_chat
    assert chat is not None
    await chat.send_photo(
        InputFile(png, filename="stats.png"),
        caption=_t(
            context,
            "review.stats_caption",
            submitted=sum(data.submitted),
            decided=sum(data.decided),
            median=median,
        ),
    )


async def digest(context: Context) -> None:
    """The daily list of registrations near or past 3 working days (nothing if none)."""
    services = context.services
    admin = services.settings.ADMIN_CHAT_ID
    items = services.review.overdue()
    if admin is None or not items:
        return
    text = services.texts.render(
        services.settings.DEFAULT_LOCALE,
        "review_digest",
        items=items,
        holder=services.review.holder,
    )
    await context.bot.send_message(admin, text)


def schedule_digest(application: Application) -> None:  # type: ignore[type-arg]
    """Arm the daily digest at REVIEW_DIGEST_TIME, China time (again at every start)."""
    services: Services = application.bot_data["services"]
    assert application.job_queue is not None
    at = services.settings.REVIEW_DIGEST_TIME.replace(tzinfo=CHINA)
    application.job_queue.run_daily(cast(Any, digest), time=at, name="review-digest")


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
        await _deny(update, context, denied)
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
        await query.edit_message_text(text, reply_markup=markup)
    else:
        await reply(update, text, markup)


def _field_picker(
    context: Context, registration: Registration, draft: dict[str, Any]
) -> tuple[str, InlineKeyboardMarkup]:
    texts, locale = context.services.texts, _locale(context)
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
        [(_b(context, "next"), f"rv:next:{rid}"), (_b(context, "cancel"), f"rv:drop:{rid}")]
    )
    return _t(context, "review.pick_fields", id=rid), keyboards.inline(rows)


async def next_reason(update: Update, context: Context) -> None:
    """Request changes, step 2: a reason for each picked field, then a confirmation."""
    user = update.effective_user
    assert user is not None
    parts = callback_parts(update)
    rid = parts[2]
    kv = context.services.storage.kv
    draft = kv.get(_DRAFTS, _draft_key(user.id, rid))
    if draft is None:
        await acknowledge(update, context, _b(context, "stale"), alert=True)
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
        label = context.services.texts.plain(_locale(context), f"field.{field}.label")
        await _await_text(
            update,
            context,
            user.id,
            {"action": "reason", "id": rid, "field": field},
            _t(context, "review.ask_reason", field=label, id=rid),
        )
        return
    await acknowledge(update, context)
    await _ask_next_reason(update, context, rid, draft)


async def _ask_next_reason(
    update: Update, context: Context, rid: str, draft: dict[str, Any]
) -> None:
    texts, locale = context.services.texts, _locale(context)
    fields: list[str] = draft["fields"]
    if not fields:
        await reply(update, _t(context, "review.fields_needed"))
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
        rows.append([(_b(context, "other_reason"), f"rv:other:{rid}:{i}")])
        rows.append([(_b(context, "cancel"), f"rv:drop:{rid}")])
        await reply(
            update, _t(context, "review.pick_reason", field=label, id=rid), keyboards.inline(rows)
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
                    (_b(context, "send_changes"), f"rv:send:{rid}"),
                    (_b(context, "cancel"), f"rv:drop:{rid}"),
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
        await acknowledge(update, context, _b(context, "stale"), alert=True)
        return
    reasons: dict[str, str] = draft["reasons"]
    done = await _act(
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
    await reply(update, _t(context, "review.dropped", id=rid))


# -- typed answers (reasons) -------------------------------------------------------------
async def _await_text(
    update: Update, context: Context, reviewer: int, what: dict[str, str], prompt: str
) -> None:
    """Ask for a typed answer as a reply (the bot sees replies to it in privacy mode)."""
    message = await reply(update, prompt, ForceReply(selective=True))
    if message is not None:
        context.services.storage.kv.put(_AWAITING, f"{reviewer}:{message.message_id}", what)


async def typed_answer(update: Update, context: Context) -> None:
    """A reviewer's reply to one of our questions: a reason for a field or a rejection."""
    message = update.effective_message
    user = update.effective_user
    assert message is not None and user is not None and message.reply_to_message is not None
    key = f"{user.id}:{message.reply_to_message.message_id}"
    kv = context.services.storage.kv
    what = kv.get(_AWAITING, key)
    if what is None or not message.text:
        return
    kv.delete(_AWAITING, key)
    rid = what["id"]
    if what["action"] == "reject":
        text = message.text
        await _act(
            update, context, lambda r: context.services.review.reject(rid, r, text), "rejected"
        )
        return
    draft = kv.get(_DRAFTS, _draft_key(user.id, rid))
    if draft is None:
        await reply(update, _t(context, "review.stale"))
        return
    draft["reasons"][what["field"]] = message.text.strip()[:500]
    kv.put(_DRAFTS, _draft_key(user.id, rid), draft)
    await _ask_next_reason(update, context, rid, draft)


# -- shared ------------------------------------------------------------------------------
def _target(update: Update, context: Context) -> str | None:
    parts = callback_parts(update)
    if len(parts) >= 3:
        return parts[2]
    return _arg(context)


async def _act(update: Update, context: Context, action: Any, done_key: str) -> bool:
    """Run a service action for the acting reviewer, answer, refresh the card, deliver."""
    user = update.effective_user
    assert user is not None
    try:
        registration: Registration = action(user.id)
    except Denied as denied:
        await _deny(update, context, denied)
        return False
    done = _t(context, f"review.done.{done_key}", id=registration.id)
    await acknowledge(update, context, Markup(done).striptags())  # answers are plain text
    await reply(update, done)
    await _refresh_card(context, registration)
    if registration.pending:
        delivery.trigger(context)
    return True


async def _deny(update: Update, context: Context, denied: Denied) -> None:
    params = dict(denied.params)
    if "status" in params:
        params["status"] = context.services.texts.plain(
            _locale(context), f"status.{params['status']}"
        )
    text = _t(context, f"review.denied.{denied.code.removeprefix('review.')}", **params)
    if update.callback_query is not None:
        await acknowledge(update, context, Markup(text).striptags(), alert=True)
    else:
        await reply(update, text)


async def refuse(update: Update, context: Context) -> None:
    """Anyone else, anywhere else: a refusal that reveals nothing."""
    locale = context.services.settings.DEFAULT_LOCALE
    text = context.services.texts.plain(locale, "review.refused")
    if update.callback_query is not None:
        await acknowledge(update, context, text, alert=True)
    elif update.effective_chat is not None and update.effective_chat.type != "private":
        await reply(update, text)


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
    await acknowledge(update, context, _b(context, "stale"), alert=True)


def register(application: Application) -> None:  # type: ignore[type-arg]
    """Reviewer commands and buttons, behind one access filter."""
    services: Services = application.bot_data["services"]
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
    schedule_digest(application)
    # Everyone else: reviewer commands in other groups or from non-reviewers.
    application.add_handler(
        CommandHandler(list(COMMANDS), refuse, filters=~filters.ChatType.PRIVATE)
    )
