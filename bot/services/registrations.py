"""Registrations: choosing a role, answering the form, editing, submitting.

The walk through the form is kept in the registration itself (``cursor``), so a restart
or a lost conversation state never loses the applicant's place.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from bot.rules import form, reuse, validators
from bot.rules.form import Field, Kind
from bot.rules.idle import REMINDED, Due, IdleRules, due
from bot.rules.models import AuditEvent, Document, Refusal, Registration, Role, Status
from bot.rules.status import EDITABLE, Action, next_status
from bot.rules.workdays import china_date, due_date
from bot.services import outbox
from bot.services.taken_limit import TakenLimit
from storage.protocols import HeldElsewhere, Storage

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


#: Audit actions an applicant's /status shows (staff-only ones, such as claims, are not).
TIMELINE = frozenset({"submitted", "changes_requested", "rejected", "approved", "removed"})


#: Deep-link payloads of administrator confirmations: ``adm-<registration number>-<secret>``
#: (the number, not the id: the link is forwarded, and the id holds the Telegram user id).
ADMIN_LINK = "adm-"


class RoleTaken(Exception):
    """The account already holds a registration for this role."""


class NotAsked(Exception):
    """An answer for a field the registration is not asking (an old button or message)."""


class AlreadyAnswered(Exception):
    """A message that was already taken as an answer, handed over again after a restart."""


class NeedsConfirmation(Exception):
    """A valid answer that may not show what is needed (``missing``): held until the
    applicant confirms it (``confirm``) or answers again."""

    def __init__(self, registration: Registration, field: str, missing: list[str]) -> None:
        super().__init__(field)
        self.registration = registration
        self.missing = missing


class Incomplete(Exception):
    """Submitting with required fields missing; ``field`` is the first one."""

    def __init__(self, field: str) -> None:
        super().__init__(field)
        self.field = field


class RegistrationService:
    """Every change to a registration goes through here and is durable on return."""

    def __init__(
        self,
        storage: Storage,
        clock: Clock,
        admin_chat: int | None = None,
        taken_limit: TakenLimit | None = None,
    ) -> None:
        self.storage = storage
        self.clock = clock
        self.taken_limit = taken_limit or TakenLimit(clock)
        self.admin_chat = admin_chat

    # -- reading ---------------------------------------------------------------------
    def get(self, registration_id: str) -> Registration | None:
        """A registration by id."""
        return self.storage.registrations.get(registration_id)

    def of_user(self, user_id: int) -> list[Registration]:
        """Every registration of an account, oldest first."""
        return sorted(self.storage.registrations.for_user(user_id), key=lambda r: r.created_at)

    def editable(self, user_id: int) -> list[Registration]:
        """Registrations the applicant can still fill in (drafts, changes requested)."""
        return [r for r in self.of_user(user_id) if r.status in EDITABLE]

    def available_roles(self, user_id: int) -> list[Role]:
        """Roles the account has not registered for yet (one registration per role)."""
        taken = {r.role for r in self.of_user(user_id)}
        return [role for role in Role if role not in taken]

    @staticmethod
    def sequence(registration: Registration) -> list[str]:
        """The fields this registration walks: all of them, or those of a focused walk (a
        change request or an edit, with every answer a change there invalidated)."""
        if registration.walk:
            return list(registration.walk)
        return [f.key for f in form.fields_for(registration.role)]

    def timeline(self, registration_id: str, last: int = 8) -> list[AuditEvent]:
        """What happened to a registration that its applicant is told about (submissions
        and decisions, with their reasons), the ``last`` ones, oldest first."""
        events = self.storage.audit.for_subject(registration_id)
        return [e for e in events if e.action in TIMELINE][-last:]

    def step(self, registration: Registration, key: str) -> tuple[int, int]:
        """("step k of N") of a field within this registration's walk."""
        keys = self.sequence(registration)
        return (keys.index(key) + 1 if key in keys else 1), len(keys)

    def idle(self, rules: IdleRules) -> dict[Due, list[Registration]]:
        """Idle registrations by what their applicants are owed now (reminder, expiry
        warning, expiry), from one scan of the drafts and the fixes."""
        now = self.clock()
        # Filtered while read: the idle ones already reminded (after the first run, nearly
        # all of them) are never all held in memory at once.
        found = self.storage.registrations.with_status(
            *REMINDED, where=lambda r: due(r, now, rules) is not None
        )
        work: dict[Due, list[Registration]] = {kind: [] for kind in Due}
        for registration in found:
            kind = due(registration, now, rules)
            if kind is not None:
                work[kind].append(registration)
        return work

    def mark_reminded(self, registration_id: str, *, warning: bool = False) -> None:
        """Record a reminder (or an expiry warning) without counting it as the applicant's
        activity. Not recorded where another process is handling the applicant's update at
        this very moment (the next run looks at them again)."""
        registration = self.storage.registrations.get(registration_id)
        if registration is not None:
            if warning:
                registration.expiry_warned_at = self.clock()
            else:
                registration.reminded_at = self.clock()
            try:
                self.storage.registrations.save(registration)
            except HeldElsewhere:
                log.info("%s: applicant busy elsewhere; reminder not recorded", registration_id)

    # -- the administrator's confirmation ----------------------------------------------
    def admin_link(self, registration_id: str) -> str:
        """The deep-link payload the applicant forwards to the administrator (made once)."""
        registration = self._load(registration_id)
        if registration.admin_token is None:
            # Hex: no "-" inside, which separates the parts of the payload.
            registration.admin_token = secrets.token_hex(8)
            self.storage.registrations.save(registration)
        return f"{ADMIN_LINK}{registration.number}-{registration.admin_token}"

    def admin_invitation(self, payload: str) -> Registration:
        """The registration a forwarded link names (NotAsked when it names none, or the
        link is not that registration's). Links made before numbers existed named the id."""
        named, _, token = payload.removeprefix(ADMIN_LINK).rpartition("-")
        registration = self.storage.registrations.by_number(named) or self.get(named)
        if registration is None:
            raise NotAsked(payload)
        known = registration.admin_token
        if not payload.startswith(ADMIN_LINK) or known is None:
            raise NotAsked(payload)
        if not hmac.compare_digest(known.encode(), token.encode()):
            raise NotAsked(payload)
        return registration

    def confirm_admin(self, payload: str, user_id: int, phone: str) -> Registration:
        """The administrator shared their own contact: it must carry the administrator
        mobile of the registration (raises ``validators.Invalid`` otherwise)."""
        registration = self.admin_invitation(payload)
        expected = registration.answers.get("admin_mobile")
        try:
            given = validators.mobile(phone)
        except validators.Invalid:
            given = None
        if not isinstance(expected, str) or given != expected:
            raise validators.Invalid("admin.phone_mismatch")
        registration.admin_confirmed_by = user_id
        registration.admin_confirmed_at = self.clock()
        event = self._event(registration, "admin_confirmed", user_id)
        return self._save(registration, event)

    # -- changing --------------------------------------------------------------------
    def reuse_source(self, user_id: int) -> Registration | None:
        """The registration of the account a new one may start from: the latest changed
        one, not removed, with answers another role may take over (None: there is none)."""
        found = [
            r
            for r in self.of_user(user_id)
            if r.status is not Status.REMOVED and reuse.has_answers(r)
        ]
        return max(found, key=lambda r: r.updated_at, default=None)

    def start(
        self,
        user_id: int,
        role: Role,
        reuse_from: Registration | None = None,
        documents: Mapping[str, Document | validators.Invalid] | None = None,
    ) -> Registration:
        """Open a draft registration for a role; the role cannot change afterwards. With
        ``reuse_from`` (another registration of the account) it starts from that one's
        answers, each checked again (``reuse.carry_over``; ``documents``: its documents as
        checked again and copied), at the first field still to answer."""
        registration_id = Registration.make_id(user_id, role)
        if self.storage.registrations.get(registration_id) is not None:
            raise RoleTaken(role.value)
        now = self.clock()
        registration = Registration(
            id=registration_id,
            user_id=user_id,
            role=role,
            created_at=now,
            updated_at=now,
            cursor=form.fields_for(role)[0].key,
        )
        detail: dict[str, Any] = {"role": role.value}
        if reuse_from is not None:
            if reuse_from.user_id != user_id or reuse_from.id == registration_id:
                raise NotAsked(reuse_from.id)
            carried = reuse.carry_over(reuse_from, role, documents or {})
            registration.answers = carried.answers
            registration.confirmed = carried.confirmed
            registration.recheck = form.in_form_order(carried.recheck, role)
            registration.reused_from = reuse_from.id
            registration.not_reused = {
                key: Refusal(code=error.code, params=error.params)
                for key, error in carried.refused.items()
            }
            registration.cursor = self._first_due(registration)
            detail.update(reused_from=reuse_from.id, reused=sorted(carried.answers))
        self.storage.registrations.save(
            registration, [self._event(registration, "created", user_id, **detail)]
        )
        return registration

    def waiting(self, registration: Registration) -> list[str]:
        """The fields still to answer (or confirm), in form order."""
        return [f.key for f in form.fields_for(registration.role) if self._due(registration, f.key)]

    def answer_text(
        self, registration_id: str, key: str, text: str, message_id: int | None = None
    ) -> Registration:
        """Validate and store a typed answer (raises ``validators.Invalid``, NotAsked, or
        AlreadyAnswered for a message given as an answer before)."""
        registration = self._load(registration_id, message_id)
        field = self._asked(registration, key)
        if field.kind is Kind.CHOICE:
            value = self._choice(field, text)
        elif field.kind is Kind.TEXT and field.validate is not None:
            value = field.validate(text, registration.answers, registration.role)
        else:
            raise validators.Invalid(
                "document.expected_photo" if field.images_only else "document.expected"
            )
        doubts = field.doubts(value, registration.role) if field.doubts is not None else []
        if doubts:
            registration.unconfirmed = {key: value}
            if message_id is not None:
                registration.answered_message_id = message_id
            self._save(registration)
            raise NeedsConfirmation(registration, key, doubts)
        registration.confirmed.pop(key, None)
        if field.unique is None:
            return self._store(registration, field, value, message_id)
        claimed_before = self.storage.unique.owner(field.unique, value) == registration.id
        self._claim(registration, field, value)
        try:
            return self._store(registration, field, value, message_id)
        except OSError:
            # The answer was not saved (disk full …): give the value back, or it would stay
            # reserved by an answer that does not exist.
            if not claimed_before:
                self.storage.unique.release(field.unique, value, registration.id)
            raise

    def answer_document(
        self, registration_id: str, key: str, doc: Document, message_id: int | None = None
    ) -> Registration:
        """Store an uploaded document for a document field (AlreadyAnswered as above)."""
        registration = self._load(registration_id, message_id)
        field = self._asked(registration, key)
        if field.kind is not Kind.DOCUMENT:
            raise validators.Invalid("document.unexpected")
        if field.images_only and not doc.mime_type.startswith("image/"):
            raise validators.Invalid("document.not_image")
        other = registration.answers.get(field.other_side) if field.other_side else None
        if isinstance(other, dict) and (
            other.get("file_unique_id") == doc.file_unique_id or other.get("sha256") == doc.sha256
        ):
            # Forwarded again (same file) or re-sent (same bytes): not the card's other side.
            raise validators.Invalid("document.same_side", other=field.other_side)
        return self._store(registration, field, doc.model_dump(mode="json"), message_id)

    def confirm(self, registration_id: str, key: str) -> Registration:
        """The applicant confirms the held answer of the asked field (e.g. that the licence
        covers technical development): stored, with the confirmation for the reviewers."""
        registration = self._load(registration_id)
        field = self._asked(registration, key)
        value = registration.unconfirmed.get(key)
        if value is None or field.doubts is None:
            raise NotAsked(key)
        registration.confirmed[key] = field.doubts(value, registration.role)
        return self._store(registration, field, value)

    def skip(self, registration_id: str, key: str) -> Registration:
        """Skip an optional field (stored as None, so it counts as answered)."""
        registration = self._load(registration_id)
        field = self._asked(registration, key)
        if not field.skippable(registration.answers):
            raise validators.Invalid("field.required")
        return self._store(registration, field, None)

    def keep(self, registration_id: str, key: str) -> Registration:
        """Keep the answer already given to the asked field and move on (refused with the
        reason when it no longer holds, e.g. a name that no longer matches)."""
        registration = self._load(registration_id)
        field = self._asked(registration, key)
        if key not in registration.answers:
            raise NotAsked(key)
        value = registration.answers[key]
        if value is None and not field.skippable(registration.answers):
            raise validators.Invalid("field.required")
        if field.validate is not None and isinstance(value, str):
            field.validate(value, registration.answers, registration.role)
        return self._store(registration, field, value)

    def back(self, registration_id: str, key: str) -> Registration:
        """Go to the field before ``key`` (or to the summary when editing one field)."""
        registration = self._load(registration_id)
        self._asked(registration, key)
        keys = self.sequence(registration)
        if registration.editing:
            registration.editing = False
            registration.cursor = self._first_due(registration)
        elif key in keys and keys.index(key) > 0:
            registration.cursor = keys[keys.index(key) - 1]
        return self._save(registration)

    def edit(self, registration_id: str, key: str) -> Registration:
        """Jump from the summary to any field; answering it (and whatever depends on it, when
        the answer changed) comes back to the summary."""
        registration = self._load(registration_id)
        self._editable(registration)
        keys = [f.key for f in form.fields_for(registration.role)]
        if key not in keys or registration.cursor is not None:
            raise NotAsked(key)
        registration.cursor = key
        registration.walk = [key]
        registration.editing = True
        return self._save(registration)

    def submit(self, registration_id: str) -> Registration:
        """Freeze the registration for review and set the date reviewers answer by."""
        registration = self._load(registration_id)
        self._editable(registration)
        missing = self._first_due(registration)
        if missing is not None:
            raise Incomplete(missing)
        if registration.cursor is not None:
            raise NotAsked("submit")
        now = self.clock()
        previous = registration.status
        registration.status = next_status(registration.status, Action.SUBMIT)
        registration.submitted_at = now
        registration.due_date = due_date(china_date(now))
        registration.asked_to_change = list(registration.flagged)
        registration.flagged = {}
        registration.walk, registration.recheck = [], []
        registration.round += 1
        if self.admin_chat is not None:
            # The reviewers' card leaves through the outbox, saved in this same write.
            outbox.add(
                registration, *outbox.card_with_documents(registration, str(self.admin_chat), now)
            )
        event = self._event(
            registration, "submitted", registration.user_id, previous=previous.value
        )
        return self._save(registration, event)

    # -- internals -------------------------------------------------------------------
    def _editable(self, registration: Registration) -> None:
        if registration.status not in EDITABLE:
            raise NotAsked(registration.status.value)

    def _asked(self, registration: Registration, key: str) -> Field:
        self._editable(registration)
        if registration.cursor != key:
            raise NotAsked(key)
        return form.FIELDS[key]

    @staticmethod
    def _choice(field: Field, text: str) -> str:
        value = text.strip()
        if value not in field.choices:
            raise validators.Invalid("choice.use_buttons")
        return value

    def _claim(self, registration: Registration, field: Field, value: str) -> None:
        """Reserve a unique value. "Taken" answers are limited per person and day, after
        which every new value is refused alike: they would otherwise tell anyone, one
        guess at a time, whose e-mail address or administrator id is registered."""
        assert field.unique is not None
        if self.storage.unique.owner(field.unique, value) != registration.id:
            self.taken_limit.guard(registration.user_id)
        if not self.storage.unique.claim(field.unique, value, registration.id):
            raise self.taken_limit.taken(registration.user_id)

    def _store(
        self, registration: Registration, field: Field, value: Any, message_id: int | None = None
    ) -> Registration:
        answers = registration.answers
        changed = field.key in answers and answers[field.key] != value
        previous = answers.get(field.key)
        answers[field.key] = value
        if message_id is not None:
            registration.answered_message_id = message_id
        recheck = [k for k in registration.recheck if k != field.key]
        if changed:
            # What depended on the old answer is asked again in this same walk.
            invalidated = form.dependants(field.key, registration.role)
            recheck += [k for k in invalidated if k in answers and k not in recheck]
            if registration.walk:
                registration.walk = form.in_form_order(
                    [*registration.walk, *invalidated], registration.role
                )
        registration.recheck = form.in_form_order(recheck, registration.role)
        registration.unconfirmed = {}
        registration.not_reused.pop(field.key, None)  # answered: its reason is told
        if changed and field.key == "admin_mobile":
            # Confirmed for another number: the administrator confirms the new one again.
            registration.admin_confirmed_by = registration.admin_confirmed_at = None
        registration.editing = False
        registration.cursor = self._next_due(registration, field.key)
        self._save(registration)
        if (
            field.unique is not None
            and isinstance(previous, str)
            # The index compares values case-insensitively: DEV1@… and dev1@… are one claim.
            and previous.strip().casefold() != str(value).strip().casefold()
        ):
            self.storage.unique.release(field.unique, previous, registration.id)
        return registration

    @staticmethod
    def _due(registration: Registration, key: str) -> bool:
        """Whether a field still waits for the applicant (no answer, or to be confirmed)."""
        return key in registration.recheck or not form.answered(
            form.FIELDS[key], registration.answers
        )

    def _next_due(self, registration: Registration, after: str) -> str | None:
        """The next field of the walk that waits, after ``after``; then any that waits."""
        keys = self.sequence(registration)
        later = keys[keys.index(after) + 1 :] if after in keys else keys
        for key in later:
            if self._due(registration, key):
                return key
        return self._first_due(registration)

    def _first_due(self, registration: Registration) -> str | None:
        """The first field that waits, in the walk first, then anywhere in the form."""
        everything = [f.key for f in form.fields_for(registration.role)]
        for key in [*self.sequence(registration), *everything]:
            if self._due(registration, key):
                return key
        return None

    def _load(self, registration_id: str, message_id: int | None = None) -> Registration:
        # Always the stored copy: a handler's copy may be stale after its awaits.
        registration = self.storage.registrations.get(registration_id)
        if registration is None:
            raise NotAsked(registration_id)
        if registration.already_answered(message_id):
            raise AlreadyAnswered(registration_id)
        return registration

    def _save(self, registration: Registration, *events: AuditEvent) -> Registration:
        registration.updated_at = self.clock()
        self.storage.registrations.save(registration, events)
        return registration

    def _event(
        self, registration: Registration, action: str, actor: int, **detail: Any
    ) -> AuditEvent:
        return AuditEvent(
            subject=registration.id, action=action, actor=actor, at=self.clock(), detail=detail
        )
