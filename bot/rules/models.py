"""Domain records: accounts, registrations, documents and audit events.

Plain pydantic models, stored as JSON by the repositories in ``storage/``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field


def utcnow() -> datetime:
    """The current time, timezone-aware (all stored times are UTC)."""
    return datetime.now(UTC)


class Role(StrEnum):
    """The five developer roles of the platform (cannot be changed after choosing)."""

    ISV = "isv"
    MERCHANT = "merchant"
    LEADER = "leader"
    AFFILIATE = "affiliate"
    PARTNER = "partner"


#: Roles that connect an existing platform identity and must name its account id.
IDENTITY_ROLES = frozenset({Role.MERCHANT, Role.LEADER, Role.AFFILIATE})


class Status(StrEnum):
    """Where a registration stands; transitions live in ``bot.rules.status``."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    IN_REVIEW = "in_review"
    CHANGES_REQUESTED = "changes_requested"
    RESUBMITTED = "resubmitted"
    APPROVED = "approved"
    REJECTED = "rejected"


class Document(BaseModel):
    """An uploaded file: Telegram's ids plus our verified local copy."""

    file_id: str
    file_unique_id: str
    file_name: str | None = None
    mime_type: str
    size: int
    sha256: str
    stored_as: str  # path relative to DATA_DIR, derived from sha256, never from file_name


class Account(BaseModel):
    """One Telegram user, standing for one platform account."""

    user_id: int
    locale: str | None = None  # chosen with /language
    language_code: str | None = None  # Telegram's, for messages sent outside an update
    phone: str | None = None
    source: str | None = None  # deep-link payload of the first /start
    agreement_version: str | None = None
    agreement_accepted_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class Registration(BaseModel):
    """One developer registration (one role) of an account."""

    id: str
    user_id: int
    role: Role
    status: Status = Status.DRAFT
    answers: dict[str, Any] = Field(default_factory=dict)
    cursor: str | None = None  # the field the applicant is asked next; None: summary
    editing: bool = False  # True while one field is edited from the summary
    flagged: dict[str, str] = Field(default_factory=dict)  # field -> reviewer's reason
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    submitted_at: datetime | None = None
    due_date: date | None = None
    reminded_at: datetime | None = None

    @staticmethod
    def make_id(user_id: int, role: Role) -> str:
        """Registration ids are derived: one registration per role per account."""
        return f"{user_id}-{role.value}"

    @staticmethod
    def user_of(registration_id: str) -> int:
        """The owning account of a registration id (raises ValueError on a malformed id)."""
        user, _, role = registration_id.partition("-")
        Role(role)
        return int(user)


class AuditEvent(BaseModel):
    """An append-only record of something that happened to a registration or account."""

    subject: str  # registration id, or "account:<user_id>"
    action: str
    actor: int | None = None  # Telegram user id; None for the system
    at: datetime = Field(default_factory=utcnow)
    detail: dict[str, Any] = Field(default_factory=dict)
