"""When an idle registration's applicant is reminded, warned, and (drafts) expired."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.rules.idle import Due, IdleRules, due, expires_on
from bot.rules.models import Registration, Role, Status

START = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)
RULES = IdleRules(
    remind_after=timedelta(days=3), expire_after=timedelta(days=30), warn_before=timedelta(days=3)
)


def registration(status: Status = Status.DRAFT, **fields: object) -> Registration:
    return Registration(
        id="1-isv", user_id=1, role=Role.ISV, status=status, updated_at=START, **fields
    )


def at(days: float) -> datetime:
    return START + timedelta(days=days)


def test_a_draft_is_reminded_then_warned_then_expired() -> None:
    draft = registration()
    assert due(draft, at(2.9), RULES) is None
    assert due(draft, at(3), RULES) is Due.REMIND
    draft.reminded_at = at(3)
    assert due(draft, at(26.9), RULES) is None
    assert due(draft, at(27), RULES) is Due.WARN
    draft.expiry_warned_at = at(27)
    assert due(draft, at(29.9), RULES) is None
    assert due(draft, at(30), RULES) is Due.EXPIRE


def test_the_expiry_never_comes_sooner_than_the_warning_promised() -> None:
    draft = registration(expiry_warned_at=at(45))  # the bot was down for weeks
    assert due(draft, at(47.9), RULES) is None
    assert due(draft, at(48), RULES) is Due.EXPIRE
    assert expires_on(draft, at(45), RULES) == at(48)


def test_activity_after_the_warning_starts_a_new_idle_spell() -> None:
    draft = registration(expiry_warned_at=at(27))
    draft.updated_at = at(28)
    assert due(draft, at(31), RULES) is Due.REMIND
    assert due(draft, at(55), RULES) is Due.WARN


def test_fixes_are_reminded_but_never_expire() -> None:
    fix = registration(Status.CHANGES_REQUESTED)
    assert due(fix, at(3), RULES) is Due.REMIND
    fix.reminded_at = at(3)
    assert due(fix, at(300), RULES) is None


@pytest.mark.parametrize("status", [Status.SUBMITTED, Status.APPROVED, Status.REMOVED])
def test_nothing_is_owed_for_registrations_the_applicant_cannot_move(status: Status) -> None:
    assert due(registration(status), at(365), RULES) is None


def test_drafts_may_be_kept_for_ever() -> None:
    rules = IdleRules(timedelta(days=3), None, timedelta(days=3))
    draft = registration(reminded_at=at(3))
    assert due(draft, at(3650), rules) is None


def test_the_warning_must_come_before_the_expiry() -> None:
    with pytest.raises(ValueError, match="before the expiry"):
        IdleRules(timedelta(days=3), timedelta(days=3), timedelta(days=3))
