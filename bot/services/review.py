"""The reviewers' side: the queue, claims, decisions with their notifications, the audit
trail, searches and deadlines. Every decision and its notifications are one write."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from bot.rules import conflicts, form
from bot.rules.models import AuditEvent, Channel, Registration, Status
from bot.rules.status import WAITING, Action, InvalidTransition, allowed_actions, next_status
from bot.rules.workdays import china_date, working_days_between
from bot.services import outbox
from storage.protocols import Storage

Clock = Callable[[], datetime]

#: Working days reviewers have; a registration this close to it is "near" the deadline.
DEADLINE_DAYS = 3
NEAR_DAYS = 2
#: Copies of a card kept up to date (older ones have scrolled away in the group).
CARD_COPIES = 20
#: kv namespace: reviewers' names as Telegram last gave them (user id → name).
NAMES = "review.names"
#: kv namespace: registrations by credit code (code → {registration id: company name}),
#: noted when their card is shown, so the card finds the others without a full scan.
CREDIT_CODES = "review.credit_codes"


@dataclass(frozen=True)
class Related:
    """What the card says about a registration's neighbours: the account's other
    registrations, whether they break the guide's rule on third-party developers, and other
    registrations with the same credit code under another company name."""

    others: list[Registration]
    isv_violation: bool
    same_code: list[Registration]


DECIDED_KINDS = {
    Action.APPROVE: "approved",
    Action.REQUEST_CHANGES: "changes_requested",
    Action.REMOVE: "removed",
}


class Denied(Exception):
    """A reviewer action that is not possible now; ``code`` names the reason's text."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


@dataclass(frozen=True)
class Waiting:
    """A registration in the queue with its age in working days."""

    registration: Registration
    age: int

    @property
    def overdue(self) -> bool:
        return self.age >= DEADLINE_DAYS

    @property
    def near(self) -> bool:
        return NEAR_DAYS <= self.age < DEADLINE_DAYS


class ReviewService:
    """What reviewers do; each method is durable when it returns."""

    def __init__(
        self,
        storage: Storage,
        clock: Clock,
        *,
        claim_for: timedelta,
        email: bool,
        china_today: Callable[[], date],
    ) -> None:
        self.storage = storage
        self.clock = clock
        self.claim_for = claim_for
        self.email = email
        self.today = china_today
        self._names_seen: dict[int, str] = {}  # what this process wrote (skips rewrites)

    # -- reviewers' names ------------------------------------------------------------------
    def remember_name(self, reviewer: int, name: str) -> None:
        """Keep the name a reviewer goes by (cards, claims and the history show it instead
        of a bare id); written only when it changed."""
        name = name.strip()[:64]
        if not name or self._names_seen.get(reviewer) == name:
            return
        if self.storage.kv.get(NAMES, str(reviewer)) != name:
            self.storage.kv.put(NAMES, str(reviewer), name)
        self._names_seen[reviewer] = name

    def name_of(self, user_id: int) -> str | None:
        """The name a reviewer was last seen with; None for someone never seen acting."""
        name = self.storage.kv.get(NAMES, str(user_id))
        return name if isinstance(name, str) else None

    # -- reading -----------------------------------------------------------------------
    def get(self, registration_id: str) -> Registration:
        """A registration by its public number as a reviewer types it, or by the id on
        buttons of cards posted before numbers existed (``Denied("review.unknown")`` when
        there is none)."""
        registrations = self.storage.registrations
        registration = registrations.by_number(registration_id) or registrations.get(
            registration_id.strip()
        )
        if registration is None or registration.status is Status.DRAFT:
            raise Denied("review.unknown", id=registration_id[:40])
        return registration

    def queue(self) -> list[Waiting]:
        """Registrations waiting for a decision, oldest submission first."""
        waiting = self.storage.registrations.with_status(*WAITING)
        today = self.today()
        items = [
            Waiting(
                r, working_days_between(china_date(r.submitted_at), today) if r.submitted_at else 0
            )
            for r in waiting
        ]
        return sorted(items, key=lambda w: w.registration.submitted_at or self.clock())

    def holder(self, registration: Registration) -> int | None:
        """The reviewer holding a registration, while the claim lasts."""
        if registration.claimed_by is None or registration.claimed_at is None:
            return None
        if self.clock() - registration.claimed_at >= self.claim_for:
            return None
        return registration.claimed_by

    def changed_since_review(self, registration: Registration) -> list[str]:
        """Fields whose answers changed since the last change request."""
        before = registration.reviewed_answers
        if before is None:
            return []
        return [
            f.key
            for f in form.fields_for(registration.role)
            if registration.answers.get(f.key) != before.get(f.key)
        ]

    def history(self, registration_id: str) -> list[AuditEvent]:
        """The audit trail of a registration."""
        return self.storage.audit.for_subject(self.get(registration_id).id)

    def find(self, text: str, limit: int = 50) -> list[Registration]:
        """Submitted registrations with ``text`` in an answer that names them (the form's
        listed fields: company name, credit code, e-mail)."""
        needle = text.strip().casefold()
        if not needle:
            return []
        found = []
        for registration in self.storage.registrations.all():
            if registration.status is Status.DRAFT:
                continue
            haystack = " ".join(
                str(registration.answers.get(k) or "") for k in form.LISTED
            ).casefold()
            if needle in haystack:
                found.append(registration)
                if len(found) >= limit:
                    break
        return found

    def posted_copy(self, registration_id: str, message_id: int) -> None:
        """Remember a copy of the card posted in the admin group (/review), so decisions
        update it like the original. Re-read: the caller's copy may be stale."""
        registration = self.get(registration_id)
        if message_id in registration.card_copies:
            return
        registration.card_copies = [*registration.card_copies, message_id][-CARD_COPIES:]
        self.storage.registrations.save(registration)

    def related(self, registration: Registration) -> Related:
        """The card's view of the registration's neighbours (see ``Related``)."""
        others = [
            r
            for r in self.storage.registrations.for_user(registration.user_id)
            if r.id != registration.id
        ]
        violation = conflicts.isv_in_self_built_role(
            registration.role, [(r.role, r.status) for r in others]
        )
        return Related(others, violation, self._same_code(registration))

    def _same_code(self, registration: Registration) -> list[Registration]:
        """Submitted registrations with this credit code and another company name. The
        index is kept here: each registration is noted under its code when its card is
        shown (every submission's card is, as it arrives), and an entry whose registration
        changed since is skipped (and dropped). Registrations submitted before the index
        existed join it when their card is shown again (a claim, a decision, /review): a
        scan of every registration at start-up would cost seconds per thousand, with the
        whole scan's writes in the event loop."""
        code, company = (registration.answers.get(k) for k in ("credit_code", "company_name"))
        if not isinstance(code, str) or not isinstance(company, str):
            return []
        known: dict[str, str] = dict(self.storage.kv.get(CREDIT_CODES, code) or {})
        found, current = [], {registration.id: company}
        for rid in known:
            if rid == registration.id:
                continue
            other = self.storage.registrations.get(rid)
            if other is None or other.answers.get("credit_code") != code:
                continue  # deleted, or its code changed: no longer under this one
            name = str(other.answers.get("company_name") or "")
            current[rid] = name
            if conflicts.company_key(name) != conflicts.company_key(company):
                found.append(other)
        if current != known:
            self.storage.kv.put(CREDIT_CODES, code, current)
        return found

    # -- acting ------------------------------------------------------------------------
    def claim(self, registration_id: str, reviewer: int) -> Registration:
        """Take a registration; others see who holds it until release or expiry."""
        registration = self._waiting(registration_id)
        holder = self.holder(registration)
        if holder == reviewer:
            raise Denied("review.already_yours")
        if holder is not None:
            raise Denied("review.held", holder=holder)
        if registration.status is not Status.IN_REVIEW:
            registration.status = next_status(registration.status, Action.CLAIM)
        registration.claimed_by, registration.claimed_at = reviewer, self.clock()
        self._save(registration, "claimed", reviewer)
        return registration

    def release(self, registration_id: str, reviewer: int) -> Registration:
        """Give a claimed registration back to the queue."""
        registration = self._waiting(registration_id)
        if self.holder(registration) != reviewer:
            raise Denied("review.not_yours")
        registration.status = next_status(registration.status, Action.RELEASE)
        registration.claimed_by = registration.claimed_at = None
        self._save(registration, "released", reviewer)
        return registration

    def reveal(self, registration_id: str, reviewer: int) -> Registration:
        """Show the full ID numbers to a reviewer; recorded in the audit trail."""
        registration = self.get(registration_id)
        self._audit(registration, "revealed", reviewer)
        return registration

    def approve(
        self, registration_id: str, reviewer: int, *, seen_round: int | None = None
    ) -> Registration:
        """Approve: the applicant is a registered developer. ``seen_round``: the submission
        the reviewer confirmed on; a later one was never seen, so it is not approved."""
        registration = self.get(registration_id)
        if (
            seen_round is not None
            and registration.status in WAITING
            and registration.round != seen_round
        ):
            raise Denied("review.outdated", id=registration.number, round=registration.round)
        return self._decide(registration_id, reviewer, Action.APPROVE)

    def not_passed(self, registration_id: str, reviewer: int, reason: str) -> Registration:
        """Not passed, with a general reason: the applicant fixes any answer and submits
        again (a change request without named fields)."""
        if not reason.strip():
            raise Denied("review.reason_needed")
        return self.request_changes(registration_id, reviewer, {}, general=reason)

    def request_changes(
        self,
        registration_id: str,
        reviewer: int,
        reasons: dict[str, str],
        general: str | None = None,
    ) -> Registration:
        """Not passed: send the applicant back to the named fields, each with its reason,
        and/or with a general reason; they may fix any answer and submit again."""
        registration = self.get(registration_id)
        keys = [f.key for f in form.fields_for(registration.role)]
        flagged = {k: reasons[k][:500] for k in keys if k in reasons and reasons[k].strip()}
        general = (general or "").strip()[:1000] or None
        if not flagged and general is None:
            raise Denied("review.fields_needed")
        return self._decide(
            registration_id, reviewer, Action.REQUEST_CHANGES, reason=general, flagged=flagged
        )

    def remove(self, registration_id: str, reviewer: int, reason: str) -> Registration:
        """清退: end the registration for a violation, for good (its role stays closed for
        the account); its e-mail address and administrator id are released."""
        reason = reason.strip()
        if not reason:
            raise Denied("review.reason_needed")
        registration = self.removable(registration_id, reviewer)
        removed = self._decided(registration, reviewer, Action.REMOVE, reason=reason[:1000])
        for field in form.FIELDS.values():
            value = removed.answers.get(field.key)
            if field.unique is not None and isinstance(value, str):
                self.storage.unique.release(field.unique, value, removed.id)
        return removed

    def removable(self, registration_id: str, reviewer: int) -> Registration:
        """A registration this reviewer may remove now (before asking them to confirm)."""
        registration = self.get(registration_id)
        if Action.REMOVE not in allowed_actions(registration.status):
            raise Denied("review.not_waiting", status=registration.status.value)
        holder = self.holder(registration)
        if holder is not None and holder != reviewer:
            raise Denied("review.held", holder=holder)
        return registration

    def _decide(
        self,
        registration_id: str,
        reviewer: int,
        action: Action,
        *,
        reason: str | None = None,
        flagged: dict[str, str] | None = None,
    ) -> Registration:
        registration = self._waiting(registration_id)
        holder = self.holder(registration)
        if holder is not None and holder != reviewer:
            raise Denied("review.held", holder=holder)
        return self._decided(registration, reviewer, action, reason=reason, flagged=flagged)

    def _decided(
        self,
        registration: Registration,
        reviewer: int,
        action: Action,
        *,
        reason: str | None = None,
        flagged: dict[str, str] | None = None,
    ) -> Registration:
        """Record a decision with its notifications (chat, and e-mail when configured)."""
        registration.status = next_status(registration.status, action)
        now = self.clock()
        registration.decided_at = now
        registration.decision_reason = reason
        registration.claimed_by = registration.claimed_at = None
        if action is Action.REQUEST_CHANGES:
            registration.flagged = flagged or {}
            registration.reviewed_answers = copy.deepcopy(registration.answers)
            # The flagged fields first, in form order; with none (a general reason only),
            # straight to the summary, where any answer can be edited.
            walk = form.in_form_order(registration.flagged, registration.role)
            registration.walk, registration.recheck = walk, list(walk)
            registration.cursor = walk[0] if walk else None
            registration.editing = False
        kind = DECIDED_KINDS[action]
        notes = [
            outbox.notification(registration, kind, Channel.CHAT, str(registration.user_id), now)
        ]
        email = registration.answers.get(form.CONTACT_EMAIL)
        if self.email and isinstance(email, str):
            notes.append(outbox.notification(registration, kind, Channel.EMAIL, email, now))
        outbox.add(registration, *notes)
        detail: dict[str, Any] = {"reason": reason} if reason else {}
        if flagged:
            detail["fields"] = flagged
        self._save(registration, kind, reviewer, **detail)
        return registration

    def overdue(self) -> list[Waiting]:
        """Waiting registrations near or past the deadline of 3 working days."""
        return [w for w in self.queue() if w.near or w.overdue]

    def open_for(self, registration_id: str, reviewer: int) -> Registration:
        """A registration this reviewer may decide now (before asking them for reasons)."""
        registration = self._waiting(registration_id)
        holder = self.holder(registration)
        if holder is not None and holder != reviewer:
            raise Denied("review.held", holder=holder)
        return registration

    # -- internals -----------------------------------------------------------------------

    def _waiting(self, registration_id: str) -> Registration:
        registration = self.get(registration_id)
        if registration.status not in WAITING:
            raise Denied("review.not_waiting", status=registration.status.value)
        return registration

    def _save(self, registration: Registration, action: str, actor: int, **detail: Any) -> None:
        """The change and its audit event in one write: never one without the other."""
        registration.updated_at = self.clock()
        event = AuditEvent(
            subject=registration.id, action=action, actor=actor, at=self.clock(), detail=detail
        )
        self.storage.registrations.save(registration, [event])

    def _audit(self, registration: Registration, action: str, actor: int, **detail: Any) -> None:
        self.storage.audit.append(
            AuditEvent(
                subject=registration.id, action=action, actor=actor, at=self.clock(), detail=detail
            )
        )


__all__ = ["Denied", "InvalidTransition", "Related", "ReviewService", "Waiting"]
