"""The bot's background work, as the kit waits for it: the jobs of its job queue.

A handler may leave work to a job (the outbox sends a decision "now", in a job of its own,
while the handler answers). An action of the kit waits until that work is done, so what an
action returns holds what the jobs it started sent, and nothing they send lands in the next
action's answer. Jobs due later (a timer, an album's wait) are not waited for: tests move
on, or wait for them (``BotHarness.until``) as people would.
"""

import asyncio
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, EVENT_JOB_SUBMITTED, JobEvent
from apscheduler.schedulers.base import STATE_RUNNING
from apscheduler.triggers.date import DateTrigger
from telegram.ext import JobQueue

#: Longer than any job of the bot takes (the outbox leaves its lanes after 10 s).
SETTLE_TIMEOUT = 30.0
_POLL = 0.005  # seconds between looks


class JobWatch:
    """Which jobs of one job queue are running now (APScheduler's job events)."""

    def __init__(self, job_queue: JobQueue[Any]) -> None:
        self._scheduler = job_queue.scheduler
        self._running: Counter[str] = Counter()
        self._scheduler.add_listener(
            self._on_event, EVENT_JOB_SUBMITTED | EVENT_JOB_EXECUTED | EVENT_JOB_ERROR
        )

    def _on_event(self, event: JobEvent) -> None:
        if event.code == EVENT_JOB_SUBMITTED:
            self._running[event.job_id] += 1
            return
        self._running[event.job_id] -= 1
        if self._running[event.job_id] <= 0:
            del self._running[event.job_id]

    def busy(self) -> bool:
        """Whether a job runs, or a one-off job is due and about to start (a paused or
        stopped scheduler starts none: ``BotHarness.jobs_held``)."""
        if self._running:
            return True
        if self._scheduler.state != STATE_RUNNING:
            return False
        now = datetime.now(UTC)
        return any(
            isinstance(job.trigger, DateTrigger)
            and job.next_run_time is not None
            and job.next_run_time <= now
            for job in self._scheduler.get_jobs()
        )

    async def settle(self) -> None:
        """Wait until no job runs or is about to; TimeoutError after SETTLE_TIMEOUT."""
        for _ in range(int(SETTLE_TIMEOUT / _POLL)):
            if not self.busy():
                return
            await asyncio.sleep(_POLL)
        raise TimeoutError(f"the bot's jobs still run after {SETTLE_TIMEOUT} s: {self._running}")
