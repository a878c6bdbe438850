"""Where an applicant stands, and how the next step is asked.

Everything here reads the stored account and registration and sends one prompt: the phone,
the agreement (paged), the roles, the current field, or the summary. ``resume`` picks the
one that is due; every handler of the applicant conversation ends in one of these.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

from markupsafe import Markup
from telegram import Update
from telegram.ext import ConversationHandler

from bot.rules import form, reuse, validators
from bot.rules.form import Kind
from bot.rules.models import Registration, Role
from conversations import faq, keyboards, presenter
from conversations.common import Context, Turn
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
#: The conversation's name (its persistence entries are named by it).
NAME = "applicant"


@runtime_checkable
class _Expecting(Protocol):
    """The bot's persistence (``storage.persistence.StorePersistence``)."""

    def expect_conversation(self, name: str, key: tuple[int, ...], new_state: object) -> None: ...

    async def update_user_data(self, user_id: int, data: dict[Any, Any]) -> None: ...


async def moving_to(turn: Turn, state: State) -> State:
    """Store where the applicant goes next, and their ``user_data``, with this update's
    other changes, before the prompt of ``state`` goes out: one write of the applicant's
    file for the whole update (PTB would store the state after the handler returns, a
    second write), and a crash can never leave the prompt shown and the applicant still
    at the step before."""
    persistence = turn.context.application.persistence
    update, user_data = turn.update, turn.context.user_data
    chat = update.effective_chat if update is not None else None
    if isinstance(persistence, _Expecting) and chat is not None:
        persistence.expect_conversation(NAME, (chat.id, turn.user_id), state)
        if user_data is not None:
            await persistence.update_user_data(turn.user_id, user_data)
    return state


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


#: user_data: the role picked and shown for confirmation, not confirmed yet.
PENDING_ROLE = "role_pending"
#: user_data: the confirmed role whose registration waits for the answer to "reuse the
#: answers of your other registration?" (the draft is opened with that answer).
REUSE_OFFERED = "reuse_offered"


def pending_role(turn: Turn) -> Role | None:
    """The role waiting for confirmation, while it may still be registered."""
    data = turn.context.user_data or {}
    try:
        role = Role(data.get(PENDING_ROLE, ""))
    except ValueError:
        return None
    return role if role in turn.services.registrations.available_roles(turn.user_id) else None


async def show_role(turn: Turn, role: Role, notice: str | None = None) -> State:
    """A picked role with what it means, to confirm (it cannot change) or choose another;
    it stays waiting for confirmation, whatever comes in between."""
    if turn.context.user_data is not None:
        turn.context.user_data[PENDING_ROLE] = role.value
        turn.context.user_data.pop(REUSE_OFFERED, None)
    await moving_to(turn, State.ROLE)
    await turn.reply(
        turn.render("role_confirm", role=role.value, notice=notice),
        keyboards.inline(
            [
                [(turn.plain("button.confirm_role"), f"ap:role_ok:{role}")],
                [(turn.plain("button.other_role"), "ap:roles")],
            ]
        ),
    )
    return State.ROLE


def reuse_offered(turn: Turn, role: Role) -> Registration | None:
    """The registration whose answers were offered to the confirmed ``role``, while the
    applicant has not answered the offer (and it can still be made)."""
    data = turn.context.user_data or {}
    if data.get(REUSE_OFFERED) != role.value:
        return None
    return turn.services.registrations.reuse_source(turn.user_id)


async def show_reuse(
    turn: Turn, role: Role, source: Registration, notice: str | None = None
) -> State:
    """Offer the answers of the account's other registration to the confirmed role: reuse
    them (each checked again) or start fresh; it waits for the answer, whatever comes."""
    if turn.context.user_data is not None:
        turn.context.user_data[PENDING_ROLE] = role.value
        turn.context.user_data[REUSE_OFFERED] = role.value
    kept_out = reuse.kept_out(role)
    await moving_to(turn, State.ROLE)
    await turn.reply(
        turn.render(
            "reuse_offer",
            role=role.value,
            source_role=source.role.value,
            source_status=source.status.value,
            kept_out=kept_out,
            documents=bool(reuse.documents_of(source)),
            identity=any(form.FIELDS[key].roles is not None for key in kept_out),
            notice=notice,
        ),
        keyboards.inline(
            [
                [(turn.plain("button.reuse"), f"ap:reuse:{role}")],
                [(turn.plain("button.fresh"), f"ap:fresh:{role}")],
            ]
        ),
    )
    return State.ROLE


def reused_notice(turn: Turn, registration: Registration, source: Registration) -> str:
    """What a registration started from ``source`` took over, and what is left to answer."""
    waiting = turn.services.registrations.waiting(registration)
    return turn.t(
        "misc.reused",
        count=len(registration.answers),
        role=turn.plain(f"role.{source.role}.name"),
        fields=[turn.plain(f"field.{key}.label") for key in waiting],
    )


async def show_roles(turn: Turn, notice: str | None = None) -> State | int:
    if turn.context.user_data is not None:
        turn.context.user_data.pop(PENDING_ROLE, None)
        turn.context.user_data.pop(REUSE_OFFERED, None)
    service = turn.services.registrations
    editable = service.editable(turn.user_id)
    available = service.available_roles(turn.user_id)
    if not editable and not available:
        await turn.reply(turn.t("misc.all_roles_taken"))
        return END
    rows = [
        [
            (
                turn.plain("button.continue_role", role=turn.plain(f"role.{r.role}.name")),
                f"ap:cont:{r.id}",
            )
        ]
        for r in editable
    ]
    rows += keyboards.pairs(
        [(turn.plain(f"role.{role}.name"), f"ap:role:{role}") for role in available]
    )
    await moving_to(turn, State.ROLE)
    await turn.reply(
        turn.render(
            "roles",
            roles=list(Role),
            available=available,
            states={r.role.value: r.status.value for r in service.of_user(turn.user_id)},
            notice=notice,
            continuing=bool(editable),
        ),
        keyboards.inline(rows),
    )
    return State.ROLE


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
