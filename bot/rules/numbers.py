"""Public registration numbers: what applicants, administrators and reviewers see and type.

A registration is stored under ``<Telegram user id>-<role>``; that key never reaches a
person, because it would tell anyone who reads a card, an export or a forwarded link who
the applicant is on Telegram. People get a number like ``K7M2-X9QD`` instead:

- random, not sequential: it tells nothing about the applicant nor how many registrations
  there are, and needs no counter shared by the bot's processes (uniqueness is the
  stores', which draw again on a collision);
- 8 symbols of Crockford's base32 (digits and letters without I, L, O, U), shown as two
  groups of four: short to type, and read aloud or retyped without ambiguity. Typed input
  is forgiving: any case, with or without the hyphen or spaces, O read as 0, I and L as 1.

40 bits: a collision is drawn again; guessing one is pointless (a number grants nothing,
the administrator's link carries its own secret).
"""

from __future__ import annotations

import re
import secrets

#: Crockford's base32 alphabet. The PostgreSQL migration that backfilled numbers spells
#: the same alphabet and format (``storage/postgres/migrations.py``).
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
LENGTH = 8
_TYPED = str.maketrans({"O": "0", "I": "1", "L": "1"})
_FORMAT = re.compile(rf"[{ALPHABET}]{{4}}-[{ALPHABET}]{{4}}")


def new() -> str:
    """A fresh random number, e.g. ``K7M2-X9QD`` (the store checks it is free)."""
    symbols = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    return f"{symbols[:4]}-{symbols[4:]}"


def canonical(typed: str) -> str | None:
    """The number ``typed`` means, as it is stored and shown; None when it is none."""
    symbols = re.sub(r"[\s-]", "", typed).upper().translate(_TYPED)
    if len(symbols) != LENGTH:
        return None
    number = f"{symbols[:4]}-{symbols[4:]}"
    return number if is_number(number) else None


def is_number(text: str) -> bool:
    """Whether ``text`` is a number exactly as stored (``new``'s format)."""
    return _FORMAT.fullmatch(text) is not None
