"""The registration status machine: which action moves which status where.

The guide's loop: a review that is not passed names what to fix (per field and/or in
general); the applicant fixes any answer and submits again, as often as needed. Only a
violation ends a registration for good (清退, e.g. a third-party developer that chose a
self-built role): ``REMOVE``, a separate decision that reviewers confirm, stated as final to
the applicant and in the agreement. A removed registration keeps its record (what was
decided, and why) and its role stays closed for the account; its e-mail address and
administrator id are released, since the registration they were reserved for no longer
exists on the platform and the enterprise may still register correctly with them.
"""

from __future__ import annotations

from enum import StrEnum

from bot.rules.models import Status


class Action(StrEnum):
    """What an applicant (SUBMIT) or a reviewer (the others) does to a registration."""

    SUBMIT = "submit"
    CLAIM = "claim"
    RELEASE = "release"
    APPROVE = "approve"
    #: "Not passed": fix what the reasons say, then submit again.
    REQUEST_CHANGES = "request_changes"
    #: 清退: removed for a violation, final.
    REMOVE = "remove"


class InvalidTransition(Exception):
    """``action`` is not allowed while a registration is in ``status``."""

    def __init__(self, status: Status, action: Action) -> None:
        super().__init__(f"{action.value} is not allowed in status {status.value}")
        self.status = status
        self.action = action


_DECISIONS = {
    Action.APPROVE: Status.APPROVED,
    Action.REQUEST_CHANGES: Status.CHANGES_REQUESTED,
    Action.REMOVE: Status.REMOVED,
}
_REMOVE = {Action.REMOVE: Status.REMOVED}

#: The one table of transitions. REMOVED is final: it has no entry. REJECTED is the "not
#: passed" of records decided before the loop existed: fixable like CHANGES_REQUESTED.
TRANSITIONS: dict[Status, dict[Action, Status]] = {
    Status.DRAFT: {Action.SUBMIT: Status.SUBMITTED},
    Status.CHANGES_REQUESTED: {Action.SUBMIT: Status.RESUBMITTED, **_REMOVE},
    Status.REJECTED: {Action.SUBMIT: Status.RESUBMITTED, **_REMOVE},
    Status.SUBMITTED: {Action.CLAIM: Status.IN_REVIEW, **_DECISIONS},
    Status.RESUBMITTED: {Action.CLAIM: Status.IN_REVIEW, **_DECISIONS},
    Status.IN_REVIEW: {Action.RELEASE: Status.SUBMITTED, **_DECISIONS},
    # A violation found after approval still ends the registration (the guide removes the
    # app and the registration).
    Status.APPROVED: dict(_REMOVE),
}

#: Statuses waiting for a reviewer.
WAITING = frozenset({Status.SUBMITTED, Status.RESUBMITTED, Status.IN_REVIEW})
#: Statuses in which the applicant may change answers.
EDITABLE = frozenset({Status.DRAFT, Status.CHANGES_REQUESTED, Status.REJECTED})
#: Statuses waiting for the applicant's fix after a review.
FIXING = EDITABLE - {Status.DRAFT}
#: Statuses that end a registration: its role cannot be applied for again.
FINAL = frozenset({Status.REMOVED})


def next_status(current: Status, action: Action) -> Status:
    """The status after ``action``; raises ``InvalidTransition`` when it is not allowed."""
    try:
        return TRANSITIONS.get(current, {})[action]
    except KeyError:
        raise InvalidTransition(current, action) from None


def allowed_actions(current: Status) -> frozenset[Action]:
    """The actions allowed in ``current`` (empty for final statuses)."""
    return frozenset(TRANSITIONS.get(current, {}))
