"""Several bot processes on one database, all handling updates (the ``Processes`` protocol).

Roles and claims are PostgreSQL advisory locks held by one connection per process (the
*session*): the server releases them when that connection ends, so a process that dies
gives up what it held within moments and another takes over, with nothing to clean up.

- The receiver (``RECEIVER_LOCK``): the one process polling Telegram.
- The job leader (``JOBS_LOCK``): the one process running the repeating jobs.
- A sender (``SENDER_LOCKS + user id``): the process handling that user's updates. It takes
  the oldest unhandled one, and the next only after that one's "handled" mark committed,
  so a user's updates are handled one at a time and in order, across processes.

News travels by ``NOTIFY`` inside the transaction that causes it (an update stored, a
decision waiting for the outbox), so it arrives only once there is something to see.
"""

from __future__ import annotations

import json
import os
from typing import Any

import psycopg
from psycopg.rows import TupleRow

Conn = psycopg.Connection[TupleRow]

#: The ``LISTEN``/``NOTIFY`` channel of the bot's processes.
CHANNEL = "onboarding_bot"
#: The one process polling Telegram.
RECEIVER_LOCK = 0x6F6E_0003
#: The one process running the repeating jobs (outbox, reminders, digest).
JOBS_LOCK = 0x6F6E_0004
#: Added to a user's id (< 2**53) for the lock on their updates: clear of the keys above.
SENDER_LOCKS = 1 << 60


def application_name() -> str:
    """How this process's connections are named in ``pg_stat_activity`` (operators, tests)."""
    return f"onboarding-bot {os.getpid()}"


class PostgresProcesses:
    """Roles, claims and news of one process; ``session`` is its own connection."""

    def __init__(self, conninfo: str, session: Conn, db: Any) -> None:
        self._conninfo = conninfo
        self._session = session
        self._db = db  # the storage's pool: nudges join the open group transaction
        self._roles: set[int] = set()
        self._held: set[int] = set()
        self._listener: psycopg.AsyncConnection[TupleRow] | None = None

    def _take(self, key: int) -> bool:
        if key not in self._roles:
            row = self._session.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()
            if row and row[0]:
                self._roles.add(key)
        return key in self._roles

    def receiving(self) -> bool:
        """Whether this process polls Telegram (taking the role when it is free)."""
        return self._take(RECEIVER_LOCK)

    def leading(self) -> bool:
        """Whether this process runs the repeating jobs (taking the role when free)."""
        return self._take(JOBS_LOCK)

    def claim(self, limit: int) -> list[dict[str, Any]]:
        """The oldest unhandled update of up to ``limit`` senders no process holds."""
        if limit <= 0:
            return []
        conn = self._session
        senders = [
            int(row[0])
            for row in conn.execute(
                "SELECT sender FROM (SELECT DISTINCT ON (sender) sender, update_id FROM inbox "
                "WHERE handled_at IS NULL ORDER BY sender, update_id) AS oldest "
                "WHERE NOT (sender = ANY(%s)) ORDER BY update_id LIMIT %s",
                (list(self._held), limit),
            ).fetchall()
        ]
        if not senders:
            return []
        # unnest yields each key once, so each lock is tried once and none taken unseen.
        taken = [
            int(row[0])
            for row in conn.execute(
                "SELECT k FROM unnest(%s::bigint[]) AS k WHERE pg_try_advisory_lock(%s + k)",
                (senders, SENDER_LOCKS),
            ).fetchall()
        ]
        if not taken:
            return []
        self._held.update(taken)
        # Read after locking: what the previous holder committed before letting go counts.
        rows = conn.execute(
            "SELECT DISTINCT ON (sender) sender, payload::text FROM inbox "
            "WHERE handled_at IS NULL AND sender = ANY(%s) ORDER BY sender, update_id",
            (taken,),
        ).fetchall()
        for sender in set(taken) - {int(row[0]) for row in rows}:
            self.release(sender)  # handled meanwhile by the process that held it
        return [json.loads(row[1]) for row in rows]

    def next_for(self, sender: int) -> dict[str, Any] | None:
        """The held sender's oldest unhandled update, or None."""
        row = self._session.execute(
            "SELECT payload::text FROM inbox WHERE handled_at IS NULL AND sender = %s "
            "ORDER BY update_id LIMIT 1",
            (sender,),
        ).fetchone()
        return None if row is None else json.loads(row[0])

    def release(self, sender: int) -> None:
        """Let go of a sender."""
        if sender in self._held:
            self._held.discard(sender)
            self._session.execute("SELECT pg_advisory_unlock(%s + %s)", (SENDER_LOCKS, sender))

    def nudge(self, topic: str) -> None:
        """``NOTIFY`` in the open transaction: delivered when it commits."""
        with self._db.connection() as conn:
            conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, topic))

    async def news(self, seconds: float) -> list[str]:
        """Topics nudged since the last call, waiting up to ``seconds`` for the first."""
        if self._listener is None:
            self._listener = await psycopg.AsyncConnection.connect(
                self._conninfo, autocommit=True, application_name=application_name()
            )
            await self._listener.execute(f"LISTEN {CHANNEL}")
        topics = [n.payload async for n in self._listener.notifies(timeout=seconds, stop_after=1)]
        # What else arrived meanwhile, without waiting.
        topics += [n.payload async for n in self._listener.notifies(timeout=0)]
        return topics

    def close(self) -> None:
        """Close the listener (the session belongs to the storage, which closes it)."""
        listener, self._listener = self._listener, None
        if listener is not None:
            # A sync close is fine: nothing awaits on it any more when the process stops.
            listener.pgconn.finish()
