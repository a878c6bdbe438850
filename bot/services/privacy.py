"""A user's own data: everything stored about them as one document (/mydata), and the
deletion of what is not part of a review record yet (/delete removes drafts, and every file
the user uploaded that no kept registration refers to).

Submitted registrations are kept whatever their status: they are the record of what was
reviewed and decided, which the platform must be able to show later.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.rules import form
from bot.rules.idle import Due, IdleRules, due
from bot.rules.models import AuditEvent, Registration, Role, Status
from bot.services.support import SupportDesk
from storage.protocols import DocumentStore, Storage

Clock = Callable[[], datetime]

#: Names the export format, so a later change of shape can be told apart.
FORMAT = "onboarding-bot/mydata/2"

# The export is built from these lists, never from a record's every field: whatever is
# added to a record later stays out until someone decides it belongs to the person. Left
# out on purpose: the e-mail code's salt and digest (with them a 6-digit code is found
# offline in a second), Telegram's file ids and our storage paths and hashes, staff
# working data (who claims a registration, the card's message, the outbox, the support
# group's message ids) and the form's position (cursor, editing, last message id).
ACCOUNT_FIELDS = (
    "user_id",
    "locale",
    "language_code",
    "phone",
    "source",
    "agreement_version",
    "agreement_accepted_at",
    "created_at",
    "updated_at",
)
REGISTRATION_FIELDS = (
    "number",  # the registration's number, as every message names it
    "id",  # what the events' "subject" names
    "role",
    "status",
    "created_at",
    "updated_at",
    "submitted_at",
    "due_date",
    "round",
    "flagged",  # the reviewers' reasons, as the applicant was told them
    "decided_at",
    "decision_reason",
    "email_verified_at",
    "email_changed_at",
)
DOCUMENT_FIELDS = ("file_name", "mime_type", "size")
TICKET_FIELDS = (
    "id",
    "status",
    "opened_at",
    "closed_at",
    "closed_by",
    "from_user",
    "from_support",
    "faq_answers",
)
#: Audit details the person was shown or gave (reasons, fields to fix, last four digits).
EVENT_DETAILS = ("role", "previous", "reason", "fields", "version", "old", "new", "answers")


def _pick(data: dict[str, Any], names: Collection[str]) -> dict[str, Any]:
    return {name: data[name] for name in names if name in data}


@dataclass(frozen=True)
class DeletionPlan:
    """What /delete would remove (drafts) and what it keeps (everything submitted)."""

    drafts: list[Registration]
    kept: list[Registration]


class PersonalData:
    """Exports and deletes a user's data; every deletion is durable when a method returns."""

    def __init__(
        self, storage: Storage, files: DocumentStore, desk: SupportDesk, clock: Clock
    ) -> None:
        self.storage = storage
        self.files = files
        self.desk = desk
        self.clock = clock

    def _registrations(self, user_id: int) -> list[Registration]:
        return sorted(self.storage.registrations.for_user(user_id), key=lambda r: r.created_at)

    def export(self, user_id: int) -> dict[str, Any]:
        """Everything stored about the user, as JSON-ready data (nobody else's)."""
        account = self.storage.accounts.get(user_id)
        registrations = self._registrations(user_id)
        # Every role's id, not only the existing registrations: events of deleted drafts
        # are about the user too.
        subjects = [f"account:{user_id}"] + [Registration.make_id(user_id, r) for r in Role]
        events = [e for s in subjects for e in self.storage.audit.for_subject(s)]
        return {
            "format": FORMAT,
            "exported_at": self.clock().isoformat(),
            "user_id": user_id,
            "account": _pick(account.model_dump(mode="json"), ACCOUNT_FIELDS)
            if account is not None
            else None,
            "registrations": [_registration(r) for r in registrations],
            "events": [_event(e, user_id) for e in sorted(events, key=lambda e: e.at)],
            "support_tickets": [
                _pick(t.model_dump(mode="json"), TICKET_FIELDS)
                for t in self.desk.tickets_of(user_id)
            ],
        }

    def plan(self, user_id: int) -> DeletionPlan:
        """The user's drafts (deletable) and submitted registrations (kept)."""
        registrations = self._registrations(user_id)
        return DeletionPlan(
            drafts=[r for r in registrations if r.status is Status.DRAFT],
            kept=[r for r in registrations if r.status is not Status.DRAFT],
        )

    def delete_drafts(self, user_id: int, roles: Collection[Role]) -> list[Registration]:
        """Delete the user's drafts for ``roles`` (others are left alone) with their answers
        and file references, and free their e-mail address and administrator id."""
        deleted = []
        for role in roles:
            registration = self.storage.registrations.get(Registration.make_id(user_id, role))
            if registration is None or registration.status is not Status.DRAFT:
                continue
            self._discard(registration, "draft_deleted", user_id)
            deleted.append(registration)
        if deleted:
            self._sweep(user_id)
        return deleted

    def expire_draft(self, registration_id: str, rules: IdleRules) -> Registration | None:
        """Delete a draft whose expiry is due (checked again on the stored copy: the
        applicant may have come back since the scan), freeing its e-mail address and
        administrator id; None when it is not due (any more)."""
        registration = self.storage.registrations.get(registration_id)
        if registration is None or due(registration, self.clock(), rules) is not Due.EXPIRE:
            return None
        self._discard(registration, "draft_expired", None)
        self._sweep(registration.user_id)
        return registration

    def _discard(self, registration: Registration, action: str, actor: int | None) -> None:
        """Delete a draft with its answers and free its unique values (audited)."""
        self.storage.audit.append(
            AuditEvent(
                subject=registration.id,
                action=action,
                actor=actor,
                at=self.clock(),
                detail={"answers": len(registration.answers)},
            )
        )
        # The registration goes first: a crash before the releases leaves a value claimed
        # by a registration that is gone (harmless to the user, who may claim it again with
        # a new draft of the same role), never a draft whose unique answers someone else
        # could take.
        self.storage.registrations.delete(registration.id)
        for field in form.FIELDS.values():
            value = registration.answers.get(field.key)
            if field.unique is not None and isinstance(value, str):
                self.storage.unique.release(field.unique, value, registration.id)

    def _sweep(self, user_id: int) -> None:
        # After the records: a crash in between leaves files nobody refers to, which the
        # next deletion removes. Replaced uploads of kept registrations go too.
        kept = self.storage.registrations.for_user(user_id)
        self.files.sweep(user_id, keep=stored_files(kept))


def _registration(registration: Registration) -> dict[str, Any]:
    """A registration as its applicant may see it: their answers (documents described, not
    located), where it stands, and the address a code went to (never the code's hash)."""
    data = _pick(registration.model_dump(mode="json"), REGISTRATION_FIELDS)
    data["answers"] = {
        key: _pick(value, DOCUMENT_FIELDS) if isinstance(value, dict) else value
        for key, value in registration.model_dump(mode="json")["answers"].items()
    }
    check = registration.email_check
    if check is not None:
        data["email_code"] = {
            "sent_to": check.address,
            "purpose": check.purpose.value,
            "expires_at": check.expires_at.isoformat(),
            "locked_until": check.locked_until.isoformat() if check.locked_until else None,
        }
    return data


def _event(event: AuditEvent, user_id: int) -> dict[str, Any]:
    """An audit event as the user sees it: staff are not named, only "platform"."""
    return {
        "subject": event.subject,
        "action": event.action,
        "at": event.at.isoformat(),
        "by": "you" if event.actor == user_id else "platform",
        "detail": _pick(event.detail, EVENT_DETAILS),
    }


def stored_files(registrations: Collection[Registration]) -> set[str]:
    """The stored files (paths relative to DATA_DIR) the registrations refer to, in their
    answers or in the answers as the reviewers last saw them."""
    found = set()
    for registration in registrations:
        for answers in (registration.answers, registration.reviewed_answers or {}):
            for value in answers.values():
                if isinstance(value, dict) and isinstance(value.get("stored_as"), str):
                    found.add(value["stored_as"])
    return found
