"""E-mail verification codes and the once-a-month change rule.

A 6-digit code is valid for 10 minutes. Wrong tries are counted across codes: asking for a
new code does not start the count again; 5 wrong tries lock codes for an hour, and the
count starts again after a lock or a right code. At most one code e-mail a minute and 5 a
day are sent (the address may be anyone's). Only a salted hash of the code is stored. Once
verified, the address can change at most once per calendar month (China time), as the
platform's guide says.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import date, datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel, Field

from bot.rules.workdays import china_date

CODE_DIGITS = 6
VALID_FOR = timedelta(minutes=10)
MAX_TRIES = 5
LOCK_FOR = timedelta(hours=1)
#: Code e-mails go to whatever address was typed: a short pause between them, and a cap.
SEND_INTERVAL = timedelta(minutes=1)
SENDS_PER_DAY = 5
_DAY = timedelta(days=1)


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
    tries: int = 0  # wrong tries since the last lock or right code, across codes
    locked_until: datetime | None = None
    sent: list[datetime] = Field(
        default_factory=list
    )  # when the codes of the last day were sent, this one included


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


def issue(
    purpose: Purpose, address: str, code: str, now: datetime, previous: EmailCheck | None = None
) -> EmailCheck:
    """The stored side of a code just sent; the wrong tries and the sending times of the
    ``previous`` code carry over (a lock that has ended starts the count again)."""
    salt = secrets.token_hex(16)
    lock_over = previous is not None and previous.locked_until is not None
    carried = previous if previous is not None and not lock_over else None
    recent = [t for t in previous.sent if now - t < _DAY] if previous is not None else []
    return EmailCheck(
        purpose=purpose,
        address=address,
        salt=salt,
        digest=_digest(salt, code),
        expires_at=now + VALID_FOR,
        tries=carried.tries if carried is not None else 0,
        sent=[*recent, now],
    )


def next_send_allowed(previous: EmailCheck | None, now: datetime) -> datetime | None:
    """None when a code e-mail may be sent now; else when the next one may."""
    if previous is None:
        return None
    recent = sorted(t for t in previous.sent if now - t < _DAY)
    if len(recent) >= SENDS_PER_DAY:
        return recent[-SENDS_PER_DAY] + _DAY
    if recent and now - recent[-1] < SEND_INTERVAL:
        return recent[-1] + SEND_INTERVAL
    return None


def locked(check: EmailCheck | None, now: datetime) -> bool:
    """Whether codes are locked out for this address right now."""
    return check is not None and check.locked_until is not None and now < check.locked_until


def attempt(check: EmailCheck, typed: str, now: datetime, elsewhere: int = 0) -> Outcome:
    """Check a typed code, counting wrong tries (the caller saves ``check``).

    ``elsewhere``: wrong tries on the account's other codes, which count towards the lock too
    (the lock is the account's: guessing in turn on several codes gains no tries)."""
    if locked(check, now):
        return Outcome.LOCKED
    if now >= check.expires_at:
        return Outcome.EXPIRED
    typed = "".join(typed.split())
    if hmac.compare_digest(_digest(check.salt, typed), check.digest):
        return Outcome.OK
    check.tries += 1
    if check.tries + elsewhere >= MAX_TRIES:
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
