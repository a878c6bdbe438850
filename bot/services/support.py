"""Support tickets: one open ticket per user, the map from support-group messages to tickets,
and a per-user rate limit on what reaches the support group.

Tickets live in the key-value store as small documents (one per ticket, one per user, one
per support-group message), so an agent's reply to a message posted before a restart still
finds its ticket, and every lookup reads one document whatever the number of tickets. The
rate limit is kept in memory: it only has to hold for a minute.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from storage.protocols import KeyValueStore

Clock = Callable[[], datetime]

#: At most this many messages per user and window reach the support group; the support
#: group itself may receive about 20 messages a minute (Telegram's limit for a bot in one
#: group), shared by everyone.
RATE_LIMIT = 10
RATE_WINDOW = timedelta(minutes=1)

TICKETS = "support.tickets"  # ticket id -> Ticket
USERS = "support.users"  # user id -> {"open": ticket id or None, "tickets": [ids]}
LINKS = "support.links"  # "<chat id>:<message id>" in the support group -> ticket id
COUNTER = "support.counter"  # "last" -> the last ticket id given

#: Above this many users in the rate-limit memory, users idle for a window are forgotten.
_FORGET_ABOVE = 10_000


class TicketStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class ClosedBy(StrEnum):
    USER = "user"
    SUPPORT = "support"
    SYSTEM = "system"  # the support group could not be reached when it was opened


class Ticket(BaseModel):
    """One conversation between a user and the support team."""

    id: int
    user_id: int
    status: TicketStatus = TicketStatus.OPEN
    opened_at: datetime
    closed_at: datetime | None = None
    closed_by: ClosedBy | None = None
    # The ticket's first message in the support group; the user's messages are posted as
    # replies to it, so agents see which ticket each belongs to.
    header_chat_id: int | None = None
    header_message_id: int | None = None
    from_user: int = 0  # messages relayed from the user
    from_support: int = 0  # replies relayed to the user
    faq_answers: list[str] = Field(default_factory=list)  # FAQ entries sent as replies

    @property
    def is_open(self) -> bool:
        """Whether messages still flow both ways."""
        return self.status is TicketStatus.OPEN


def _link_key(chat_id: int, message_id: int) -> str:
    return f"{chat_id}:{message_id}"


class SupportDesk:
    """Opens, links and closes tickets; every change is durable when a method returns."""

    def __init__(
        self,
        kv: KeyValueStore,
        clock: Clock,
        *,
        limit: int = RATE_LIMIT,
        window: timedelta = RATE_WINDOW,
    ) -> None:
        self.kv = kv
        self.clock = clock
        self.limit = limit
        self.window = window
        self._recent: dict[int, deque[datetime]] = {}

    # -- reading ---------------------------------------------------------------------
    def get(self, ticket_id: int) -> Ticket | None:
        """A ticket by id."""
        data = self.kv.get(TICKETS, str(ticket_id))
        return None if data is None else Ticket.model_validate(data)

    def open_ticket(self, user_id: int) -> Ticket | None:
        """The user's open ticket, if any."""
        ticket_id = self._user(user_id)["open"]
        ticket = self.get(ticket_id) if ticket_id is not None else None
        # A crash between closing a ticket and updating the user's entry leaves the entry
        # pointing at a closed ticket: the ticket's own status decides.
        return ticket if ticket is not None and ticket.is_open else None

    def tickets_of(self, user_id: int) -> list[Ticket]:
        """Every ticket of a user, oldest first."""
        found = (self.get(ticket_id) for ticket_id in self._user(user_id)["tickets"])
        return [ticket for ticket in found if ticket is not None]

    def ticket_for(self, chat_id: int, message_id: int) -> Ticket | None:
        """The ticket a support-group message belongs to (None: not a ticket message)."""
        ticket_id = self.kv.get(LINKS, _link_key(chat_id, message_id))
        return self.get(int(ticket_id)) if ticket_id is not None else None

    # -- changing --------------------------------------------------------------------
    def open(self, user_id: int) -> tuple[Ticket, bool]:
        """The user's open ticket, opened now if there is none; True when it is new."""
        current = self.open_ticket(user_id)
        if current is not None:
            return current, False
        ticket_id = int(self.kv.get(COUNTER, "last") or 0) + 1
        self.kv.put(COUNTER, "last", ticket_id)
        ticket = Ticket(id=ticket_id, user_id=user_id, opened_at=self.clock())
        self._save(ticket)
        entry = self._user(user_id)
        entry["open"] = ticket_id
        entry["tickets"].append(ticket_id)
        self.kv.put(USERS, str(user_id), entry)
        return ticket, True

    def posted_header(self, ticket: Ticket, chat_id: int, message_id: int) -> Ticket:
        """Remember the ticket's first message in the support group."""
        ticket.header_chat_id, ticket.header_message_id = chat_id, message_id
        self._save(ticket)
        self.link(ticket, chat_id, message_id)
        return ticket

    def link(self, ticket: Ticket, chat_id: int, message_id: int) -> None:
        """Remember that a support-group message belongs to the ticket (agents reply to it)."""
        self.kv.put(LINKS, _link_key(chat_id, message_id), ticket.id)

    def relayed_from_user(self, ticket: Ticket) -> Ticket:
        """Count a user message that reached the support group."""
        ticket.from_user += 1
        return self._save(ticket)

    def relayed_to_user(self, ticket: Ticket) -> Ticket:
        """Count an agent's reply that reached the user."""
        ticket.from_support += 1
        return self._save(ticket)

    def answered_with(self, ticket: Ticket, key: str) -> Ticket:
        """Count an FAQ entry an agent sent the user, and remember which one."""
        ticket.from_support += 1
        ticket.faq_answers.append(key)
        return self._save(ticket)

    def close(self, ticket: Ticket, by: ClosedBy) -> Ticket:
        """Close the ticket; the user's messages stop going to the support group."""
        ticket.status = TicketStatus.CLOSED
        ticket.closed_at = self.clock()
        ticket.closed_by = by
        self._save(ticket)
        entry = self._user(ticket.user_id)
        if entry["open"] == ticket.id:
            entry["open"] = None
            self.kv.put(USERS, str(ticket.user_id), entry)
        return ticket

    def allow(self, user_id: int) -> bool:
        """Whether one more message of the user may go to the support group now (counts it)."""
        now = self.clock()
        recent = self._recent.setdefault(user_id, deque())
        while recent and now - recent[0] >= self.window:
            recent.popleft()
        if len(recent) >= self.limit:
            return False
        recent.append(now)
        if len(self._recent) > _FORGET_ABOVE:
            self._forget_idle(now)
        return True

    # -- internals -------------------------------------------------------------------
    def _forget_idle(self, now: datetime) -> None:
        idle = [
            u for u, times in self._recent.items() if not times or now - times[-1] >= self.window
        ]
        for user_id in idle:
            del self._recent[user_id]

    def _user(self, user_id: int) -> dict[str, Any]:
        entry = self.kv.get(USERS, str(user_id))
        return entry if isinstance(entry, dict) else {"open": None, "tickets": []}

    def _save(self, ticket: Ticket) -> Ticket:
        self.kv.put(TICKETS, str(ticket.id), ticket.model_dump(mode="json"))
        return ticket
