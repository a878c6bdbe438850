"""The reviewers' catalogue of reasons for requesting changes. A stored reason is either a
catalogue entry (``reason:<key>``, shown in the reader's language from
``review.reason.<key>``) or the reviewer's own words, shown as typed."""

from __future__ import annotations

#: Marks a stored reason as a catalogue entry.
CATALOGUE = "reason:"

#: The catalogue, in button order (each a ``review.reason.*`` text in every locale).
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


def from_catalogue(index: int) -> str:
    """The stored form of the catalogue's ``index``-th reason."""
    return CATALOGUE + REASONS[index]


def catalogue_key(stored: str) -> str | None:
    """The catalogue key of a stored reason, or None for the reviewer's own words."""
    return stored.removeprefix(CATALOGUE) if stored.startswith(CATALOGUE) else None
