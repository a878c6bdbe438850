"""Wrong e-mail codes lock the account, not one registration: another approved registration
of the same account gets no code and checks no guess until the lock ends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.rules import verification
from bot.rules.models import Registration, Role, Status
from bot.services.profile import ProfileService, Refused
from storage.memory import MemoryStorage

NOW = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)


def approved(storage: MemoryStorage, role: Role) -> Registration:
    registration = Registration(
        id=Registration.make_id(7, role),
        user_id=7,
        role=role,
        status=Status.APPROVED,
        answers={"admin_email": f"{role.value}@example.com"},
    )
    storage.registrations.save(registration)
    return registration


def test_a_lock_on_one_registration_holds_for_the_others() -> None:
    storage = MemoryStorage()
    clock = [NOW]
    profile = ProfileService(storage, lambda: clock[0])
    first, second = approved(storage, Role.ISV), approved(storage, Role.PARTNER)
    profile.start_verification(7, second.id)
    _, code = profile.start_verification(7, first.id)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(verification.MAX_TRIES):
        profile.confirm(7, first.id, wrong)
    with pytest.raises(Refused) as refused:
        profile.start_verification(7, second.id)
    assert refused.value.code == "profile.locked"
    with pytest.raises(Refused):
        profile.confirm(7, second.id, "123456")  # the earlier code is not checked either
    clock[0] = NOW + verification.LOCK_FOR + timedelta(minutes=1)
    assert profile.start_verification(7, second.id)[1]


def test_wrong_tries_spread_over_registrations_lock_the_account() -> None:
    """Guessing in turn on each registration's code gets no more tries than on one."""
    storage = MemoryStorage()
    profile = ProfileService(storage, lambda: NOW)
    first, second = approved(storage, Role.ISV), approved(storage, Role.PARTNER)
    _, code_a = profile.start_verification(7, first.id)
    _, code_b = profile.start_verification(7, second.id)
    wrong = next(c for c in ("000000", "111111", "222222") if c not in (code_a, code_b))
    outcomes = [
        profile.confirm(7, (first, second)[n % 2].id, wrong)[0]
        for n in range(verification.MAX_TRIES)
    ]
    assert outcomes[-2] is verification.Outcome.WRONG
    assert outcomes[-1] is verification.Outcome.LOCKED
    assert profile.tries_left(7) == 0
    # The right codes are no longer taken, on either registration.
    assert profile.confirm(7, first.id, code_a)[0] is verification.Outcome.LOCKED
    with pytest.raises(Refused) as refused:
        profile.confirm(7, second.id, code_b)
    assert refused.value.code == "profile.locked"
