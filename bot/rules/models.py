"""Domain records: accounts, registrations, documents and audit events.

Plain pydantic models, stored as JSON by the repositories in ``storage/``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field, model_validator

from bot.rules.verification import EmailCheck


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
    REJECTED = "rejected"  # "not passed" decided before the review loop: fixable
    REMOVED = "removed"  # 清退 for a violation: final


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

    @property
    def subject(self) -> str:
        """What the account's audit events are about."""
        return f"account:{self.user_id}"


class Channel(StrEnum):
    """How a notification reaches its recipient."""

    CHAT = "chat"
    EMAIL = "email"


class Delivery(StrEnum):
    """Where a notification stands in the outbox."""

    PENDING = "pending"
    SENT = "sent"
    BLOCKED = "blocked"  # the user blocked the bot (403): recorded, never retried
    FAILED = "failed"  # gave up after the last attempt or a permanent refusal


class Notification(BaseModel):
    """A message owed to someone, stored with the change that caused it (the outbox).

    Rendered at delivery from ``template`` in the recipient's language, so a retry after a
    restart sends exactly what the first attempt would have."""

    id: str
    channel: Channel
    template: str
    recipient: str  # a chat id (as text) or an e-mail address
    params: dict[str, Any] = Field(default_factory=dict)
    state: Delivery = Delivery.PENDING
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow)
    last_error: str | None = None
    sent_at: datetime | None = None
    message_id: int | None = None  # the Telegram message it became, when one


class Refusal(BaseModel):
    """Why an answer was not accepted: an error's code and parameters (``validators.Invalid``),
    told in the reader's language."""

    code: str
    params: dict[str, Any] = Field(default_factory=dict)


class Registration(BaseModel):
    """One developer registration (one role) of an account."""

    id: str  # the storage key, <user id>-<role>: never shown to anyone (see number)
    user_id: int
    role: Role
    #: The public registration number people see and type (``bot.rules.numbers``): empty
    #: until the store assigns it at the first save; it never changes.
    number: str = ""
    status: Status = Status.DRAFT
    answers: dict[str, Any] = Field(default_factory=dict)
    cursor: str | None = None  # the field the applicant is asked next; None: summary
    #: The latest message taken as an answer. Message ids grow within a chat, so a message
    #: at or below it is one Telegram handed over again after a restart: not an answer.
    answered_message_id: int | None = None
    editing: bool = False  # True while one field is edited from the summary
    flagged: dict[str, str] = Field(default_factory=dict)  # field -> reviewer's reason
    #: The fields of a focused walk (a change request, an edit from the summary, and every
    #: answer a change there invalidated), in form order; empty: the whole form.
    walk: list[str] = Field(default_factory=list)
    #: Answered fields still to be confirmed in this walk (flagged, or depending on an
    #: answer that changed): not done until answered again or kept.
    recheck: list[str] = Field(default_factory=list)
    #: An answer held until the applicant confirms what the check could not tell (field ->
    #: value), and what they confirmed of a stored answer (field -> requirements, e.g. the
    #: business scope's "tech"): the reviewers' card flags those.
    unconfirmed: dict[str, str] = Field(default_factory=dict)
    confirmed: dict[str, list[str]] = Field(default_factory=dict)
    #: The registration whose answers this one started from, and those of its answers not
    #: taken over, with why (each is asked with its reason; gone once answered).
    reused_from: str | None = None
    not_reused: dict[str, Refusal] = Field(default_factory=dict)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    submitted_at: datetime | None = None
    due_date: date | None = None
    reminded_at: datetime | None = None
    expiry_warned_at: datetime | None = None  # a draft's warning that it expires soon
    round: int = 0  # how many times it was submitted
    claimed_by: int | None = None  # the reviewer holding it
    claimed_at: datetime | None = None
    reviewed_answers: dict[str, Any] | None = None  # answers as of the last change request
    asked_to_change: list[str] = Field(default_factory=list)  # flagged at the last request
    #: The administrator's confirmation (the guide: the administrator's mobile confirms
    #: logins and high-level operations): the secret of the link the applicant forwards,
    #: and who confirmed, when, by sharing their own contact with the administrator mobile.
    admin_token: str | None = None
    admin_confirmed_by: int | None = None
    admin_confirmed_at: datetime | None = None
    decided_at: datetime | None = None
    decision_reason: str | None = None
    card_message_id: int | None = None  # the reviewers' card in the admin group
    #: Copies of the card posted in the admin group by /review (kept to the latest few):
    #: each is updated with the original after a claim or decision.
    card_copies: list[int] = Field(default_factory=list)
    email_verified_at: datetime | None = None
    email_changed_at: datetime | None = None
    email_check: EmailCheck | None = None
    outbox: list[Notification] = Field(default_factory=list)

    @model_validator(mode="after")
    def _walk_of_older_records(self) -> Registration:
        """Records saved before walks were stored walked the flagged fields from the
        cursor on: the same walk, stated explicitly."""
        if self.flagged and not self.walk and self.cursor in self.flagged and not self.editing:
            self.walk = list(self.flagged)
            self.recheck = self.walk[self.walk.index(self.cursor) :]
        return self

    @property
    def pending(self) -> list[Notification]:
        """Notifications still to deliver."""
        return [n for n in self.outbox if n.state is Delivery.PENDING]

    def already_answered(self, message_id: int | None) -> bool:
        """Whether the message was taken as an answer before (see answered_message_id)."""
        last = self.answered_message_id
        return message_id is not None and last is not None and message_id <= last

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
