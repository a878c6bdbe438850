"""Reviewer commands: queue with ages and pages, search, reveal (audited), reject with a
reason, export, stats, and the daily deadline digest."""

from __future__ import annotations

import asyncio
import csv
import io
import threading
from collections.abc import Iterator

import pytest
from conftest import REVIEWERS, BotHarness
from journey import Applicant, cards, fill_form, number, reach_form, submit

from bot.rules import form
from bot.rules.models import AuditEvent, Registration, Role, Status


async def test_queue_pages_ages_and_overdue_marks(harness: BotHarness) -> None:
    reviewer = harness.kit.user(REVIEWERS[0])
    group = harness.admin_group
    for n in range(12):
        await submit(harness, 400 + n)
    harness.clock.advance(days=3)  # Monday 2026-11-30 → Thursday: 3 working days
    page1 = await reviewer.send("/queue", chat=group)
    assert "共 12 个" in page1[-1].text and "第 1/2 页" in page1[-1].text
    assert "🔴" in page1[-1].text and "已超期" in page1[-1].text
    page2 = await reviewer.press("下一步 »", chat=group)
    assert page2[-1].edited and "第 2/2 页" in page2[-1].text
    opened = await reviewer.press(number(harness, 411), chat=group)
    assert "新的注册申请" in opened[-1].text


async def test_find_reveal_and_reject(harness: BotHarness) -> None:
    reviewer = harness.kit.user(REVIEWERS[0])
    group = harness.admin_group
    applicant = await submit(harness, 420)
    await submit(harness, 421)
    found = await reviewer.send("/find test 420", chat=group)
    shown = number(harness, 420)
    assert "找到 1 个" in found[-1].text and shown in found[-1].text
    by_code = await reviewer.send(f"/find {applicant.answers['credit_code'].lower()}", chat=group)
    assert shown in by_code[-1].text
    [card] = [c for c in cards(harness, "新的注册申请") if shown in c.text]
    revealed = await reviewer.press("👁 显示证件号", chat=group, message_id=card.message_id)
    # Privately to the reviewer who asked; the group is told, without the numbers.
    assert applicant.answers["legal_id_number"] in reviewer.messages()[-1].text
    assert "私信发送" in revealed[-1].text
    for message in harness.kit.messages(group):
        assert applicant.answers["legal_id_number"] not in message.text
        assert applicant.answers["admin_id_number"] not in message.text
    assert "revealed" in [e.action for e in harness.store.audit.for_subject("420-isv")]
    # A reviewer who never opened a private chat with the bot is told how to.
    harness.kit.api.block(REVIEWERS[1])
    other = harness.kit.user(REVIEWERS[1])
    pointed = await other.press("👁 显示证件号", chat=group, message_id=card.message_id)
    assert "私聊" in pointed[-1].text
    assert applicant.answers["legal_id_number"] not in pointed[-1].text
    ask = await reviewer.press("↩️ 退回修改", chat=group, message_id=card.message_id)
    await reviewer.reply_to(ask[-1].message_id, "Licence expired in 2020", group)
    await harness.deliver()
    registration = harness.store.registrations.get("420-isv")
    # Not passed, not the end: the applicant is told the reason and can fix and resubmit.
    assert registration is not None and registration.status is Status.CHANGES_REQUESTED
    told = harness.kit.user(420).messages()[-1]
    assert "needs changes" in told.text and "Licence expired in 2020" in told.text
    assert told.has_button("✏️ Fix it now")


async def test_export_and_stats(harness: BotHarness) -> None:
    reviewer = harness.kit.user(REVIEWERS[0])
    group = harness.admin_group
    await submit(harness, 430)
    await submit(harness, 431)
    harness.clock.advance(hours=5)
    await reviewer.send("/approve 430-isv", chat=group)
    exported = await reviewer.send("/export", chat=group)
    document = exported[-1].document
    assert document is not None and document["file_name"] == "registrations.csv"
    data = harness.kit.api.file(document["file_id"]).data.decode("utf-8-sig")
    rows = {row["number"]: row for row in csv.DictReader(io.StringIO(data))}
    first, second = number(harness, 430), number(harness, 431)
    assert rows[first]["status"] == "approved" and rows[second]["status"] == "submitted"
    assert "legal_id_number" not in data and "11010" not in data
    # China time to the second, as the chat shows times (the clock starts 02:00 UTC).
    assert rows[second]["submitted_at"].startswith("2026-11-30 10:00:")
    assert len(rows[second]["submitted_at"]) == len("2026-11-30 10:00:00")
    chart = await reviewer.send("/stats", chat=group)
    assert chart[-1].photo is not None
    assert "提交 2 次" in chart[-1].text and "中位时间：5.0 小时" in chart[-1].text


async def test_export_leaves_out_drafts_never_submitted(harness: BotHarness) -> None:
    """A draft is the applicant's until they submit it (and /delete removes it): its
    company, credit code and e-mail are not the reviewers' to download."""
    await submit(harness, 432)
    drafter = harness.kit.user(433, language_code="en")
    unsent = Applicant(433, zh=False)
    await reach_form(drafter, "Third-party developer", zh=False)
    await fill_form(drafter, unsent, zh=False)
    exported = await harness.kit.user(REVIEWERS[0]).send("/export", chat=harness.admin_group)
    document = exported[-1].document
    assert document is not None
    data = harness.kit.api.file(document["file_id"]).data.decode("utf-8-sig")
    assert number(harness, 432) in data
    for value in (
        number(harness, 433),
        unsent.answers["company_name"],
        unsent.answers["admin_email"],
    ):
        assert value not in data
    assert unsent.answers["credit_code"] not in data


async def test_daily_digest_lists_near_and_overdue(harness: BotHarness) -> None:
    await submit(harness, 440)
    job = harness.app.job_queue.get_jobs_by_name("review-digest")[0]
    before = len(harness.kit.messages(harness.admin_group))
    await job.run(harness.app)
    assert len(harness.kit.messages(harness.admin_group)) == before  # nothing due yet
    harness.clock.advance(days=2)  # Wednesday: 2 working days
    await job.run(harness.app)
    digest = harness.kit.last(harness.admin_group)
    assert "即将到期" in digest.text and number(harness, 440) in digest.text
    await harness.restart()
    assert harness.app.job_queue.get_jobs_by_name("review-digest")


async def test_a_long_export_does_not_hold_up_other_users(harness: BotHarness) -> None:
    """/export, /find and /stats read every user's file (seconds at 100k registrations):
    while one runs, an applicant is still answered."""
    reviewer = harness.kit.user(REVIEWERS[0])
    applicant = harness.kit.user(451, language_code="en")
    await submit(harness, 450)
    assert harness.storage is not None
    registrations = harness.storage.registrations
    scan = registrations.all
    started, answered = threading.Event(), threading.Event()

    def slow_scan() -> Iterator[Registration]:
        # The scan cannot finish before the applicant has been answered: were it run on
        # the event loop, the applicant's update could never be handled and this would hang.
        started.set()
        assert answered.wait(timeout=10), "the applicant was not answered during the scan"
        yield from scan()

    registrations.all = slow_scan  # type: ignore[method-assign]

    async def ask_for_help() -> None:
        await harness.until(started.is_set)
        await applicant.send("/help")
        assert harness.kit.messages(applicant.id)[-1].text
        answered.set()

    group = harness.admin_group
    for command, wanted in (("/export", "document"), ("/find Ltd", "text"), ("/stats", "photo")):
        answered.clear()
        await asyncio.gather(reviewer.send(command, chat=group), ask_for_help())
        assert getattr(harness.kit.messages(group)[-1], wanted), command


async def test_a_long_history_is_paged_and_every_event_reachable(harness: BotHarness) -> None:
    """40 change requests with long reasons overflowed Telegram's 4096 characters: the
    reviewer got an error instead of the trail. Now each page fits and buttons reach all."""
    h = harness
    await submit(h, 450)
    fields = {f.key: "x" for f in form.fields_for(Role.ISV)}
    for n in range(40):
        h.store.audit.append(
            AuditEvent(
                subject="450-isv",
                action="changes_requested",
                actor=REVIEWERS[0],
                at=h.clock(),
                detail={"reason": f"reason {n:02d} " + "很长的原因" * 80, "fields": fields},
            )
        )
    reviewer = h.kit.user(REVIEWERS[0])
    page = (await reviewer.send("/history 450-isv", chat=h.admin_group))[-1]
    seen = set()
    for _ in range(40):
        assert len(page.text) <= 4096
        seen |= {n for n in range(40) if f"reason {n:02d}" in page.text}
        if not page.has_button("« 上一页"):
            break
        data = page.callback_data("« 上一页")
        page = (await reviewer.press_data(data, page.message_id, chat=h.admin_group))[-1]
    assert seen == set(range(40))


async def test_a_failure_in_the_group_is_told_in_the_groups_terms(
    harness: BotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The group is not told to "send /apply" (that is the applicants' advice)."""
    h = harness

    def broken(registration_id: str) -> list[AuditEvent]:
        raise RuntimeError("storage went away")

    monkeypatch.setattr(h.services.review, "history", broken)
    h.kit.raise_errors = False
    try:
        said = await h.kit.user(REVIEWERS[0]).send("/history 1-isv", chat=h.admin_group)
    finally:
        h.kit.raise_errors = True
        errors, h.kit.errors[:] = list(h.kit.errors), []
    assert [type(e) for e in errors] == [RuntimeError]
    assert "something went wrong" in said[-1].text.lower() or "出了点问题" in said[-1].text
    assert "/apply" not in said[-1].text
