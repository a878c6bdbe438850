"""What is due for a registration nobody has moved for a while.

Drafts and registrations waiting for the applicant's fix get one reminder per idle spell
(a fix's reminder repeats the reviewers' reasons). A draft idle for ``expire_after`` is
deleted, which frees its e-mail address and administrator id for others — but only after a
warning sent at least ``warn_before`` earlier in the same idle spell: nobody loses a draft
without having been told, even when the bot was down when the warning fell due.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from bot.rules.models import Registration, Status

#: Statuses whose applicant is reminded: filling in a draft, or fixing after a review.
REMINDED = (Status.DRAFT, Status.CHANGES_REQUESTED)


class Due(StrEnum):
    REMIND = "remind"
    WARN = "warn"  # the draft expires soon
    EXPIRE = "expire"


@dataclass(frozen=True)
class IdleRules:
    remind_after: timedelta
    expire_after: timedelta | None  # drafts only; None: drafts never expire
    warn_before: timedelta

    def __post_init__(self) -> None:
        if self.expire_after is not None and self.warn_before >= self.expire_after:
            raise ValueError("the expiry warning must come before the expiry")


def due(registration: Registration, now: datetime, rules: IdleRules) -> Due | None:
    """What the applicant of an idle registration is owed now, if anything."""
    if registration.status not in REMINDED:
        return None
    idle = now - registration.updated_at
    if registration.status is Status.DRAFT and rules.expire_after is not None:
        warned = registration.expiry_warned_at
        if warned is not None and warned >= registration.updated_at:
            # Warned in this idle spell: only the expiry is left, never before the notice.
            if idle >= rules.expire_after and now - warned >= rules.warn_before:
                return Due.EXPIRE
            return None
        if idle >= rules.expire_after - rules.warn_before:
            return Due.WARN
    reminded = registration.reminded_at
    if idle >= rules.remind_after and (reminded is None or reminded < registration.updated_at):
        return Due.REMIND
    return None


def expires_on(registration: Registration, now: datetime, rules: IdleRules) -> datetime:
    """When a warned draft expires unless the applicant touches it."""
    assert rules.expire_after is not None
    return max(registration.updated_at + rules.expire_after, now + rules.warn_before)
