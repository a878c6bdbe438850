"""Notifications leave through the persisted outbox: Telegram and SMTP failing for a while,
with a restart in between, lose nothing and send nothing twice; a blocked user is recorded."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest
from conftest import (
    ADMIN_CHAT,
    REVIEWERS,
    BotHarness,
    Clock,
    Inbox,
    held_elsewhere,
    make_settings,
)
from journey import Applicant, fill_form, reach_form, submit

from bot.commit_barrier import CommittingMailer
from bot.factory import LedJobQueue
from bot.mailer import SmtpMailer
from bot.rules.models import Delivery, Registration


async def test_failures_and_a_restart_lose_nothing_and_double_nothing(
    tmp_path: Path, clock: Clock, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    settings = make_settings(
        tmp_path / "data", SMTP_HOST="127.0.0.1", SMTP_PORT=port, SMTP_TLS="none"
    )
    h = BotHarness(settings, clock)
    await h.start()
    try:
        applicant = await submit(h, 501_001)
        reviewer = h.kit.user(REVIEWERS[0])
        api = h.kit.api
        # Telegram rate-limits, errors and times out; the SMTP server is down.
        api.fail_next("sendMessage", "retry_after", chat_id=501_001, retry_after=30)
        api.fail_next("sendMessage", "server_error", chat_id=501_001)
        api.fail_next("sendMessage", "timeout", chat_id=501_001)
        smtp_settings = h.settings.model_copy(update={"SMTP_PORT": 1})
        mailer = h.services.mailer
        # Behind the commit barrier (nothing is mailed before its change is on disk).
        sending = mailer.inner if isinstance(mailer, CommittingMailer) else mailer
        assert isinstance(sending, SmtpMailer)
        sending.settings = smtp_settings
        await reviewer.send("/approve 501001-isv", chat=h.admin_group)
        job = h.app.job_queue.get_jobs_by_name("outbox")[0]

        def attempted() -> bool:
            stored = h.store.registrations.get("501001-isv")
            assert stored is not None
            return all(n.attempts >= 1 for n in stored.outbox if n.template == "approved")

        await job.run(h.app)  # or the run the decision triggered, whichever is first
        await h.until(attempted)
        stored = h.store.registrations.get("501001-isv")
        assert stored is not None
        chat, mail = (n for n in stored.outbox if n.template == "approved")
        assert chat.state is Delivery.PENDING and chat.last_error is not None
        assert mail.state is Delivery.PENDING and mail.attempts == 1

        await h.restart()  # the SMTP server is back with the new process's settings
        for _ in range(4):
            clock.advance(minutes=2)
            await h.deliver()
        told = [m for m in h.kit.messages(501_001) if "is approved" in m.text]
        assert len(told) == 1
        assert len(inbox.to(applicant.answers["admin_email"])) == 1
        stored = h.store.registrations.get("501001-isv")
        assert stored is not None and all(n.state is Delivery.SENT for n in stored.outbox)
        assert h.store.registrations.with_pending_notifications() == []
    finally:
        await h.stop()


async def test_a_user_who_blocked_the_bot_is_recorded_not_retried(
    harness: BotHarness,
) -> None:
    await submit(harness, 502)
    harness.kit.api.block(502)
    await harness.kit.user(REVIEWERS[0]).send("/approve 502-isv", chat=harness.admin_group)
    await harness.deliver()
    stored = harness.store.registrations.get("502-isv")
    assert stored is not None
    [chat] = [n for n in stored.outbox if n.template == "approved"]
    assert chat.state is Delivery.BLOCKED and chat.attempts == 1
    harness.clock.advance(days=1)
    await harness.deliver()
    stored = harness.store.registrations.get("502-isv")
    assert stored is not None
    assert next(n for n in stored.outbox if n.template == "approved").attempts == 1


async def test_cards_wait_while_the_bot_is_out_of_the_reviewers_group(
    harness: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    """403 from the reviewers' group is the bot removed from it, not a blocked user: the
    operators are told, and the card arrives once the bot is back."""
    group = harness.admin_group
    harness.kit.api.block(group.id)
    with caplog.at_level(logging.ERROR, logger="conversations.delivery"):
        await submit(harness, 503)  # the card's first attempt is made, and refused
    assert "add the bot back" in caplog.text
    stored = harness.store.registrations.get("503-isv")
    assert stored is not None
    [card] = [n for n in stored.outbox if n.template == "card"]
    assert card.state is Delivery.PENDING and card.attempts >= 1
    harness.kit.api.unblock(group.id)
    harness.clock.advance(hours=2)
    await harness.deliver()
    assert any(stored.number in m.text for m in harness.kit.messages(group.id))


async def test_a_submission_sends_its_card_at_once_without_reading_the_waiting_ones(
    harness: BotHarness, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The run a submission triggers looks at that registration only: with many cards
    waiting for their retry, each submission would otherwise read every one of them."""
    harness.kit.api.fail_next("sendMessage", "server_error", chat_id=ADMIN_CHAT)
    await submit(harness, 502_001)  # its card failed once and waits for its retry
    waiting = harness.store.registrations.get("502001-isv")
    assert waiting is not None and waiting.pending

    scans: list[int] = []
    repository = harness.store.registrations
    everything = repository.with_pending_notifications

    def counted() -> list[Registration]:
        scans.append(1)
        return everything()

    monkeypatch.setattr(repository, "with_pending_notifications", counted)
    user = harness.kit.user(502_002, language_code="en")
    await reach_form(user, "Third-party developer", zh=False)
    await fill_form(user, Applicant(502_002, zh=False), zh=False)
    await user.press("Submit for review")

    numbers = [r.number for r in (repository.get(f"{n}-isv") for n in (502_001, 502_002)) if r]
    posted = harness.kit.messages(harness.admin_group)
    assert any(numbers[1] in m.text for m in posted), "the new card went out at once"
    assert not any(numbers[0] in m.text for m in posted), "the waiting one waits"
    assert scans == []
    # The tick looks at every registration: the waiting card goes out once its time came.
    clock.advance(minutes=5)
    await harness.deliver()
    assert scans and any(numbers[0] in m.text for m in harness.kit.messages(harness.admin_group))


async def test_the_outbox_never_waits_for_an_applicant_another_process_holds(
    tmp_path: Path, clock: Clock, pg_url: str
) -> None:
    """Several processes on PostgreSQL: while another process handles the applicant's
    update (its open transaction holds them), the job leader's outbox sends their decision
    without waiting for them (a wait could close a deadlock, failing every update sharing
    its commit) and records it once they are free, sending nothing twice."""
    h = BotHarness(make_settings(tmp_path / "data", DATABASE_URL=pg_url), clock, shared=True)
    await h.start()
    try:
        await submit(h, 504)
        h.kit.api.fail_next("sendMessage", "server_error", chat_id=504)  # the first try
        await h.kit.user(REVIEWERS[0]).send("/approve 504-isv", chat=h.admin_group)
        await h.kit.settle()
        assert not [m for m in h.kit.messages(504) if "is approved" in m.text]

        clock.advance(minutes=2)
        jobs = h.app.job_queue
        outbox = jobs.get_jobs_by_name("outbox")[0]
        async with held_elsewhere(pg_url, 504):
            started = time.monotonic()
            await LedJobQueue.job_callback(jobs, outbox)  # as the scheduler runs it
            assert time.monotonic() - started < 2, "the outbox waited for the other process"
            assert len([m for m in h.kit.messages(504) if "is approved" in m.text]) == 1

        await LedJobQueue.job_callback(jobs, outbox)
        told = [m for m in h.kit.messages(504) if "is approved" in m.text]
        assert len(told) == 1, "sent again"
        stored = h.store.registrations.get("504-isv")
        assert stored is not None
        [chat] = [n for n in stored.outbox if n.template == "approved"]
        assert chat.state is Delivery.SENT and chat.message_id == told[0].message_id
    finally:
        await h.stop()
    assert h.kit.errors == []
