"""The registration status machine: which action moves which status where."""

from __future__ import annotations

from enum import StrEnum

from bot.rules.models import Status


class Action(StrEnum):
    """What an applicant (SUBMIT) or a reviewer (the others) does to a registration."""

    SUBMIT = "submit"
    CLAIM = "claim"
    RELEASE = "release"
    APPROVE = "approve"
    REQUEST_CHANGES = "request_changes"
    REJECT = "reject"


class InvalidTransition(Exception):
    """``action`` is not allowed while a registration is in ``status``."""

    def __init__(self, status: Status, action: Action) -> None:
        super().__init__(f"{action.value} is not allowed in status {status.value}")
        self.status = status
        self.action = action


_DECISIONS = {
    Action.APPROVE: Status.APPROVED,
    Action.REQUEST_CHANGES: Status.CHANGES_REQUESTED,
    Action.REJECT: Status.REJECTED,
}

#: The one table of transitions. APPROVED and REJECTED are final: they have no entry.
TRANSITIONS: dict[Status, dict[Action, Status]] = {
    Status.DRAFT: {Action.SUBMIT: Status.SUBMITTED},
    Status.CHANGES_REQUESTED: {Action.SUBMIT: Status.RESUBMITTED},
    Status.SUBMITTED: {Action.CLAIM: Status.IN_REVIEW, **_DECISIONS},
    Status.RESUBMITTED: {Action.CLAIM: Status.IN_REVIEW, **_DECISIONS},
    Status.IN_REVIEW: {Action.RELEASE: Status.SUBMITTED, **_DECISIONS},
}

#: Statuses waiting for a reviewer.
WAITING = frozenset({Status.SUBMITTED, Status.RESUBMITTED, Status.IN_REVIEW})
#: Statuses in which the applicant may change answers.
EDITABLE = frozenset({Status.DRAFT, Status.CHANGES_REQUESTED})


def next_status(current: Status, action: Action) -> Status:
    """The status after ``action``; raises ``InvalidTransition`` when it is not allowed."""
    try:
        return TRANSITIONS.get(current, {})[action]
    except KeyError:
        raise InvalidTransition(current, action) from None


def allowed_actions(current: Status) -> frozenset[Action]:
    """The actions allowed in ``current`` (empty for final statuses)."""
    return frozenset(TRANSITIONS.get(current, {}))
