"""The applicant journey's edges: uniqueness, stale buttons, commands mid-form, agreement
versions, reminders, large files, odd text."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from conftest import BotHarness
from journey import (
    JPEG,
    PDF,
    PNG,
    Applicant,
    answer_until,
    at_the_id_photos,
    fill_form,
    reach_form,
    reach_roles,
    texts,
)

from bot import factory
from bot.rules.idle import Due, IdleRules
from bot.rules.models import Registration
from bot.telegram_html import MAX_DOWNLOAD
from conversations.applicant import prompts


async def test_deep_link_source_is_stored(harness: BotHarness) -> None:
    user = harness.kit.user(101, language_code="en")
    await user.send("/start partner_campaign_7")
    account = harness.store.accounts.get(101)
    assert account is not None and account.source == "partner_campaign_7"


async def test_email_and_admin_id_are_unique_across_everyone(harness: BotHarness) -> None:
    first = harness.kit.user(111, language_code="en")
    second = harness.kit.user(112, language_code="en")
    a = Applicant(111, zh=False)
    await reach_form(first, "Third-party developer", zh=False)
    await fill_form(first, a, zh=False)
    b = Applicant(112, zh=False)
    b.answers["admin_email"] = "DEV111@example.com"  # the same address, other case
    b.answers["admin_account_id"] = a.answers["admin_account_id"]
    await reach_form(second, "Third-party developer", zh=False)
    clash = await fill_form(second, b, zh=False)
    said = texts(second.messages())
    assert "must be unique on the platform" in said
    # Nothing about who holds it.
    assert "111" not in texts(clash) and "Wei Zhang" not in texts(clash).split("Example")[0]
    registration = harness.store.registrations.get("112-isv")
    assert registration is not None
    assert "admin_email" not in registration.answers
    # One account may register another role, but not the same role twice.
    roles = await first.send("/apply")
    assert not any(b == "Third-party developer" for row in roles[-1].buttons for b in row)


async def test_an_old_button_pressed_again_changes_nothing(harness: BotHarness) -> None:
    user = harness.kit.user(121, language_code="en")
    await reach_form(user, "Platform partner", zh=False)
    choice_prompt = await user.send("Wei Zhang")
    old = choice_prompt[-1]
    await user.press("Mainland resident ID card")
    # Press "Other" on the old message: the field was answered already.
    replay = await user.press_data(
        old.callback_data("Other (passport, HK/Macau/Taiwan permit …)"), old.message_id
    )
    assert user.last_answer == "That button is out of date; here is the current step."
    assert "ID number" in texts(replay)
    registration = harness.store.registrations.get("121-partner")
    assert registration is not None and registration.answers["legal_id_type"] == "resident"
    # A forged callback for a field that does not exist.
    forged = await user.press_data("ap:choice:nonsense:1", old.message_id)
    assert "ID number" in texts(forged)


async def test_commands_mid_form_keep_the_place(harness: BotHarness) -> None:
    user = harness.kit.user(131, language_code="en")
    await reach_form(user, "Platform partner", zh=False)
    status = await user.send("/status")
    assert "Draft" in texts(status)
    assert "Help" in texts(await user.send("/help"))
    unknown = await user.send("/frobnicate")
    assert "can't be used in the middle of the form" in texts(unknown)
    assert "Step 1 of 17" in texts(unknown)
    registration = harness.store.registrations.get("131-partner")
    assert registration is not None and registration.cursor == "legal_name"
    # The form still takes the answer.
    assert "ID type" in texts(await user.send("Wei Zhang"))


@pytest.mark.parametrize(
    "typed",
    ["😀😀", "שלום עולם", "<script>alert(1)</script>", "**bold** _x_ `y`", "&amp; &lt;", "   "],
)
async def test_odd_text_is_answered_without_breaking_html(harness: BotHarness, typed: str) -> None:
    user = harness.kit.user(141, language_code="zh")
    await reach_form(user, "平台合作伙伴")
    answer = await user.send(typed)
    # The kit refuses HTML Telegram could not parse, so reaching here means it was valid.
    assert "第 1 步" in texts(answer)
    registration = harness.store.registrations.get("141-partner")
    assert registration is not None and "legal_name" not in registration.answers


async def test_html_in_an_accepted_answer_is_shown_as_typed(harness: BotHarness) -> None:
    user = harness.kit.user(142, language_code="en")
    await reach_form(user, "Platform partner", zh=False)
    applicant_ = Applicant(142, zh=False)
    applicant_.answers["description"] = (
        "We <b>build</b> R&D tools & ship them to 2,000 online shops."
    )
    summary = await fill_form(user, applicant_, zh=False)
    assert "We <b>build</b> R&D tools & ship them" in texts(summary)
    assert "&lt;b&gt;build&lt;/b&gt;" in summary[-1].source


async def test_a_file_over_20_mb_is_refused_before_download(harness: BotHarness) -> None:
    user = harness.kit.user(151, language_code="en")
    await at_the_id_photos(user)
    big = JPEG + bytes(MAX_DOWNLOAD)
    answer = await user.upload(big, file_name="huge.jpg", mime_type="image/jpeg")
    assert "too large" in texts(answer)
    assert harness.kit.api.calls("getFile") == []


@pytest.mark.parametrize("zh", [False, True])
async def test_a_file_where_a_button_or_text_is_asked_says_what_the_step_takes(
    harness: BotHarness, zh: bool
) -> None:
    """Found in the console: a file sent at a choice step was answered "this step needs
    text", and was downloaded first; now nothing is downloaded and the step says what it
    takes."""
    user = harness.kit.user(152 + zh, language_code="zh-hans" if zh else "en")
    await reach_form(user, "平台合作伙伴" if zh else "Platform partner", zh=zh)
    await user.send(Applicant(152, zh=zh).answers["legal_name"])  # now: the ID type (buttons)
    answer = await user.upload(JPEG, as_photo=True)
    wanted = "请点击下方的按钮进行选择" if zh else "Please choose with the buttons below"
    assert wanted in texts(answer)
    await user.press("中国大陆居民身份证" if zh else "Mainland resident ID card")
    answer = await user.upload(PDF, file_name="id.pdf", mime_type="application/pdf")
    wanted = "这一步需要输入文字作答" if zh else "This step needs a typed answer"
    assert wanted in texts(answer)  # the ID number is typed
    assert harness.kit.api.calls("getFile") == []


async def test_an_album_where_a_button_is_asked_gets_one_answer(harness: BotHarness) -> None:
    user = harness.kit.user(154, language_code="en")
    await reach_form(user, "Platform partner", zh=False)
    await user.send(Applicant(154, zh=False).answers["legal_name"])  # now: the ID type
    before = len(harness.kit.messages(user))
    await user.upload(JPEG, as_photo=True, media_group_id="album-2")
    await user.upload(PNG, as_photo=True, media_group_id="album-2")
    await harness.until(
        lambda: (
            len(harness.kit.messages(user)) > before
            and not harness.app.job_queue.get_jobs_by_name("album:album-2")
        )
    )
    answers = harness.kit.messages(user)[before:]
    assert len(answers) == 1, [a.text for a in answers]
    assert "Please choose with the buttons below" in answers[0].text
    assert "Received" not in answers[0].text
    assert harness.kit.api.calls("getFile") == []


async def test_a_new_agreement_version_is_accepted_again(
    harness: BotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = harness.kit.user(161, language_code="en")
    await reach_roles(user, zh=False)
    monkeypatch.setattr(factory, "agreement_version", lambda *_: "2027.1")
    await harness.restart()
    user = harness.kit.user(161)
    again = await user.send("/apply")
    assert "The agreement has changed" in texts(again)
    assert "Version 2027.1" in texts(again)
    roles = await user.press("I agree, continue")
    assert "Choose your developer role" in texts(roles)
    account = harness.store.accounts.get(161)
    assert account is not None and account.agreement_version == "2027.1"
    events = harness.store.audit.for_subject("account:161")
    assert [e.detail.get("version") for e in events if e.action == "agreement_accepted"] == [
        "2026.1",
        "2027.1",
    ]


async def test_a_long_agreement_is_paged(
    harness: BotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(prompts, "PAGE_CHARS", 600)
    user = harness.kit.user(171, language_code="en")
    await user.send("/apply")
    first = await user.press("Share my phone number")
    assert "page 1/" in texts(first)
    # Formatting survives the split: headings are bold, not shown as tags.
    assert "<b>" not in texts(first) and "<b>" in first[-1].source
    turned = await user.press("Next »")
    assert turned[-1].edited and "page 2/" in turned[-1].text
    back = await user.press("« Previous")
    assert "page 1/" in back[-1].text


async def test_an_idle_draft_gets_one_reminder(harness: BotHarness) -> None:
    user = harness.kit.user(181, language_code="en")
    await reach_form(user, "Platform partner", zh=False)
    await user.send("Wei Zhang")
    job = harness.app.job_queue.get_jobs_by_name("draft-reminders")[0]

    async def run_job() -> list[Any]:
        before = len(harness.kit.messages(user))
        await job.run(harness.app)
        return harness.kit.messages(user)[before:]

    harness.clock.advance(days=2, hours=23)
    assert await run_job() == []
    harness.clock.advance(hours=2)
    reminded = await run_job()
    assert len(reminded) == 1 and "isn't finished yet" in reminded[0].text
    harness.clock.advance(days=5)
    assert await run_job() == []  # one reminder per idle spell
    # Re-armed after a restart.
    await harness.restart()
    assert harness.app.job_queue.get_jobs_by_name("draft-reminders")


async def test_the_reminders_scan_does_not_hold_up_other_users(
    harness: BotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The hourly scan reads every draft (seconds at 100k): meanwhile others are answered."""
    user = harness.kit.user(182, language_code="en")
    other = harness.kit.user(183, language_code="en")
    await reach_form(user, "Platform partner", zh=False)
    await user.send("Wei Zhang")
    services = harness.services
    scan = services.registrations.idle
    started, answered = threading.Event(), threading.Event()

    def slow_scan(rules: IdleRules) -> dict[Due, list[Registration]]:
        # Were the scan on the event loop, the other user could not be answered: it fails.
        started.set()
        assert answered.wait(timeout=10), "nobody was answered during the scan"
        return scan(rules)

    monkeypatch.setattr(services.registrations, "idle", slow_scan)
    job = harness.app.job_queue.get_jobs_by_name("draft-reminders")[0]
    harness.clock.advance(days=4)

    async def meanwhile() -> None:
        await harness.until(started.is_set)
        await other.send("/help")
        answered.set()

    before = len(harness.kit.messages(user))
    await asyncio.gather(job.run(harness.app), meanwhile())
    assert len(harness.kit.messages(user)) == before + 1  # the reminder, after the scan


async def test_a_message_handed_over_again_is_not_taken_as_the_next_answer(
    harness: BotHarness,
) -> None:
    """After a restart Telegram hands over again what the bot had handled but not confirmed:
    the name typed for one field must not become the answer to the next one."""
    user = harness.kit.user(184, language_code="en")
    await reach_form(user, "Platform partner", zh=False)
    await user.send("Wei Zhang")
    before = harness.store.registrations.get("184-partner")
    assert before is not None and before.cursor == "legal_id_type"
    await harness.restart()
    again = await harness.kit.redeliver()
    after = harness.store.registrations.get("184-partner")
    assert after == before  # nothing stored, nothing moved
    assert "ID type" in texts(again) and "buttons" not in texts(again)  # where they are, no error
    # A new message is an answer as usual.
    await user.press("Mainland resident ID card")
    moved = harness.store.registrations.get("184-partner")
    assert moved is not None and moved.cursor == "legal_id_number"


async def test_retyping_an_address_in_other_letter_case_keeps_it_reserved(
    harness: BotHarness,
) -> None:
    """Found by the state machine: the old value was released after the new one (the same
    address in other case) was claimed, leaving the answer unreserved."""
    user = harness.kit.user(191, language_code="en")
    await reach_form(user, "Platform partner", zh=False)
    applicant_ = Applicant(191, zh=False)
    answers = applicant_.answers
    await user.send(answers["legal_name"])
    await user.press("Mainland resident ID card")
    await user.send(answers["legal_id_number"])
    await user.upload(JPEG, as_photo=True)
    await user.upload(PNG, as_photo=True)  # a resident ID card has two sides
    for key in ("company_name", "credit_code"):
        await user.send(answers[key])
    await user.upload(JPEG, as_photo=True)
    for key in ("business_scope", "licence_legal_rep", "description", "admin_name"):
        await user.send(answers[key])
    await user.press("Mainland resident ID card")
    await user.send(answers["admin_id_number"])
    await user.send(answers["admin_mobile"])
    await user.send("DEV191@example.com")
    await user.press("« Back")
    await user.send("dev191@example.com")
    assert harness.store.unique.owner("email", "dev191@example.com") == "191-partner"


async def test_probing_who_is_registered_is_limited(harness: BotHarness) -> None:
    """Someone types addresses to learn which are registered: after 5 "can't be used"
    answers in a day every new address is refused alike, taken or free, until the next
    day; the answer never names the holder."""
    owners = []
    for n in range(5):
        owner = harness.kit.user(120 + n, language_code="en")
        await reach_form(owner, "Third-party developer", zh=False)
        await answer_until(owner, Applicant(120 + n, zh=False), "admin_account_id")
        owners.append(f"dev{120 + n}@example.com")
    prober = harness.kit.user(130, language_code="en")
    await reach_form(prober, "Third-party developer", zh=False)
    await answer_until(prober, Applicant(130, zh=False), "admin_email")
    for address in owners:
        said = texts(await prober.send(address))
        assert "must be unique on the platform" in said and "12" not in said.split("\n")[0]
    limited = texts(await prober.send("free-address@example.com"))
    assert "for safety" in limited
    assert texts(await prober.send(owners[0])) == limited  # taken or free: the same answer
    harness.clock.advance(days=1, minutes=1)
    assert "Administrator id" in texts(await prober.send("free-address@example.com"))


@pytest.mark.parametrize("zh", [False, True])
async def test_submit_handed_over_again_says_it_is_submitted(harness: BotHarness, zh: bool) -> None:
    """Killed after the submission committed but before its answer left, the bot gets the
    press again (from Telegram, or from the process taking over): the applicant is told it
    is submitted, not that the button is old and shown the roles."""
    user = harness.kit.user(185, language_code="zh" if zh else "en")
    applicant_ = Applicant(185, zh=zh)
    await reach_form(user, "第三方开发者" if zh else "Third-party developer", zh=zh)
    await fill_form(user, applicant_, zh=zh)
    first = await user.press("🚀 提交审核" if zh else "🚀 Submit for review")
    registration = harness.store.registrations.get("185-isv")
    assert registration is not None and registration.status == "submitted"
    await harness.restart()
    again = await harness.kit.redeliver()
    said = texts(again)
    assert ("已提交审核" if zh else "Submitted for review") in said, said
    assert registration.number in said
    mine = [m for m in first if m.chat_id == user.id]
    assert texts(again) == texts(mine)  # the same answer as the first time
    assert harness.store.registrations.get("185-isv") == registration  # nothing changed
