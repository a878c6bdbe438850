"""What a new registration may take over from another registration of the same account.

The guide lets one enterprise and one account register several roles, each registration
with its own e-mail address and administrator id, unique across the platform. So a second
registration may start from the first one's legal representative, enterprise and
administrator answers, but never from its unique ones (they belong to the first
registration) nor from the answers of another role (the identity account id). Every answer
taken over is checked again with today's rules and the new role; one that no longer passes
is not taken over and says why, and an answer checked against one that is asked again
(the licence's legal representative against the legal name) is asked to be confirmed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.rules import form, validators
from bot.rules.form import Field, Kind
from bot.rules.models import Document, Registration, Role

#: The reason a unique answer (e-mail address, administrator id) is never taken over.
UNIQUE = "reuse.unique"
#: The reason an answer the applicant confirmed for the other role is asked again.
UNSURE = "reuse.unsure"


@dataclass
class Carried:
    """The answers a new registration starts with."""

    answers: dict[str, Any] = field(default_factory=dict)
    #: What the applicant confirmed of an answer taken over (see ``Registration.confirmed``).
    confirmed: dict[str, list[str]] = field(default_factory=dict)
    #: Answers taken over that depend on one asked again: to confirm once that is answered.
    recheck: list[str] = field(default_factory=list)
    #: Answers of the other registration not taken over, with why (asked again).
    refused: dict[str, validators.Invalid] = field(default_factory=dict)


def offered(key: str) -> bool:
    """Whether an answer may be taken over by a registration of another role: not a unique
    one, not one only some roles are asked (nor one of a field the form no longer has)."""
    f = form.FIELDS.get(key)
    return f is not None and f.unique is None and f.roles is None


def has_answers(source: Registration) -> bool:
    """Whether a registration holds any answer another role could take over."""
    return any(offered(key) and value is not None for key, value in source.answers.items())


def documents_of(source: Registration) -> dict[str, dict[str, Any]]:
    """The documents of ``source`` a new registration may take over (each to be checked
    again and copied before ``carry_over``)."""
    return {
        key: value
        for key, value in source.answers.items()
        if offered(key) and form.FIELDS[key].kind is Kind.DOCUMENT and isinstance(value, dict)
    }


def kept_out(role: Role) -> list[str]:
    """The fields of ``role`` never taken over from another registration, in form order."""
    return [f.key for f in form.fields_for(role) if not offered(f.key)]


def carry_over(
    source: Registration,
    role: Role,
    documents: Mapping[str, Document | validators.Invalid],
) -> Carried:
    """The answers of ``source`` a new registration of ``role`` takes over, each checked
    again in form order (so a check against an earlier answer sees the new one).
    ``documents`` are the source's documents as checked again (copied for the new
    registration, or why they cannot be)."""
    carried = Carried()
    for f in form.fields_for(role):
        if f.key not in source.answers:
            continue
        if f.unique is not None:
            carried.refused[f.key] = validators.Invalid(UNIQUE)
            continue
        if not offered(f.key):
            continue
        try:
            value = _checked(f, source, role, carried.answers, documents)
        except validators.Invalid as error:
            carried.refused[f.key] = error
            continue
        doubts = f.doubts(value, role) if f.doubts is not None and value is not None else []
        if doubts:  # all confirmed for the other role (or it would have been refused)
            carried.confirmed[f.key] = doubts
        carried.answers[f.key] = value
        if any(_waits(d, carried) for d in f.depends_on if d != form.ROLE):
            carried.recheck.append(f.key)
    return carried


def _waits(key: str, carried: Carried) -> bool:
    """Whether an answer is still to be given (or confirmed) in the new registration."""
    return key not in carried.answers or key in carried.recheck


def _checked(
    f: Field,
    source: Registration,
    role: Role,
    answers: Mapping[str, Any],
    documents: Mapping[str, Document | validators.Invalid],
) -> Any:
    """The value to take over for one field, checked again; raises ``Invalid``."""
    value = source.answers[f.key]
    if value is None:
        if not f.skippable(answers):
            raise validators.Invalid("field.required")
        return None
    if f.kind is Kind.CHOICE:
        if value not in f.choices:
            raise validators.Invalid("choice.use_buttons")
        return value
    if f.kind is Kind.DOCUMENT:
        checked = documents.get(f.key, validators.Invalid("document.unreadable"))
        if isinstance(checked, validators.Invalid):
            raise checked
        if f.images_only and not checked.mime_type.startswith("image/"):
            raise validators.Invalid("document.not_image")
        return checked.model_dump(mode="json")
    assert f.validate is not None
    text = f.validate(str(value), answers, role)
    doubts = f.doubts(text, role) if f.doubts is not None else []
    unconfirmed = [d for d in doubts if d not in source.confirmed.get(f.key, [])]
    if unconfirmed:
        # What the applicant confirmed for the other role does not cover the new role's need.
        raise validators.Invalid(UNSURE, missing=unconfirmed)
    return text
