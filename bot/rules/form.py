"""The one declaration of the registration form.

Sections hold fields; each field names its kind, its validator and whether it may be
skipped. Prompts, validation, the summary with its edit buttons, the reviewer's card and
per-field change requests are all driven from here. Adding a field is one entry below plus
its texts (``field.<key>`` in every locale's ``strings.toml``).

A field names the answers it depends on (``depends_on``): when one of them changes, the
dependant is asked again in the same walk (the licence's legal representative after a new
legal name, the ID number after a new ID type), so no answer is left checked against data
that is gone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from bot.rules import scope
from bot.rules import validators as v
from bot.rules.models import IDENTITY_ROLES, Role


class Kind(StrEnum):
    TEXT = "text"
    CHOICE = "choice"
    DOCUMENT = "document"


#: A validator gets the raw text, the answers so far and the role; it returns the value to
#: store or raises ``validators.Invalid``.
Validator = Callable[[str, Mapping[str, Any], Role], str]


@dataclass(frozen=True)
class Field:
    key: str
    kind: Kind
    validate: Validator | None = None
    choices: tuple[str, ...] = ()
    optional: bool = False
    masked: bool = False  # ID numbers: shown with only the last four characters
    unique: str | None = None  # platform-wide uniqueness kind (e-mail, administrator id)
    roles: frozenset[Role] | None = None  # asked only for these roles
    images_only: bool = False  # documents: photos only (no PDF)
    #: Documents: the field holding the other side of the same card (one photo can't be both).
    other_side: str | None = None
    #: Earlier answers (or ``ROLE``) this one is checked against or describes.
    depends_on: tuple[str, ...] = ()
    #: For an optional field, when it may be skipped after all (None: always).
    skippable_when: Callable[[Mapping[str, Any]], bool] | None = None
    #: What a valid answer may not show clearly (the applicant confirms it, reviewers see it).
    doubts: Callable[[str, Role], list[str]] | None = None
    listed: bool = False  # names a registration: searched by /find, a column of /export
    contact: bool = False  # the address decisions are e-mailed to

    def applies_to(self, role: Role) -> bool:
        return self.roles is None or role in self.roles

    def skippable(self, answers: Mapping[str, Any]) -> bool:
        """Whether the field may be left without an answer, given the others."""
        if not self.optional:
            return False
        return self.skippable_when is None or self.skippable_when(answers)


@dataclass(frozen=True)
class Section:
    key: str
    fields: tuple[Field, ...]


#: The pseudo-answer a field depends on when it is checked against the role (which never
#: changes within a registration, so it never sends anyone back).
ROLE = "role"


def _not_resident(answers: Mapping[str, Any]) -> bool:
    """A resident ID card has two sides; other documents (a passport) may have one."""
    return answers.get("legal_id_type") != "resident"


def _plain(check: Callable[[str], str]) -> Validator:
    return lambda text, _answers, _role: check(text)


def _id_number_of(id_type: str) -> Validator:
    """An ID number checked as the ID type answered in ``id_type`` requires."""

    def check(text: str, answers: Mapping[str, Any], _role: Role) -> str:
        if answers.get(id_type) == "other":
            return v.other_id_number(text)
        return v.resident_id(text)

    return check


def _licence_rep(text: str, answers: Mapping[str, Any], _role: Role) -> str:
    name = v.person_name(text)
    given = answers.get("legal_name")
    if given is not None and v.same_name(name, str(given)) is False:
        raise v.Invalid("legal_rep.mismatch", expected=str(given))
    return name


def _scope(text: str, _answers: Mapping[str, Any], role: Role) -> str:
    return v.business_scope(text, role)


FORM: tuple[Section, ...] = (
    Section(
        "legal",
        (
            Field("legal_name", Kind.TEXT, _plain(v.person_name)),
            Field("legal_id_type", Kind.CHOICE, choices=("resident", "other")),
            Field(
                "legal_id_number",
                Kind.TEXT,
                _id_number_of("legal_id_type"),
                masked=True,
                depends_on=("legal_id_type",),
            ),
            Field(
                "legal_id_front",
                Kind.DOCUMENT,
                images_only=True,
                depends_on=("legal_id_type",),
                other_side="legal_id_back",
            ),
            Field(
                "legal_id_back",
                Kind.DOCUMENT,
                optional=True,
                images_only=True,
                other_side="legal_id_front",
                depends_on=("legal_id_type",),
                skippable_when=_not_resident,
            ),
        ),
    ),
    Section(
        "enterprise",
        (
            Field(
                "identity_account_id",
                Kind.TEXT,
                _plain(v.account_id),
                roles=IDENTITY_ROLES,
            ),
            Field("company_name", Kind.TEXT, _plain(v.company_name), listed=True),
            Field("credit_code", Kind.TEXT, _plain(v.credit_code), listed=True),
            Field("licence", Kind.DOCUMENT),
            Field(
                "business_scope",
                Kind.TEXT,
                _scope,
                depends_on=(ROLE,),
                doubts=lambda text, role: scope.check(text, role).unsure,
            ),
            Field("licence_legal_rep", Kind.TEXT, _licence_rep, depends_on=("legal_name",)),
            Field("description", Kind.TEXT, _plain(v.description)),
        ),
    ),
    Section(
        "admin",
        (
            Field("admin_name", Kind.TEXT, _plain(v.person_name)),
            # The administrator may hold the same kinds of ID as the legal representative.
            Field("admin_id_type", Kind.CHOICE, choices=("resident", "other")),
            Field(
                "admin_id_number",
                Kind.TEXT,
                _id_number_of("admin_id_type"),
                masked=True,
                depends_on=("admin_id_type",),
            ),
            Field("admin_mobile", Kind.TEXT, _plain(v.mobile)),
            Field(
                "admin_email",
                Kind.TEXT,
                _plain(v.email),
                unique="email",
                listed=True,
                contact=True,
            ),
            Field("admin_account_id", Kind.TEXT, _plain(v.account_id), unique="admin_id"),
        ),
    ),
)

FIELDS: dict[str, Field] = {f.key: f for s in FORM for f in s.fields}
SECTION_OF: dict[str, str] = {f.key: s.key for s in FORM for f in s.fields}
#: The fields that name a registration in lists (search, export), in the form's order.
LISTED: tuple[str, ...] = tuple(key for key, f in FIELDS.items() if f.listed)
#: The field holding the address decisions are e-mailed to (exactly one).
[CONTACT_EMAIL] = [key for key, f in FIELDS.items() if f.contact]


def fields_for(role: Role) -> list[Field]:
    """The fields a registration of ``role`` asks for, in order."""
    return [f for s in FORM for f in s.fields if f.applies_to(role)]


def answered(field: Field, answers: Mapping[str, Any]) -> bool:
    """Whether ``answers`` hold an answer to the field (a skip counts where it is allowed)."""
    if field.key not in answers:
        return False
    return answers[field.key] is not None or field.skippable(answers)


def first_missing(answers: Mapping[str, Any], role: Role) -> str | None:
    """The first required field without an answer (skipped optional ones count as answered)."""
    for f in fields_for(role):
        if not answered(f, answers):
            return f.key
    return None


def dependants(key: str, role: Role) -> list[str]:
    """The fields of ``role`` that depend on ``key``, directly or through another, in form
    order (they all come after it: a field depends only on earlier ones)."""
    found = {key}
    for f in fields_for(role):
        if found.intersection(f.depends_on):
            found.add(f.key)
    found.discard(key)
    return [f.key for f in fields_for(role) if f.key in found]


def in_form_order(keys: Iterable[str], role: Role) -> list[str]:
    """``keys`` (those the role asks for) sorted as the form asks them."""
    wanted = set(keys)
    return [f.key for f in fields_for(role) if f.key in wanted]


def mask(value: str) -> str:
    """Hide all but the last four characters of an identification number."""
    return "*" * max(len(value) - 4, 0) + value[-4:]
