"""The outbox: notifications are stored with the change that causes them and delivered
from there, retried with backoff until sent or refused for good. A chat message (a card,
its documents, a decision) is never given up on a passing failure: Telegram or the group
comes back, and the message must arrive then. An e-mail is given up after MAX_ATTEMPTS
(an address can be wrong for good, and the chat has told the person already).

Only the bookkeeping lives here (which are due, what an attempt came to, saved); sending
is done by ``conversations.delivery``, which knows Telegram and SMTP.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from bot.rules import form
from bot.rules.models import Channel, Delivery, Notification, Registration
from storage.protocols import HeldElsewhere, RegistrationRepository

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]

#: First retry after this long, doubling each time, never more than MAX_BACKOFF apart.
FIRST_BACKOFF = timedelta(seconds=5)
MAX_BACKOFF = timedelta(hours=1)
#: After this many failed attempts an e-mail is given up (and logged).
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


def card_with_documents(
    registration: Registration, recipient: str, now: datetime
) -> list[Notification]:
    """The reviewers' card and, queued in the same write, each uploaded document, which
    waits for the card (it is sent as a reply to it)."""
    card = notification(registration, "card", Channel.CHAT, recipient, now)
    return [card, *_documents(registration, card, now)]


def due(registration: Registration, now: datetime) -> list[Notification]:
    """Pending notifications whose next attempt has come (a document once its card is no
    longer pending)."""
    waiting = {n.id for n in registration.pending}
    return [
        n
        for n in registration.pending
        if n.next_attempt_at <= now and n.params.get("after") not in waiting
    ]


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
    if permanent or (note.channel is Channel.EMAIL and note.attempts >= MAX_ATTEMPTS):
        note.state = Delivery.FAILED
        return
    backoff = min(FIRST_BACKOFF * 2 ** (note.attempts - 1), MAX_BACKOFF)
    note.next_attempt_at = now + max(backoff, retry_after or timedelta(0))


@dataclass(frozen=True)
class Outcome:
    """What one attempt to deliver a notification came to: ``sent``; ``blocked`` (the
    recipient blocked the bot); ``retry`` after ``detail`` (a timedelta, Telegram's 429);
    ``transient`` or ``permanent`` failure with ``detail`` as the error."""

    kind: Literal["sent", "blocked", "retry", "transient", "permanent"]
    detail: Any = None


class Deliveries:
    """The outbox's bookkeeping over storage: which notifications are due, and what each
    attempt came to, saved on a fresh copy of its registration."""

    def __init__(self, registrations: RegistrationRepository, clock: Clock) -> None:
        self._registrations = registrations
        self._clock = clock

    def due(self, registration_id: str | None = None) -> Iterator[tuple[str, Notification]]:
        """(registration id, notification) for every notification whose time has come; of
        one registration only when ``registration_id`` is given."""
        if registration_id is None:
            registrations = self._registrations.with_pending_notifications()
        else:
            one = self._registrations.get(registration_id)
            registrations = [] if one is None else [one]
        for registration in registrations:
            for note in due(registration, self._clock()):
                yield registration.id, note

    def record(
        self, registration_id: str, note_id: str, outcome: Outcome, message_id: int | None
    ) -> bool:
        """Save what happened to one notification; False when another process holds the
        registration's user at this moment (it is handling their update), to be recorded
        at the next run. Re-read first: handlers may have changed the registration while it
        was being sent. A sent card is followed by each uploaded document as a
        notification of its own (own retries)."""
        try:
            self._record(registration_id, note_id, outcome, message_id)
        except HeldElsewhere:
            log.info("notification %s: recorded at the next run (user busy)", note_id)
            return False
        return True

    def _record(
        self, registration_id: str, note_id: str, outcome: Outcome, message_id: int | None
    ) -> None:
        fresh = self._registrations.get(registration_id)
        if fresh is None:
            return
        current = next((n for n in fresh.outbox if n.id == note_id), None)
        if current is None:
            return
        now = self._clock()
        if outcome.kind == "sent":
            sent(current, now, message_id)
            if current.template == "card" and message_id is not None:
                fresh.card_message_id = message_id
                _queue_documents(fresh, current, now)
        elif outcome.kind == "blocked":
            blocked(current, outcome.detail)
            log.info("notification %s: the recipient blocked the bot", note_id)
        elif outcome.kind == "retry":
            failed(current, now, "429 Too Many Requests", retry_after=outcome.detail)
        else:
            failed(current, now, outcome.detail, permanent=outcome.kind == "permanent")
            log.warning(
                "notification %s failed (attempt %d): %s", note_id, current.attempts, outcome.detail
            )
        self._registrations.save(fresh)


def _queue_documents(registration: Registration, card: Notification, now: datetime) -> None:
    """After a card, each uploaded document follows as its own notification (already
    queued with the card since it was written; this covers cards queued before that)."""
    add(registration, *_documents(registration, card, now))


def _documents(registration: Registration, card: Notification, now: datetime) -> list[Notification]:
    return [
        notification(
            registration,
            f"document-{field.key}",
            Channel.CHAT,
            card.recipient,
            now,
            field=field.key,
            after=card.id,
        )
        for field in form.fields_for(registration.role)
        if field.kind is form.Kind.DOCUMENT
        and isinstance(registration.answers.get(field.key), dict)
    ]
