"""Probing who is registered: "already used" answers are limited per person and day, in the
registration form and in the profile's e-mail change alike."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.rules import validators
from bot.rules.models import Registration, Role, Status
from bot.services.profile import ProfileService
from storage.memory import MemoryStorage

NOW = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)


def test_the_profiles_email_change_is_no_oracle_for_who_is_registered() -> None:
    storage = MemoryStorage()
    profile = ProfileService(storage, lambda: NOW)
    mine = Registration(
        id=Registration.make_id(7, Role.ISV),
        user_id=7,
        role=Role.ISV,
        status=Status.APPROVED,
        answers={"admin_email": "me@example.com"},
        email_verified_at=NOW - timedelta(days=60),
        admin_confirmed_at=NOW - timedelta(days=60),
    )
    storage.registrations.save(mine)
    storage.unique.claim("email", "me@example.com", mine.id)
    for n in range(6):
        storage.unique.claim("email", f"victim{n}@example.com", f"{100 + n}-isv")
    codes = []
    for n in range(6):
        with pytest.raises(validators.Invalid) as refused:
            profile.start_change(7, mine.id, f"victim{n}@example.com")
        codes.append(refused.value.code)
    assert codes == ["unique.taken"] * 5 + ["unique.limit"]
    with pytest.raises(validators.Invalid) as refused:
        profile.start_change(7, mine.id, "free@example.com")  # refused alike: no oracle
    assert refused.value.code == "unique.limit"
