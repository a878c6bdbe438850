"""Where an applicant stands, and how the next step is asked.

Everything here reads the stored account and registration and sends one prompt: the phone,
the agreement (paged), the roles (``roles``), the current field, or the summary. ``resume``
picks the one that is due; every handler of the applicant conversation ends in one of these.
"""

from __future__ import annotations

from markupsafe import Markup
from telegram import Update

from bot.rules import form, validators
from bot.rules.form import Kind
from bot.rules.models import Registration
from conversations import faq, keyboards, presenter
from conversations.applicant.roles import (
    pending_role,
    reuse_offered,
    show_reuse,
    show_role,
    show_roles,
)
from conversations.applicant.state import State, moving_to
from conversations.common import Context, Turn
from conversations.presenter import reason_text

#: Longest agreement page; Telegram allows 4096 characters, we leave room for the header.
PAGE_CHARS = 3500


# -- where the applicant stands ---------------------------------------------------------
def active(turn: Turn) -> Registration | None:
    """The registration being filled in: the one chosen, else the only editable one."""
    context = turn.context
    editable = turn.services.registrations.editable(turn.user_id)
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


async def resume(update: Update, context: Context) -> State | int:
    """/apply, the menu's button: ask for whatever comes next."""
    return await resume_turn(Turn.of(update, context))


async def resume_turn(
    turn: Turn, notice: str | None = None, *, unexpected: bool = False
) -> State | int:
    """Ask for whatever comes next, read from storage; the entry to every step. The
    applicant is back at the form: a FAQ opened from it no longer takes the typed text.
    ``unexpected``: the applicant sent what this step cannot take; the notice says what it
    takes (a button, a typed answer, a photo …)."""
    faq.close(turn.context)
    await turn.acknowledge()
    services = turn.services
    user = turn.update.effective_user if turn.update is not None else None
    language_code = user.language_code if user is not None else None
    account = services.accounts.ensure(turn.user_id, language_code=language_code)
    if unexpected:
        notice = turn.t("misc.use_buttons")  # every step before the form but the phone
    if account.phone is None:
        return await ask_phone(turn, turn.t("misc.expected_phone") if unexpected else notice)
    if account.agreement_version != services.agreement_version:
        updated = account.agreement_version is not None
        return await show_agreement(turn, 0, notice, updated=updated)
    registration = active(turn)
    if registration is not None:
        if unexpected and registration.cursor is not None:
            notice = expected_answer(turn, form.FIELDS[registration.cursor])
        return await ask(turn, registration, notice)
    role = pending_role(turn)
    if role is not None:
        source = reuse_offered(turn, role)
        if source is not None:
            return await show_reuse(turn, role, source, notice)
        return await show_role(turn, role, notice)
    return await show_roles(turn, notice)


def expected_answer(turn: Turn, field: form.Field) -> str:
    """What a field takes, told when something else came: a typed answer, a button, a
    photo, or a photo or PDF."""
    if field.kind is Kind.CHOICE:
        return turn.t("error.choice.use_buttons")
    if field.kind is Kind.DOCUMENT:
        return turn.t(
            "error.document.expected_photo" if field.images_only else "error.document.expected"
        )
    return turn.t("misc.expected_text")


async def ask_phone(turn: Turn, notice: str | None) -> State:
    await moving_to(turn, State.PHONE)
    await turn.reply(
        turn.render("phone", notice=notice), keyboards.share_phone(turn.texts, turn.locale)
    )
    return State.PHONE


def agreement_pages(turn: Turn) -> list[Markup]:
    """The agreement split at paragraph breaks into pages within Telegram's limit (each
    page still safe HTML: paragraphs never split inside a tag)."""
    text = turn.render("agreement", email=turn.services.settings.email_enabled)
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
    turn: Turn,
    page: int,
    notice: str | None = None,
    *,
    updated: bool = False,
) -> State:
    pages = agreement_pages(turn)
    page = min(max(page, 0), len(pages) - 1)
    nav: list[tuple[str, str]] = []
    if page > 0:
        nav.append((turn.plain("button.previous_page"), f"ap:agr:{page - 1}"))
    if page + 1 < len(pages):
        nav.append((turn.plain("button.next_page"), f"ap:agr:{page + 1}"))
    rows = [nav] if nav else []
    version = turn.services.agreement_version
    rows.append(
        [
            (turn.plain("button.agree"), f"ap:agree:{version}"),
            (turn.plain("button.decline"), "ap:decline"),
        ]
    )
    text = turn.render(
        "agreement_page",
        body=pages[page],
        page=page + 1,
        pages=len(pages),
        version=version,
        notice=notice,
        updated=updated,
    )
    markup = keyboards.inline(rows)
    await moving_to(turn, State.AGREEMENT)
    if (turn.pressed or "").startswith("ap:agr:"):
        await turn.edit_pressed(text, markup)
    else:
        await turn.reply(text, markup)
    return State.AGREEMENT


async def ask(turn: Turn, registration: Registration, notice: str | None = None) -> State:
    """The prompt of the registration's current field, or the summary when none is left."""
    if registration.cursor is None:
        return await show_summary(turn, registration, notice)
    key = registration.cursor
    field = form.FIELDS[key]
    step, steps = turn.services.registrations.step(registration, key)
    rows: list[list[tuple[str, str]]] = []
    if field.kind is Kind.CHOICE:
        rows.append(
            [(turn.plain(f"choice.{key}.{c}"), f"ap:choice:{key}:{c}") for c in field.choices]
        )
    extra: list[tuple[str, str]] = []
    if key in registration.unconfirmed:
        rows.append([(turn.plain("button.confirm_scope"), f"ap:confirm:{key}")])
    if key in registration.answers:
        extra.append((turn.plain("button.keep"), f"ap:keep:{key}"))
    if field.skippable(registration.answers):
        extra.append((turn.plain("button.skip"), f"ap:skip:{key}"))
    if step > 1 or registration.editing:
        extra.append((turn.plain("button.back"), f"ap:back:{key}"))
    if extra:
        rows.append(extra)
    current = presenter.shown(turn.texts, turn.locale, registration, key)
    refusal = registration.not_reused.get(key)
    if refusal is not None:
        # Taken over from another registration, it did not pass: say why it is asked.
        why = turn.t("misc.not_reused", reason=turn.t(f"error.{refusal.code}", **refusal.params))
        notice = Markup("\n\n").join([notice, why]) if notice else why
    await moving_to(turn, State.FORM)
    await turn.reply(
        turn.render(
            "field",
            section=form.SECTION_OF[key],
            key=key,
            step=step,
            steps=steps,
            current=current,
            reason=reason_text(turn.texts, turn.locale, registration.flagged[key])
            if key in registration.flagged
            else None,
            notice=notice,
            optional=field.skippable(registration.answers),
            document=field.kind is Kind.DOCUMENT,
            variant=_variant(turn, registration, field),
        ),
        keyboards.inline(rows) if rows else None,
    )
    return State.FORM


def _variant(turn: Turn, registration: Registration, field: form.Field) -> str:
    """The suffix of a field's prompt and example: an ID number asked for another document
    than the resident ID card has its own ("_other"), not a resident ID example; a field
    with a text for the role has that ("_merchant": the merchant's business-scope rule, the
    shop id), so nobody reads another role's rule."""
    other = any(
        earlier.endswith("_id_type") and registration.answers.get(earlier) == "other"
        for earlier in field.depends_on
    )
    suffixes = ["_other"] if other else []
    suffixes.append(f"_{registration.role.value}")
    for suffix in suffixes:
        if all(
            turn.texts.has(turn.locale, f"field.{field.key}.{part}{suffix}")
            for part in ("prompt", "example")
        ):
            return suffix
    return ""


async def show_summary(turn: Turn, registration: Registration, notice: str | None = None) -> State:
    keys = turn.services.registrations.sequence(registration)
    edit = [
        (
            turn.plain("button.edit", field=turn.plain(f"field.{k}.label")),
            f"ap:edit:{k}",
        )
        for k in keys
    ]
    rows = keyboards.pairs(edit)
    rows.append([(turn.plain("button.submit"), f"ap:submit:{registration.id}")])
    await moving_to(turn, State.SUMMARY)
    await turn.reply(
        turn.render(
            "summary",
            role=registration.role.value,
            sections=presenter.sections(turn.texts, turn.locale, registration),
            flagged=registration.flagged,
            notice=notice,
        ),
        keyboards.inline(rows),
    )
    return State.SUMMARY


def error_text(turn: Turn, error: validators.Invalid) -> str:
    """What is wrong with an answer, in the applicant's language."""
    return turn.t(f"error.{error.code}", **error.params)
