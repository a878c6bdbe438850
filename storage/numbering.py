"""The number a registration is saved with (``RegistrationRepository.save``), for every store.

Each store answers who holds a number from its own index; PostgreSQL's unique index also
settles two processes drawing the same fresh number at once.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.rules import numbers
from bot.rules.models import Registration
from storage.protocols import NumberTaken


def assign(
    registration: Registration,
    stored: str | None,
    holder: Callable[[str], str | None],
    *,
    unique_index: bool = False,
) -> str:
    """The number to save ``registration`` with, also set on it: the one stored for it
    before (``stored``), else its own, else a fresh one no other registration holds
    (``holder``: the id of the registration holding a number, or None).

    ``unique_index``: the store's write itself refuses a number another registration holds
    (PostgreSQL), so a number the registration already carries is not looked up first (a
    round trip on every save of a numbered registration)."""
    given = registration.number or None
    if stored is not None and given not in (None, stored):
        raise ValueError(f"registration {registration.id} has number {stored}, not {given}")
    if stored is None and given is not None:
        if not numbers.is_number(given):
            raise ValueError(f"not a registration number: {given!r}")
        if not unique_index and holder(given) not in (None, registration.id):
            raise NumberTaken(given)
    number = stored or given
    while number is None:
        drawn = numbers.new()
        number = drawn if holder(drawn) is None else None
    registration.number = number
    return number
