"""The reviewers' catalogue of reasons for requesting changes. A stored reason is either a
catalogue entry (``reason:<key>``, shown in the reader's language from
``review.reason.<key>``) or the reviewer's own words, shown as typed.

Each entry names the fields it can be about and, where it is one role's rule, the roles:
the reviewer is offered only the reasons that fit the field and the registration's role
(no licence reasons for the ID photo, no e-commerce requirement outside merchant
developers, whose licence alone needs it)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.rules.models import IDENTITY_ROLES, Role

#: Marks a stored reason as a catalogue entry.
CATALOGUE = "reason:"

_LICENCE = frozenset({"licence"})
_SCOPE = frozenset({"licence", "business_scope"})
_ID_PHOTOS = frozenset({"legal_id_front", "legal_id_back"})


@dataclass(frozen=True)
class Reason:
    key: str
    fields: frozenset[str]
    roles: frozenset[Role] | None = None  # None: every role

    def fits(self, field: str, role: Role) -> bool:
        """Whether the reason can be given for this field of a registration in this role."""
        return field in self.fields and (self.roles is None or role in self.roles)


#: The catalogue, in button order (each a ``review.reason.*`` text in every locale). The
#: order is part of the buttons' data: add at the end.
CATALOGUE_REASONS = (
    Reason("licence_unreadable", _LICENCE),
    Reason("scope_lacks_tech", _SCOPE),
    Reason("scope_lacks_ecommerce", _SCOPE, frozenset({Role.MERCHANT})),
    Reason("legal_rep_mismatch", frozenset({"legal_name", "licence_legal_rep", "licence"})),
    Reason("description_vague", frozenset({"description"})),
    Reason("id_photo_unclear", _ID_PHOTOS),
    Reason("id_number_mismatch", frozenset({"legal_id_type", "legal_id_number", *_ID_PHOTOS})),
    Reason("identity_unverified", frozenset({"identity_account_id"}), IDENTITY_ROLES),
    Reason("company_mismatch", frozenset({"company_name", "credit_code", "licence"})),
    Reason("email_unreachable", frozenset({"admin_email"})),
)
REASONS = tuple(r.key for r in CATALOGUE_REASONS)


def fitting(field: str, role: Role) -> list[int]:
    """The catalogue positions of the reasons offered for this field and role."""
    return [i for i, reason in enumerate(CATALOGUE_REASONS) if reason.fits(field, role)]


def from_catalogue(index: int) -> str:
    """The stored form of the catalogue's ``index``-th reason."""
    return CATALOGUE + REASONS[index]


def catalogue_key(stored: str) -> str | None:
    """The catalogue key of a stored reason, or None for the reviewer's own words."""
    return stored.removeprefix(CATALOGUE) if stored.startswith(CATALOGUE) else None
