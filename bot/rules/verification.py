"""E-mail verification codes and the once-a-month change rule.

A 6-digit code is valid for 10 minutes; 5 wrong tries lock the address for an hour. Only
a salted hash of the code is stored. Once verified, the address can change at most once
per calendar month (China time), as the platform's guide says.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import date, datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel

from bot.rules.workdays import china_date

CODE_DIGITS = 6
VALID_FOR = timedelta(minutes=10)
MAX_TRIES = 5
LOCK_FOR = timedelta(hours=1)


class Purpose(StrEnum):
    VERIFY = "verify"  # prove the current address receives mail
    CHANGE = "change"  # prove a new address before it replaces the old one


class EmailCheck(BaseModel):
    """A code sent to ``address``, waiting to be typed back."""

    purpose: Purpose
    address: str
    salt: str
    digest: str
    expires_at: datetime
    tries: int = 0
    locked_until: datetime | None = None


class Outcome(StrEnum):
    OK = "ok"
    WRONG = "wrong"
    EXPIRED = "expired"
    LOCKED = "locked"


def new_code() -> str:
    """A uniformly random 6-digit code."""
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def _digest(salt: str, code: str) -> str:
    return hmac.new(salt.encode(), code.encode(), hashlib.sha256).hexdigest()


def issue(purpose: Purpose, address: str, code: str, now: datetime) -> EmailCheck:
    """The stored side of a code just sent."""
    salt = secrets.token_hex(16)
    return EmailCheck(
        purpose=purpose,
        address=address,
        salt=salt,
        digest=_digest(salt, code),
        expires_at=now + VALID_FOR,
    )


def locked(check: EmailCheck | None, now: datetime) -> bool:
    """Whether codes are locked out for this address right now."""
    return check is not None and check.locked_until is not None and now < check.locked_until


def attempt(check: EmailCheck, typed: str, now: datetime) -> Outcome:
    """Check a typed code, counting wrong tries (the caller saves ``check``)."""
    if locked(check, now):
        return Outcome.LOCKED
    if now >= check.expires_at:
        return Outcome.EXPIRED
    typed = "".join(typed.split())
    if hmac.compare_digest(_digest(check.salt, typed), check.digest):
        return Outcome.OK
    check.tries += 1
    if check.tries >= MAX_TRIES:
        check.locked_until = now + LOCK_FOR
        return Outcome.LOCKED
    return Outcome.WRONG


def next_change_allowed(last_change: datetime | None, now: datetime) -> date | None:
    """None when the address may change now; else the first day it may (next month)."""
    if last_change is None:
        return None
    last, today = china_date(last_change), china_date(now)
    if (last.year, last.month) != (today.year, today.month):
        return None
    return date(last.year + last.month // 12, last.month % 12 + 1, 1)
