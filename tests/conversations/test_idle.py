"""Idle registrations: reminders of drafts and of waiting fixes (with the reasons), and
drafts that expire after a warning, freeing their e-mail address and administrator id.
The clock is moved; the hourly job is run as its timer would."""

from __future__ import annotations

from conftest import REVIEWERS, BotHarness
from journey import Applicant, answer_until, reach_form, submit, texts

from bot.offline import Person
from bot.offline.records import BotMessage
from bot.rules.models import Role


async def run_job(harness: BotHarness, user: Person) -> list[BotMessage]:
    """The hourly job once; what it told ``user``."""
    before = len(harness.kit.messages(user))
    await harness.run_job("draft-reminders")
    return harness.kit.messages(user)[before:]


async def warned_after(harness: BotHarness, uid: int, days: int) -> Person:
    """An applicant with a one-answer draft, warned of its expiry after ``days`` idle."""
    user = harness.kit.user(uid, language_code="en")
    await reach_form(user, "Platform partner", zh=False)
    await user.send("Wei Zhang")
    harness.clock.advance(days=days)
    [warning] = await run_job(harness, user)
    assert "deleted on" in warning.text
    return user


async def test_a_waiting_fix_is_reminded_once_with_its_reasons(harness: BotHarness) -> None:
    h = harness
    await submit(h, 601)
    applicant = h.kit.user(601)
    reviewer = h.kit.user(REVIEWERS[0], language_code="zh")
    await reviewer.send("/reject 601-isv 营业执照已过期，请上传最新的营业执照", chat=h.admin_group)
    await h.deliver()
    h.clock.advance(days=2, hours=23)
    assert await run_job(h, applicant) == []
    h.clock.advance(hours=2)
    [reminded] = await run_job(h, applicant)
    assert "waiting for your changes" in reminded.text
    assert "营业执照已过期" in reminded.text
    assert reminded.has_button("✏️ Fix it now")
    h.clock.advance(days=10)
    assert await run_job(h, applicant) == []  # once per idle spell
    # A fix is never deleted: it is part of the review record.
    assert h.store.registrations.get("601-isv") is not None
    summary = await applicant.press("✏️ Fix it now", message_id=reminded.message_id)
    assert "Please check your registration" in texts(summary)


async def test_an_idle_draft_expires_after_a_warning_and_frees_its_address(
    harness: BotHarness,
) -> None:
    h = harness
    squatter = h.kit.user(611, language_code="en")
    victim = h.kit.user(612, language_code="en")
    held = Applicant(611, zh=False, role=Role.PARTNER)
    await reach_form(squatter, "Platform partner", zh=False)
    await answer_until(squatter, held, "admin_account_id")  # the e-mail is reserved now
    address = held.answers["admin_email"]
    assert h.store.unique.owner("email", address) == "611-partner"
    uploads = h.settings.DATA_DIR / "files" / f"{611 % 256:02x}" / "611"
    assert len(list(uploads.glob("*"))) == 3  # ID front and back, licence

    h.clock.advance(days=26, hours=23)
    before_warning = await run_job(h, squatter)
    assert all("deleted on" not in m.text for m in before_warning)
    h.clock.advance(hours=2)
    [warning] = await run_job(h, squatter)
    assert "deleted on" in warning.text
    # Still reserved until the expiry.
    assert h.store.unique.owner("email", address) == "611-partner"
    h.clock.advance(days=2, hours=23)
    assert await run_job(h, squatter) == []
    h.clock.advance(hours=2)
    [expired] = await run_job(h, squatter)
    assert "was deleted after 30 days" in expired.text
    assert h.store.registrations.get("611-partner") is None
    assert h.store.unique.owner("email", address) is None
    assert h.store.unique.owner("admin_id", held.answers["admin_account_id"]) is None
    assert "draft_expired" in [e.action for e in h.store.audit.for_subject("611-partner")]
    assert not any(uploads.glob("*"))

    # The address is someone else's to use now.
    mine = Applicant(612, zh=False, role=Role.PARTNER)
    mine.answers["admin_email"] = address
    await reach_form(victim, "Platform partner", zh=False)
    await answer_until(victim, mine, "admin_account_id")
    assert h.store.unique.owner("email", address) == "612-partner"


async def test_coming_back_after_the_warning_keeps_the_draft(harness: BotHarness) -> None:
    h = harness
    user = await warned_after(h, 621, days=28)
    await user.send("/apply")
    await user.press("Mainland resident ID card")  # the applicant moves on
    h.clock.advance(days=5)
    messages = await run_job(h, user)
    assert all("was deleted" not in m.text for m in messages)
    assert h.store.registrations.get("621-partner") is not None


async def test_no_draft_expires_sooner_than_the_warning_promised(harness: BotHarness) -> None:
    """The bot was down while the warning fell due: sent late, the expiry moves with it."""
    h = harness
    user = await warned_after(h, 631, days=40)
    h.clock.advance(days=2, hours=23)
    assert await run_job(h, user) == []
    assert h.store.registrations.get("631-partner") is not None
    h.clock.advance(hours=2)
    [expired] = await run_job(h, user)
    assert "was deleted" in expired.text
