"""The applicant's journey in a private chat: phone, agreement, role, the form, the
summary and submission. Diagram: ``applicant.mmd`` beside this file.

Where the applicant stands is read from storage (account, registration cursor) by
``resume``; the conversation state only says which kind of answer is expected next. So
after a restart, a lost state or ``/cancel``, ``/apply`` continues at the exact field.
"""

from __future__ import annotations

import logging
import warnings
from datetime import timedelta
from enum import StrEnum
from typing import Any, cast

from markupsafe import Markup
from telegram import Document as TgDocument
from telegram import Message, PhotoSize, ReplyKeyboardRemove, Update
from telegram.error import Forbidden, TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)
from telegram.warnings import PTBUserWarning

from bot.rules import documents, form, validators
from bot.rules.form import Kind
from bot.rules.models import Document, Registration, Role
from bot.services.registrations import Incomplete, NotAsked, RoleTaken
from conversations import delivery, keyboards
from conversations.common import (
    Context,
    account_locale,
    acknowledge,
    callback_parts,
    locale_of,
    reason_text,
    reply,
)

log = logging.getLogger(__name__)

#: How often idle drafts are looked for, and how soon after start-up the first time.
REMINDER_EVERY = timedelta(hours=1)
REMINDER_FIRST = timedelta(minutes=1)

#: Longest agreement page; Telegram allows 4096 characters, we leave room for the header.
PAGE_CHARS = 3500


class State(StrEnum):
    PHONE = "phone"
    AGREEMENT = "agreement"
    ROLE = "role"
    FORM = "form"
    SUMMARY = "summary"


END = ConversationHandler.END


# -- where the applicant stands ---------------------------------------------------------
def _active(update: Update, context: Context) -> Registration | None:
    """The registration being filled in: the one chosen, else the only editable one."""
    user = update.effective_user
    assert user is not None
    service = context.services.registrations
    editable = service.editable(user.id)
    chosen = context.user_data.get("active") if context.user_data is not None else None
    for registration in editable:
        if registration.id == chosen:
            return registration
    if len(editable) == 1:
        _choose(context, editable[0])
        return editable[0]
    return None


def _choose(context: Context, registration: Registration) -> None:
    if context.user_data is not None:
        context.user_data["active"] = registration.id


async def resume(update: Update, context: Context, notice: str | None = None) -> State | int:
    """Ask for whatever comes next, read from storage; the entry to every step."""
    await acknowledge(update, context)
    user = update.effective_user
    assert user is not None
    services = context.services
    account = services.accounts.ensure(user.id, language_code=user.language_code)
    if account.phone is None:
        return await _ask_phone(update, context, notice)
    if account.agreement_version != services.agreement_version:
        updated = account.agreement_version is not None
        return await _show_agreement(update, context, 0, notice, updated=updated)
    registration = _active(update, context)
    if registration is not None:
        return await _ask(update, context, registration, notice)
    return await _show_roles(update, context, notice)


async def _ask_phone(update: Update, context: Context, notice: str | None) -> State:
    locale = locale_of(update, context)
    texts = context.services.texts
    await reply(
        update,
        texts.render(locale, "phone", notice=notice),
        keyboards.share_phone(texts, locale),
    )
    return State.PHONE


def _agreement_pages(context: Context, locale: str) -> list[Markup]:
    """The agreement split at paragraph breaks into pages within Telegram's limit (each
    page still safe HTML: paragraphs never split inside a tag)."""
    text = context.services.texts.render(locale, "agreement")
    pages: list[str] = []
    current = ""
    for paragraph in text.split("\n\n"):
        if current and len(current) + len(paragraph) + 2 > PAGE_CHARS:
            pages.append(current)
            current = paragraph
        else:
            current = f"{current}\n\n{paragraph}" if current else paragraph
    pages.append(current)
    return [Markup(page) for page in pages]


async def _show_agreement(
    update: Update,
    context: Context,
    page: int,
    notice: str | None = None,
    *,
    updated: bool = False,
) -> State:
    locale = locale_of(update, context)
    texts = context.services.texts
    pages = _agreement_pages(context, locale)
    page = min(max(page, 0), len(pages) - 1)
    nav: list[tuple[str, str]] = []
    if page > 0:
        nav.append((texts.plain(locale, "button.previous_page"), f"ap:agr:{page - 1}"))
    if page + 1 < len(pages):
        nav.append((texts.plain(locale, "button.next_page"), f"ap:agr:{page + 1}"))
    rows = [nav] if nav else []
    version = context.services.agreement_version
    rows.append(
        [
            (texts.plain(locale, "button.agree"), f"ap:agree:{version}"),
            (texts.plain(locale, "button.decline"), "ap:decline"),
        ]
    )
    text = texts.render(
        locale,
        "agreement_page",
        body=pages[page],
        page=page + 1,
        pages=len(pages),
        version=version,
        notice=notice,
        updated=updated,
    )
    markup = keyboards.inline(rows)
    query = update.callback_query
    if query is not None and query.data and query.data.startswith("ap:agr:"):
        await query.edit_message_text(text, reply_markup=markup)
    else:
        await reply(update, text, markup)
    return State.AGREEMENT


async def _show_roles(update: Update, context: Context, notice: str | None = None) -> State | int:
    user = update.effective_user
    assert user is not None
    locale = locale_of(update, context)
    texts = context.services.texts
    service = context.services.registrations
    editable = service.editable(user.id)
    available = service.available_roles(user.id)
    if not editable and not available:
        await reply(update, texts.t(locale, "misc.all_roles_taken"))
        return END
    rows = [
        [
            (
                texts.plain(
                    locale, "button.continue_role", role=texts.plain(locale, f"role.{r.role}.name")
                ),
                f"ap:cont:{r.id}",
            )
        ]
        for r in editable
    ]
    rows += keyboards.pairs(
        [(texts.plain(locale, f"role.{role}.name"), f"ap:role:{role}") for role in available]
    )
    await reply(
        update,
        texts.render(
            locale,
            "roles",
            roles=list(Role),
            available=available,
            notice=notice,
            continuing=bool(editable),
        ),
        keyboards.inline(rows),
    )
    return State.ROLE


async def _ask(
    update: Update, context: Context, registration: Registration, notice: str | None = None
) -> State:
    """The prompt of the registration's current field, or the summary when none is left."""
    if registration.cursor is None:
        return await _show_summary(update, context, registration, notice)
    locale = locale_of(update, context)
    texts = context.services.texts
    key = registration.cursor
    field = form.FIELDS[key]
    step, steps = context.services.registrations.step(registration, key)
    rows: list[list[tuple[str, str]]] = []
    if field.kind is Kind.CHOICE:
        rows.append(
            [
                (texts.plain(locale, f"choice.{key}.{c}"), f"ap:choice:{key}:{c}")
                for c in field.choices
            ]
        )
    extra: list[tuple[str, str]] = []
    if key in registration.answers:
        extra.append((texts.plain(locale, "button.keep"), f"ap:keep:{key}"))
    if field.optional:
        extra.append((texts.plain(locale, "button.skip"), f"ap:skip:{key}"))
    if step > 1 or registration.editing:
        extra.append((texts.plain(locale, "button.back"), f"ap:back:{key}"))
    if extra:
        rows.append(extra)
    current = _shown(registration, key, locale, context)
    await reply(
        update,
        texts.render(
            locale,
            "field",
            section=form.SECTION_OF[key],
            key=key,
            step=step,
            steps=steps,
            current=current,
            reason=reason_text(texts, locale, registration.flagged[key])
            if key in registration.flagged
            else None,
            notice=notice,
            optional=field.optional,
            document=field.kind is Kind.DOCUMENT,
        ),
        keyboards.inline(rows) if rows else None,
    )
    return State.FORM


def _shown(registration: Registration, key: str, locale: str, context: Context) -> str | None:
    """An answer as the applicant sees it (ID numbers masked, files by name)."""
    if key not in registration.answers:
        return None
    value = registration.answers[key]
    texts = context.services.texts
    field = form.FIELDS[key]
    if value is None:
        return texts.plain(locale, "misc.skipped")
    if field.kind is Kind.DOCUMENT and isinstance(value, dict):
        return texts.plain(
            locale, "misc.file", name=value.get("file_name") or "", size=value.get("size", 0)
        )
    if field.kind is Kind.CHOICE:
        return texts.plain(locale, f"choice.{key}.{value}")
    return form.mask(str(value)) if field.masked else str(value)


async def _show_summary(
    update: Update, context: Context, registration: Registration, notice: str | None = None
) -> State:
    locale = locale_of(update, context)
    texts = context.services.texts
    keys = context.services.registrations.sequence(registration)
    sections = [
        (
            section.key,
            [
                (f.key, _shown(registration, f.key, locale, context))
                for f in section.fields
                if f.applies_to(registration.role)
            ],
        )
        for section in form.FORM
    ]
    edit = [
        (
            texts.plain(locale, "button.edit", field=texts.plain(locale, f"field.{k}.label")),
            f"ap:edit:{k}",
        )
        for k in keys
    ]
    rows = keyboards.pairs(edit)
    rows.append([(texts.plain(locale, "button.submit"), f"ap:submit:{registration.id}")])
    await reply(
        update,
        texts.render(
            locale,
            "summary",
            role=registration.role.value,
            sections=sections,
            flagged=registration.flagged,
            notice=notice,
        ),
        keyboards.inline(rows),
    )
    return State.SUMMARY


def _error(context: Context, locale: str, error: validators.Invalid) -> str:
    return context.services.texts.t(locale, f"error.{error.code}", **error.params)


# -- phone -------------------------------------------------------------------------------
async def on_contact(update: Update, context: Context) -> State | int:
    """A shared contact: accepted only when it is the sender's own."""
    message = update.effective_message
    user = update.effective_user
    assert message is not None and message.contact is not None and user is not None
    locale = locale_of(update, context)
    texts = context.services.texts
    if message.contact.user_id != user.id:
        return await _ask_phone(update, context, texts.t(locale, "error.contact.not_yours"))
    return await _bind_phone(update, context, message.contact.phone_number)


async def on_phone_text(update: Update, context: Context) -> State | int:
    """A typed mobile number."""
    message = update.effective_message
    assert message is not None and message.text is not None
    return await _bind_phone(update, context, message.text)


async def _bind_phone(update: Update, context: Context, number: str) -> State | int:
    user = update.effective_user
    assert user is not None
    locale = locale_of(update, context)
    texts = context.services.texts
    try:
        account = context.services.accounts.bind_phone(user.id, number)
    except validators.Invalid as error:
        return await _ask_phone(update, context, _error(context, locale, error))
    assert account.phone is not None
    await reply(
        update,
        texts.t(locale, "misc.phone_saved", phone=form.mask(account.phone)),
        ReplyKeyboardRemove(),
    )
    return await resume(update, context)


# -- agreement ---------------------------------------------------------------------------
async def on_agreement_page(update: Update, context: Context) -> State:
    """Turn a page of the agreement."""
    await acknowledge(update, context)
    parts = callback_parts(update)
    page = int(parts[2]) if len(parts) == 3 and parts[2].isdigit() else 0
    return await _show_agreement(update, context, page)


async def on_agree(update: Update, context: Context) -> State | int:
    """Record acceptance of the version shown (an outdated page is shown anew)."""
    user = update.effective_user
    assert user is not None
    parts = callback_parts(update)
    locale = locale_of(update, context)
    texts = context.services.texts
    version = context.services.agreement_version
    if len(parts) != 3 or parts[2] != version:
        await acknowledge(update, context, texts.plain(locale, "misc.stale_button"))
        return await _show_agreement(update, context, 0, updated=True)
    context.services.accounts.accept_agreement(user.id, version)
    await acknowledge(update, context)
    await reply(update, texts.t(locale, "misc.agreement_accepted", version=version))
    return await resume(update, context)


async def on_decline(update: Update, context: Context) -> State:
    """Registration needs the agreement: explain, and offer to read it again."""
    await acknowledge(update, context)
    locale = locale_of(update, context)
    texts = context.services.texts
    await reply(
        update,
        texts.render(locale, "agreement_declined"),
        keyboards.inline([[(texts.plain(locale, "button.read_again"), "ap:agr:0")]]),
    )
    return State.AGREEMENT


# -- role --------------------------------------------------------------------------------
async def on_role(update: Update, context: Context) -> State | int:
    """A role was picked: show what it means and ask to confirm (it cannot change)."""
    await acknowledge(update, context)
    parts = callback_parts(update)
    user = update.effective_user
    assert user is not None
    locale = locale_of(update, context)
    texts = context.services.texts
    try:
        role = Role(parts[2])
    except (IndexError, ValueError):
        return await _show_roles(update, context, texts.t(locale, "misc.stale_button"))
    if role not in context.services.registrations.available_roles(user.id):
        return await _show_roles(update, context, texts.t(locale, "error.role.taken"))
    await reply(
        update,
        texts.render(locale, "role_confirm", role=role.value),
        keyboards.inline(
            [
                [(texts.plain(locale, "button.confirm_role"), f"ap:role_ok:{role}")],
                [(texts.plain(locale, "button.other_role"), "ap:roles")],
            ]
        ),
    )
    return State.ROLE


async def on_roles(update: Update, context: Context) -> State | int:
    """Back to the list of roles."""
    await acknowledge(update, context)
    return await _show_roles(update, context)


async def on_role_confirmed(update: Update, context: Context) -> State | int:
    """Open the registration for the confirmed role and ask the first field."""
    await acknowledge(update, context)
    parts = callback_parts(update)
    user = update.effective_user
    assert user is not None
    locale = locale_of(update, context)
    texts = context.services.texts
    try:
        role = Role(parts[2])
        registration = context.services.registrations.start(user.id, role)
    except (IndexError, ValueError):
        return await _show_roles(update, context, texts.t(locale, "misc.stale_button"))
    except RoleTaken:
        return await _show_roles(update, context, texts.t(locale, "error.role.taken"))
    _choose(context, registration)
    return await _ask(update, context, registration)


async def on_fix(update: Update, context: Context) -> State | int:
    """ "Fix it now" under a change request: walk exactly the flagged fields."""
    await acknowledge(update, context)
    parts = callback_parts(update)
    user = update.effective_user
    assert user is not None
    service = context.services.registrations
    registration = service.get(parts[2]) if len(parts) == 3 else None
    if registration is None or registration not in service.editable(user.id):
        locale = locale_of(update, context)
        return await resume(update, context, context.services.texts.t(locale, "misc.stale_button"))
    _choose(context, registration)
    return await resume(update, context)


async def on_continue(update: Update, context: Context) -> State | int:
    """Continue one of several unfinished registrations."""
    await acknowledge(update, context)
    parts = callback_parts(update)
    user = update.effective_user
    assert user is not None
    service = context.services.registrations
    registration = service.get(parts[2]) if len(parts) == 3 else None
    if registration is None or registration not in service.editable(user.id):
        locale = locale_of(update, context)
        return await _show_roles(
            update, context, context.services.texts.t(locale, "misc.stale_button")
        )
    _choose(context, registration)
    return await _ask(update, context, registration)


# -- the form ----------------------------------------------------------------------------
async def on_text(update: Update, context: Context) -> State | int:
    """A typed answer to the current field."""
    message = update.effective_message
    assert message is not None and message.text is not None
    registration = _active(update, context)
    if registration is None or registration.cursor is None:
        return await resume(update, context)
    locale = locale_of(update, context)
    try:
        registration = context.services.registrations.answer_text(
            registration.id, registration.cursor, message.text
        )
    except validators.Invalid as error:
        return await _ask(update, context, registration, _error(context, locale, error))
    return await _ask(update, context, registration)


async def on_form_button(update: Update, context: Context) -> State | int:
    """Choice, keep, skip and back buttons; an old button gets "out of date"."""
    parts = callback_parts(update)
    registration = _active(update, context)
    locale = locale_of(update, context)
    texts = context.services.texts
    service = context.services.registrations
    if registration is None or len(parts) < 3 or registration.cursor != parts[2]:
        await acknowledge(update, context, texts.plain(locale, "misc.stale_button"))
        return await resume(update, context)
    await acknowledge(update, context)
    action, key = parts[1], parts[2]
    try:
        if action == "choice" and len(parts) == 4:
            registration = service.answer_text(registration.id, key, parts[3])
        elif action == "keep":
            registration = service.keep(registration.id, key)
        elif action == "skip":
            registration = service.skip(registration.id, key)
        elif action == "back":
            registration = service.back(registration.id, key)
    except validators.Invalid as error:
        return await _ask(update, context, registration, _error(context, locale, error))
    except NotAsked:
        return await resume(update, context, texts.t(locale, "misc.stale_button"))
    return await _ask(update, context, registration)


async def on_document(update: Update, context: Context) -> State | int:
    """A photo or document for the current field; albums get one answer for all items."""
    message = update.effective_message
    assert message is not None
    locale = locale_of(update, context)
    registration = _active(update, context)
    if registration is None or registration.cursor is None:
        return await resume(update, context)
    key = registration.cursor
    texts = context.services.texts
    outcome: str
    try:
        doc = await _download(message, context)
        registration = context.services.registrations.answer_document(registration.id, key, doc)
        outcome = texts.t(
            locale, "misc.file_saved", field=texts.plain(locale, f"field.{key}.label")
        )
    except validators.Invalid as error:
        outcome = _error(context, locale, error)
    except TelegramError:
        log.warning("download failed for a document of %s", registration.id, exc_info=True)
        outcome = texts.t(locale, "error.document.download")
    if message.media_group_id is not None:
        return _collect_album_item(update, context, message.media_group_id, outcome, registration)
    return await _ask(update, context, registration, outcome)


async def _download(message: Message, context: Context) -> Document:
    """Fetch, check and store an upload; raises ``validators.Invalid`` for what we refuse."""
    name: str | None = None
    declared: str | None = "image/jpeg"  # Telegram re-encodes photos as JPEG
    if message.photo:
        upload: PhotoSize | TgDocument = message.photo[-1]  # the largest size
    elif message.document is not None:
        upload = message.document
        name, declared = message.document.file_name, message.document.mime_type
    else:
        raise validators.Invalid("document.bad_type")
    file_id, unique_id, size = upload.file_id, upload.file_unique_id, upload.file_size
    if size is not None and size > documents.MAX_BYTES:
        raise validators.Invalid("document.too_big")
    if not documents.declared_ok(declared):
        raise validators.Invalid("document.bad_type")
    telegram_file = await context.bot.get_file(file_id)
    if telegram_file.file_size is not None and telegram_file.file_size > documents.MAX_BYTES:
        raise validators.Invalid("document.too_big")
    data = bytes(await telegram_file.download_as_bytearray())
    if len(data) > documents.MAX_BYTES:
        raise validators.Invalid("document.too_big")
    mime = documents.sniff(data)
    if mime is None:
        raise validators.Invalid("document.bad_type")
    sha256, stored_as = context.services.files.put(data, documents.EXTENSIONS[mime])
    return Document(
        file_id=file_id,
        file_unique_id=unique_id,
        file_name=(name or "")[:255] or None,
        mime_type=mime,
        size=len(data),
        sha256=sha256,
        stored_as=stored_as,
    )


def _collect_album_item(
    update: Update, context: Context, group_id: str, outcome: str, registration: Registration
) -> State:
    """Keep the outcome of one album item; a job answers once the album has arrived."""
    albums: dict[str, list[str]] = context.bot_data.setdefault("albums", {})
    albums.setdefault(group_id, []).append(outcome)
    job_queue = context.job_queue
    assert job_queue is not None and update.effective_chat is not None
    name = f"album:{group_id}"
    for job in job_queue.get_jobs_by_name(name):
        job.schedule_removal()
    job_queue.run_once(
        cast(Any, _answer_album),  # JobQueue is not generic over our Context subclass
        context.services.album_wait,
        name=name,
        chat_id=update.effective_chat.id,
        user_id=registration.user_id,
        data={
            "group": group_id,
            "registration": registration.id,
            "locale": locale_of(update, context),
            "language_code": update.effective_user.language_code
            if update.effective_user is not None
            else None,
        },
    )
    return State.SUMMARY if registration.cursor is None else State.FORM


async def _answer_album(context: Context) -> None:
    """One answer for a whole album: what each item did, then the next prompt."""
    job = context.job
    assert job is not None and isinstance(job.data, dict) and job.chat_id is not None
    data: dict[str, Any] = job.data
    outcomes = context.bot_data.get("albums", {}).pop(data["group"], [])
    registration = context.services.registrations.get(data["registration"])
    if registration is None:
        return
    texts = context.services.texts
    notice = texts.render(data["locale"], "album", outcomes=outcomes)
    await _ask(
        _job_update(context, job.chat_id, registration.user_id, data), context, registration, notice
    )


def _job_update(context: Context, chat_id: int, user_id: int, data: dict[str, Any]) -> Update:
    """A minimal Update standing for the job's private chat, so the prompt is built and sent
    exactly as in a direct answer."""
    user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": "-"}
    if data.get("language_code"):
        user["language_code"] = data["language_code"]
    payload = {
        "update_id": 0,
        "message": {
            "message_id": 0,
            "date": 0,
            "chat": {"id": chat_id, "type": "private"},
            "from": user,
        },
    }
    return Update.de_json(payload, context.bot)


# -- summary -----------------------------------------------------------------------------
async def on_edit(update: Update, context: Context) -> State | int:
    """Jump from the summary to one field."""
    parts = callback_parts(update)
    registration = _active(update, context)
    locale = locale_of(update, context)
    texts = context.services.texts
    if registration is None or len(parts) != 3:
        await acknowledge(update, context, texts.plain(locale, "misc.stale_button"))
        return await resume(update, context)
    try:
        registration = context.services.registrations.edit(registration.id, parts[2])
    except NotAsked:
        await acknowledge(update, context, texts.plain(locale, "misc.stale_button"))
        return await resume(update, context)
    await acknowledge(update, context)
    return await _ask(update, context, registration)


async def on_submit(update: Update, context: Context) -> State | int:
    """Submit for review; tell the applicant the date by which reviewers answer."""
    parts = callback_parts(update)
    registration = _active(update, context)
    locale = locale_of(update, context)
    texts = context.services.texts
    if registration is None or len(parts) != 3 or parts[2] != registration.id:
        await acknowledge(update, context, texts.plain(locale, "misc.stale_button"))
        return await resume(update, context)
    try:
        registration = context.services.registrations.submit(registration.id)
    except Incomplete as missing:
        await acknowledge(update, context)
        return await resume(
            update,
            context,
            texts.t(
                locale,
                "error.field.missing",
                field=texts.plain(locale, f"field.{missing.field}.label"),
            ),
        )
    except NotAsked:
        await acknowledge(update, context, texts.plain(locale, "misc.stale_button"))
        return await resume(update, context)
    await acknowledge(update, context)
    if context.user_data is not None:
        context.user_data.pop("active", None)
    if registration.pending:
        delivery.trigger(context)  # the reviewers' card leaves now, not at the next tick
    await reply(
        update,
        texts.render(locale, "submitted", registration=registration),
        keyboards.main_menu(texts, locale),
    )
    return END


# -- reminders ---------------------------------------------------------------------------
async def remind_idle_drafts(context: Context) -> None:
    """Once per idle spell, remind applicants whose draft has not moved for some days."""
    services = context.services
    idle_for = timedelta(days=services.settings.DRAFT_REMINDER_DAYS)
    for registration in services.registrations.idle_drafts(idle_for):
        locale = account_locale(services, registration.user_id)
        text = services.texts.render(locale, "reminder", registration=registration)
        try:
            await context.bot.send_message(registration.user_id, text)
        except Forbidden:
            log.info("draft %s: the applicant blocked the bot; no reminder", registration.id)
        except TelegramError:
            log.warning("draft %s: reminder not sent, will retry", registration.id, exc_info=True)
            continue
        services.registrations.mark_reminded(registration.id)


def schedule_reminders(application: Application) -> None:  # type: ignore[type-arg]
    """Arm the reminder job; called at every start, since jobs live in memory only."""
    assert application.job_queue is not None
    application.job_queue.run_repeating(
        remind_idle_drafts, interval=REMINDER_EVERY, first=REMINDER_FIRST, name="draft-reminders"
    )


# -- anywhere in the conversation ------------------------------------------------------
async def on_cancel(update: Update, context: Context) -> int:
    """Leave the form; the draft stays and /apply continues it."""
    await acknowledge(update, context)
    locale = locale_of(update, context)
    texts = context.services.texts
    await reply(update, texts.t(locale, "misc.cancelled"), ReplyKeyboardRemove())
    return END


async def on_unexpected(update: Update, context: Context) -> State | int:
    """Stickers, voice, locations, polls, a text where a button is expected …: say what is
    expected and ask again, staying where we are."""
    locale = locale_of(update, context)
    texts = context.services.texts
    if update.callback_query is not None:
        await acknowledge(update, context, texts.plain(locale, "misc.stale_button"))
        return await resume(update, context)
    return await resume(update, context, texts.t(locale, "misc.unexpected"))


async def on_other_command(update: Update, context: Context) -> State | int:
    """A command that means nothing inside the form: explain and ask again."""
    locale = locale_of(update, context)
    return await resume(update, context, context.services.texts.t(locale, "misc.unknown_command"))


PRIVATE = filters.ChatType.PRIVATE
TEXT = filters.TEXT & ~filters.COMMAND
UPLOAD = filters.PHOTO | filters.Document.ALL
# Commands answered by the basic handlers even in the middle of the form.
GLOBAL_COMMANDS = filters.Regex(
    r"^/(start|help|language|status|support|close|profile|faq|mydata|delete)(@\w+)?(\s|$)"
)
ANYTHING_ELSE = ~filters.COMMAND


def build() -> ConversationHandler[Context]:
    """The applicant conversation (persistent, one per private chat)."""
    unexpected = MessageHandler(ANYTHING_ELSE, on_unexpected)
    stale = CallbackQueryHandler(on_unexpected, pattern=r"^ap:")
    with warnings.catch_warnings():
        # Buttons of earlier messages are accepted on purpose (each is checked against the
        # stored place in the form), so PTB's per_message advice does not apply here.
        warnings.filterwarnings("ignore", "If 'per_message=False'", PTBUserWarning)
        return _conversation(unexpected, stale)


def _conversation(
    unexpected: MessageHandler[Context, Any], stale: CallbackQueryHandler[Context, Any]
) -> ConversationHandler[Context]:
    return ConversationHandler(
        name="applicant",
        persistent=True,
        per_chat=True,
        per_user=True,
        per_message=False,
        entry_points=[
            CommandHandler("apply", resume, filters=PRIVATE),
            CallbackQueryHandler(resume, pattern=r"^menu:apply$"),
            CallbackQueryHandler(on_fix, pattern=r"^ap:fix:"),
            CallbackQueryHandler(on_unexpected, pattern=r"^ap:"),
        ],
        states={
            State.PHONE: [
                MessageHandler(filters.CONTACT, on_contact),
                MessageHandler(TEXT, on_phone_text),
            ],
            State.AGREEMENT: [
                CallbackQueryHandler(on_agreement_page, pattern=r"^ap:agr:"),
                CallbackQueryHandler(on_agree, pattern=r"^ap:agree:"),
                CallbackQueryHandler(on_decline, pattern=r"^ap:decline$"),
            ],
            State.ROLE: [
                CallbackQueryHandler(on_role, pattern=r"^ap:role:"),
                CallbackQueryHandler(on_role_confirmed, pattern=r"^ap:role_ok:"),
                CallbackQueryHandler(on_roles, pattern=r"^ap:roles$"),
                CallbackQueryHandler(on_continue, pattern=r"^ap:cont:"),
            ],
            State.FORM: [
                MessageHandler(TEXT, on_text),
                MessageHandler(UPLOAD, on_document),
                CallbackQueryHandler(on_form_button, pattern=r"^ap:(choice|keep|skip|back):"),
            ],
            State.SUMMARY: [
                CallbackQueryHandler(on_edit, pattern=r"^ap:edit:"),
                CallbackQueryHandler(on_submit, pattern=r"^ap:submit:"),
                MessageHandler(UPLOAD, on_document),
            ],
        },
        fallbacks=[
            CommandHandler("cancel", on_cancel, filters=PRIVATE),
            CommandHandler("apply", resume, filters=PRIVATE),
            CallbackQueryHandler(resume, pattern=r"^menu:apply$"),
            CallbackQueryHandler(on_fix, pattern=r"^ap:fix:"),
            stale,
            MessageHandler(filters.COMMAND & ~GLOBAL_COMMANDS & PRIVATE, on_other_command),
            unexpected,
        ],
    )


def register(application: Application) -> None:  # type: ignore[type-arg]
    """Add the applicant conversation (before the basic handlers, so it sees updates first)."""
    application.add_handler(build())
    schedule_reminders(application)
