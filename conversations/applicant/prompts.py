"""Where an applicant stands, and how the next step is asked.

Everything here reads the stored account and registration and sends one prompt: the phone,
the agreement (paged), the roles, the current field, or the summary. ``resume`` picks the
one that is due; every handler of the applicant conversation ends in one of these.
"""

from __future__ import annotations

from enum import StrEnum

from markupsafe import Markup
from telegram import Update
from telegram.ext import ConversationHandler

from bot.rules import form, validators
from bot.rules.form import Kind
from bot.rules.models import Registration, Role
from conversations import keyboards, presenter
from conversations.common import Context, acknowledge, edit_pressed, locale_of, reply
from conversations.presenter import reason_text

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
def active(update: Update, context: Context) -> Registration | None:
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
        choose(context, editable[0])
        return editable[0]
    return None


def choose(context: Context, registration: Registration) -> None:
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
        return await ask_phone(update, context, notice)
    if account.agreement_version != services.agreement_version:
        updated = account.agreement_version is not None
        return await show_agreement(update, context, 0, notice, updated=updated)
    registration = active(update, context)
    if registration is not None:
        return await ask(update, context, registration, notice)
    return await show_roles(update, context, notice)


async def ask_phone(update: Update, context: Context, notice: str | None) -> State:
    locale = locale_of(update, context)
    texts = context.services.texts
    await reply(
        update,
        texts.render(locale, "phone", notice=notice),
        keyboards.share_phone(texts, locale),
    )
    return State.PHONE


def agreement_pages(context: Context, locale: str) -> list[Markup]:
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


async def show_agreement(
    update: Update,
    context: Context,
    page: int,
    notice: str | None = None,
    *,
    updated: bool = False,
) -> State:
    locale = locale_of(update, context)
    texts = context.services.texts
    pages = agreement_pages(context, locale)
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
        await edit_pressed(update, text, markup)
    else:
        await reply(update, text, markup)
    return State.AGREEMENT


async def show_roles(update: Update, context: Context, notice: str | None = None) -> State | int:
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


async def ask(
    update: Update, context: Context, registration: Registration, notice: str | None = None
) -> State:
    """The prompt of the registration's current field, or the summary when none is left."""
    if registration.cursor is None:
        return await show_summary(update, context, registration, notice)
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
    if field.skippable(registration.answers):
        extra.append((texts.plain(locale, "button.skip"), f"ap:skip:{key}"))
    if step > 1 or registration.editing:
        extra.append((texts.plain(locale, "button.back"), f"ap:back:{key}"))
    if extra:
        rows.append(extra)
    current = presenter.shown(texts, locale, registration, key)
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
            optional=field.skippable(registration.answers),
            document=field.kind is Kind.DOCUMENT,
        ),
        keyboards.inline(rows) if rows else None,
    )
    return State.FORM


async def show_summary(
    update: Update, context: Context, registration: Registration, notice: str | None = None
) -> State:
    locale = locale_of(update, context)
    texts = context.services.texts
    keys = context.services.registrations.sequence(registration)
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
            sections=presenter.sections(texts, locale, registration),
            flagged=registration.flagged,
            notice=notice,
        ),
        keyboards.inline(rows),
    )
    return State.SUMMARY


def error_text(context: Context, locale: str, error: validators.Invalid) -> str:
    return context.services.texts.t(locale, f"error.{error.code}", **error.params)
