"""The outbox: notifications are stored with the change that causes them and delivered
from there, retried with backoff until sent, refused for good, or given up.

Only the bookkeeping lives here (which are due, what a failure means); sending is done by
``conversations.delivery``, which knows Telegram and SMTP.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.rules.models import Channel, Delivery, Notification, Registration

#: First retry after this long, doubling each time, never more than MAX_BACKOFF apart.
FIRST_BACKOFF = timedelta(seconds=5)
MAX_BACKOFF = timedelta(hours=1)
#: After this many failed attempts a notification is given up (and logged).
MAX_ATTEMPTS = 20


def notification(
    registration: Registration,
    kind: str,
    channel: Channel,
    recipient: str,
    now: datetime,
    *,
    key: str | None = None,
    **params: str | int | None,
) -> Notification:
    """A new pending notification about a registration, unique per round, kind and channel
    (and ``key``, for kinds that happen more than once a round)."""
    return Notification(
        id=f"{registration.id}:{registration.round}:{key or kind}:{channel.value}",
        channel=channel,
        template=kind,
        recipient=recipient,
        params={"registration": registration.id, **params},
        next_attempt_at=now,
    )


def add(registration: Registration, *notes: Notification) -> None:
    """Queue notifications on the registration (saved with it, in the same write)."""
    known = {n.id for n in registration.outbox}
    registration.outbox.extend(n for n in notes if n.id not in known)


def due(registration: Registration, now: datetime) -> list[Notification]:
    """Pending notifications whose next attempt has come."""
    return [n for n in registration.pending if n.next_attempt_at <= now]


def sent(note: Notification, now: datetime, message_id: int | None = None) -> None:
    """Record a delivery."""
    note.state = Delivery.SENT
    note.sent_at = now
    note.attempts += 1
    note.last_error = None
    note.message_id = message_id


def blocked(note: Notification, error: str) -> None:
    """The recipient blocked the bot: recorded, never retried."""
    note.state = Delivery.BLOCKED
    note.attempts += 1
    note.last_error = error


def failed(
    note: Notification,
    now: datetime,
    error: str,
    *,
    retry_after: timedelta | None = None,
    permanent: bool = False,
) -> None:
    """Record a failed attempt and when to try again (Telegram's retry_after wins)."""
    note.attempts += 1
    note.last_error = error[:300]
    if permanent or note.attempts >= MAX_ATTEMPTS:
        note.state = Delivery.FAILED
        return
    backoff = min(FIRST_BACKOFF * 2 ** (note.attempts - 1), MAX_BACKOFF)
    note.next_attempt_at = now + max(backoff, retry_after or timedelta(0))
