"""How answers are shown, in one place: the applicant's summary and prompts and the
reviewers' card list the same answers the same way (by section, in the form's order; ID
numbers masked unless a reviewer reveals them; files by name and size; choices by label).
Diagram: ``presenter.mmd`` beside this file."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from markupsafe import Markup, escape
from telegram import InlineKeyboardMarkup

from bot.rules import documents, form, reasons
from bot.rules.form import Kind
from bot.rules.models import AuditEvent, Registration
from bot.rules.status import WAITING
from bot.texts import Texts
from conversations import keyboards
from conversations.common import Services, account_locale

#: A section's key and its (field key, answer as shown) pairs.
Section = tuple[str, list[tuple[str, str | None]]]


def shown(
    texts: Texts, locale: str, registration: Registration, key: str, *, revealed: bool = False
) -> str | None:
    """An answer as people see it; None when it was not given."""
    if key not in registration.answers:
        return None
    value = registration.answers[key]
    field = form.FIELDS[key]
    if value is None:
        return texts.plain(locale, "misc.skipped")
    if field.kind is Kind.DOCUMENT and isinstance(value, dict):
        # Named as reviewers receive it (the field and the detected type), never as the
        # sender named it ("licence.pdf.exe").
        name = documents.file_name(key, str(value.get("mime_type")))
        return texts.plain(locale, "misc.file", name=name, size=value.get("size", 0))
    if field.kind is Kind.CHOICE:
        return texts.plain(locale, f"choice.{key}.{value}")
    return str(value) if revealed or not field.masked else form.mask(str(value))


def sections(
    texts: Texts,
    locale: str,
    registration: Registration,
    *,
    revealed: bool = False,
    missing: str | None = None,
) -> list[Section]:
    """Every answer of the registration's role by section (``missing`` for one not given)."""

    def answer(key: str) -> str | None:
        value = shown(texts, locale, registration, key, revealed=revealed)
        return missing if value is None else value

    return [
        (
            section.key,
            [(f.key, answer(f.key)) for f in section.fields if f.applies_to(registration.role)],
        )
        for section in form.FORM
    ]


def reason_text(texts: Texts, locale: str, value: str, *, plain: bool = False) -> str:
    """A stored reason as the reader should see it (a catalogue entry in their language)."""
    key = reasons.catalogue_key(value)
    if key is not None and texts.has(locale, f"review.reason.{key}"):
        text = f"review.reason.{key}"
        return texts.plain(locale, text) if plain else texts.t(locale, text)
    return value if plain else escape(value)


def flagged_reasons(texts: Texts, locale: str, registration: Registration) -> list[tuple[str, str]]:
    """The reviewers' reasons per field (label, reason), in the reader's language."""
    return [
        (texts.t(locale, f"field.{key}.label"), reason_text(texts, locale, value))
        for key, value in registration.flagged.items()
    ]


@dataclass(frozen=True)
class Moment:
    """One step of an applicant's timeline: when, what, and the reasons given."""

    at: datetime
    action: str
    general: str | None
    reasons: Sequence[tuple[str, str]]


def timeline(texts: Texts, locale: str, events: list[AuditEvent]) -> list[Moment]:
    """Submissions and decisions as the applicant reads them (reasons in their language)."""
    moments = []
    for event in events:
        fields = event.detail.get("fields")
        reasons = [
            (texts.t(locale, f"field.{key}.label"), reason_text(texts, locale, str(value)))
            for key, value in (fields.items() if isinstance(fields, dict) else [])
            if key in form.FIELDS
        ]
        general = event.detail.get("reason")
        moments.append(Moment(event.at, event.action, str(general) if general else None, reasons))
    return moments


def who(services: Services, user_id: int | None) -> Markup | None:
    """A person acting on registrations, by the name Telegram gave for them (escaped),
    linked to their profile; the bare id only for someone never seen by name."""
    if user_id is None:
        return None
    name = services.review.name_of(user_id) or str(user_id)
    return Markup('<a href="tg://user?id={}">{}</a>').format(user_id, name)


def card(
    services: Services, registration: Registration, *, revealed: bool = False
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The reviewers' card: every answer by section, who holds it, what changed, buttons."""
    locale = services.settings.DEFAULT_LOCALE
    texts = services.texts
    text = texts.render(
        locale,
        "review_card",
        r=registration,
        sections=sections(texts, locale, registration, revealed=revealed, missing="—"),
        holder=who(services, services.review.holder(registration)),
        language=account_locale(services, registration.user_id),
        related=services.review.related(registration),
        changed=services.review.changed_since_review(registration),
        revealed=revealed,
    )
    return text, card_buttons(services, registration)


def card_buttons(services: Services, registration: Registration) -> InlineKeyboardMarkup | None:
    if registration.status not in WAITING:
        return None
    locale = services.settings.DEFAULT_LOCALE

    def b(key: str) -> str:
        return services.texts.plain(locale, f"review.button.{key}")

    rid = registration.number  # buttons name it as people do (the id holds the user id)
    held = services.review.holder(registration) is not None
    first = (b("release"), f"rv:release:{rid}") if held else (b("claim"), f"rv:claim:{rid}")
    return keyboards.inline(
        [
            [first, (b("approve"), f"rv:approve:{rid}")],
            [(b("changes"), f"rv:changes:{rid}"), (b("reject"), f"rv:reject:{rid}")],
            [(b("remove"), f"rv:remove:{rid}")],
            [(b("reveal"), f"rv:reveal:{rid}"), (b("history"), f"rv:history:{rid}")],
        ]
    )
