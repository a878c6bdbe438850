"""The status machine: which buttons do anything for an applicant or a reviewer."""

from __future__ import annotations

import itertools

import pytest

from bot.rules.models import Status
from bot.rules.status import (
    EDITABLE,
    FINAL,
    WAITING,
    Action,
    InvalidTransition,
    allowed_actions,
    next_status,
)

S, A = Status, Action

# The rules of the brief, written out once more independently of the module's table.
ALLOWED = {
    (S.DRAFT, A.SUBMIT): S.SUBMITTED,
    # Not passed: fix and submit again, as often as needed (also a "rejected" of old).
    (S.CHANGES_REQUESTED, A.SUBMIT): S.RESUBMITTED,
    (S.REJECTED, A.SUBMIT): S.RESUBMITTED,
    # 清退 for a violation: from every submitted status, even after approval.
    **{
        (status, A.REMOVE): S.REMOVED
        for status in (*WAITING, S.CHANGES_REQUESTED, S.REJECTED, S.APPROVED)
    },
    (S.SUBMITTED, A.CLAIM): S.IN_REVIEW,
    (S.RESUBMITTED, A.CLAIM): S.IN_REVIEW,
    (S.IN_REVIEW, A.RELEASE): S.SUBMITTED,
    **{
        (status, action): result
        for status in (S.SUBMITTED, S.RESUBMITTED, S.IN_REVIEW)
        for action, result in (
            (A.APPROVE, S.APPROVED),
            (A.REQUEST_CHANGES, S.CHANGES_REQUESTED),
        )
    },
}


@pytest.mark.parametrize(("status", "action"), list(itertools.product(Status, Action)))
def test_every_transition(status: Status, action: Action) -> None:
    if (status, action) in ALLOWED:
        assert next_status(status, action) is ALLOWED[status, action]
        assert action in allowed_actions(status)
    else:
        with pytest.raises(InvalidTransition) as info:
            next_status(status, action)
        assert (info.value.status, info.value.action) == (status, action)
        assert action not in allowed_actions(status)


def test_only_a_removal_is_final() -> None:
    assert {s for s in Status if not allowed_actions(s)} == FINAL == {S.REMOVED}


def test_waiting_statuses_are_those_a_reviewer_can_decide() -> None:
    assert frozenset({S.SUBMITTED, S.RESUBMITTED, S.IN_REVIEW}) == WAITING
    assert {s for s in Status if A.APPROVE in allowed_actions(s)} == WAITING


def test_editable_statuses_are_those_the_applicant_can_submit() -> None:
    assert frozenset({S.DRAFT, S.CHANGES_REQUESTED, S.REJECTED}) == EDITABLE
    assert {s for s in Status if A.SUBMIT in allowed_actions(s)} == EDITABLE


def test_a_removed_registration_cannot_be_resubmitted() -> None:
    with pytest.raises(InvalidTransition, match="submit"):
        next_status(S.REMOVED, A.SUBMIT)
