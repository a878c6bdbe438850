"""After approval: the profile, e-mail verification by code (a real SMTP server on
127.0.0.1), the once-a-month change rule, and the phone handover."""

from __future__ import annotations

from conftest import BotHarness, Inbox
from journey import approved, last_code, number, texts


async def test_profile_shows_what_was_registered(mail_harness: BotHarness) -> None:
    user, email = await approved(mail_harness, 601)
    profile = await user.send("/profile")
    shown = texts(profile)
    assert "Developer profile" in shown and number(mail_harness, 601) in shown
    assert f"{email} (not verified)" in shown
    assert "Legal representative" in shown and "Enterprise" in shown and "Administrator" in shown
    registration = mail_harness.store.registrations.get("601-isv")
    assert registration is not None
    assert registration.answers["admin_id_number"] not in shown  # masked
    assert registration.answers["admin_id_number"][-4:] in shown


async def test_verification_right_wrong_expired_and_locked(
    mail_harness: BotHarness, smtp: tuple[Inbox, int]
) -> None:
    h, (inbox, _) = mail_harness, smtp
    user, email = await approved(h, 602)
    await user.send("/profile")
    sent = await user.press("Verify e-mail")
    assert f"A code was sent to {email}" in texts(sent)
    code = last_code(inbox, email)
    # Wrong, then expired.
    wrong = "000000" if code != "000000" else "111111"
    assert "4 tries left" in texts(await user.send(wrong))
    h.clock.advance(minutes=11)
    assert "expired" in texts(await user.send(code))
    # A new code, typed right.
    await user.send("/profile")
    await user.press("Verify e-mail")
    code = last_code(inbox, email)
    assert f"{email} is verified" in texts(await user.send(code))
    registration = h.store.registrations.get("602-isv")
    assert registration is not None and registration.email_verified_at is not None

    # Five wrong codes lock the address for an hour, even for a new code.
    other, other_email = await approved(h, 603)
    await other.send("/profile")
    await other.press("Verify e-mail")
    code = last_code(inbox, other_email)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(4):
        await other.send(wrong)
    assert "locked for an hour" in texts(await other.send(wrong))
    await other.send("/profile")
    assert "locked for an hour" in texts(await other.press("Verify e-mail"))
    h.clock.advance(minutes=61)
    await other.send("/profile")
    assert "A code was sent" in texts(await other.press("Verify e-mail"))


async def test_email_changes_once_a_calendar_month(
    mail_harness: BotHarness, smtp: tuple[Inbox, int]
) -> None:
    h, (inbox, _) = mail_harness, smtp
    user, old = await approved(h, 604)
    await user.send("/profile")
    await user.press("Verify e-mail")
    await user.send(last_code(inbox, old))

    await user.send("/profile")
    await user.press("Change e-mail")
    same = await user.send("DEV604@example.com")
    assert "That is the current address" in texts(same)
    await user.send("/profile")
    await user.press("Change e-mail")
    await user.send("new604@example.com")
    changed = await user.send(last_code(inbox, "new604@example.com"))
    assert "now new604@example.com" in texts(changed)
    await h.deliver()
    assert any("was changed" in m["Subject"] for m in inbox.to(old))
    assert any("was changed" in m["Subject"] for m in inbox.to("new604@example.com"))
    assert h.store.unique.owner("email", "new604@example.com") == "604-isv"
    assert h.store.unique.owner("email", old) is None

    # A second change in the same month is refused with the date it becomes possible.
    await user.send("/profile")
    refused = await user.press("Change e-mail")
    assert "next change is possible on 1 December 2026" in texts(refused)
    # The clock moves into December (China time): allowed again.
    h.clock.advance(days=2)
    await user.send("/profile")
    assert "Type the new e-mail address" in texts(await user.press("Change e-mail"))


async def test_a_new_address_must_be_unique(
    mail_harness: BotHarness, smtp: tuple[Inbox, int]
) -> None:
    h, (inbox, _) = mail_harness, smtp
    _, first_email = await approved(h, 605)
    user, email = await approved(h, 606)
    await user.send("/profile")
    await user.press("Verify e-mail")
    await user.send(last_code(inbox, email))
    await user.send("/profile")
    await user.press("Change e-mail")
    clash = await user.send(first_email.upper())
    assert "must be unique on the platform" in texts(clash)


async def test_phone_handover(mail_harness: BotHarness) -> None:
    h = mail_harness
    user, _ = await approved(h, 607)
    await user.send("/profile")
    await user.press("Change bound phone")
    refused = await user.share_contact("8613900000000", user_id=999)
    assert "Only your own phone number" in texts(refused)
    done = await user.share_contact("8613911112222")
    assert "bound phone number is now" in texts(done) and "2222" in texts(done)
    account = h.store.accounts.get(607)
    assert account is not None and account.phone == "13911112222"
    [event] = [e for e in h.store.audit.for_subject("account:607") if e.action == "phone_changed"]
    # Only the last four digits reach the audit log.
    assert event.detail == {"old": "0607", "new": "2222"}


async def test_a_new_code_does_not_start_the_wrong_tries_again(
    mail_harness: BotHarness, smtp: tuple[Inbox, int]
) -> None:
    """Someone guessing codes asks for a fresh one after 4 wrong tries: the fifth wrong try
    still locks (before, each new code gave 4 more guesses, without end)."""
    h, (inbox, _) = mail_harness, smtp
    user, email = await approved(h, 604)
    before = len(inbox.to(email))  # the approval
    await user.send("/profile")
    await user.press("Verify e-mail")
    wrong = "000000" if last_code(inbox, email) != "000000" else "111111"
    for _ in range(4):
        await user.send(wrong)
    h.clock.advance(minutes=2)
    await user.send("/profile")
    await user.press("Verify e-mail")
    wrong = "000000" if last_code(inbox, email) != "000000" else "111111"
    assert "locked for an hour" in texts(await user.send(wrong))
    # While locked, even the right code of a new request is not checked: none is sent.
    await user.send("/profile")
    assert "locked for an hour" in texts(await user.press("Verify e-mail"))
    assert len(inbox.to(email)) == before + 2


async def test_code_emails_are_limited(mail_harness: BotHarness, smtp: tuple[Inbox, int]) -> None:
    """Codes go to whatever address was typed: one a minute and 5 a day at most."""
    h, (inbox, _) = mail_harness, smtp
    user, email = await approved(h, 605)
    before = len(inbox.to(email))  # the approval
    for _ in range(2):
        await user.send("/profile")
        said = texts(await user.press("Verify e-mail"))
    assert "at most one a minute" in said and len(inbox.to(email)) == before + 1
    for _ in range(4):
        h.clock.advance(minutes=2)
        await user.send("/profile")
        assert "A code was sent" in texts(await user.press("Verify e-mail"))
    h.clock.advance(minutes=2)
    await user.send("/profile")
    assert "5 a day" in texts(await user.press("Verify e-mail"))
    assert len(inbox.to(email)) == before + 5
    h.clock.advance(hours=24)
    await user.send("/profile")
    assert "A code was sent" in texts(await user.press("Verify e-mail"))


async def test_email_change_and_phone_handover_need_the_administrators_confirmation(
    mail_harness: BotHarness, smtp: tuple[Inbox, int]
) -> None:
    h, (inbox, _) = mail_harness, smtp
    user, email = await approved(h, 608, admin_confirmed=False)
    await user.send("/profile")
    await user.press("Verify e-mail")
    await user.send(last_code(inbox, email))
    await user.send("/profile")
    refused = texts(await user.press("Change e-mail"))
    link = f"?start=adm-{number(h, 608)}-"
    assert "needs the administrator's confirmation" in refused and link in refused
    await user.send("/profile")
    await user.press("Change bound phone")
    handover = texts(await user.share_contact("8613911113333"))
    assert "needs the administrator's confirmation" in handover
    account = h.store.accounts.get(608)
    assert account is not None and account.phone != "13911113333"
    # Once the administrator confirmed, both work.
    mobile = h.store.registrations.get("608-isv")
    assert mobile is not None
    admin = h.kit.user(
        9608, language_code="en", phone_number=f"+86{mobile.answers['admin_mobile']}"
    )
    await admin.send(f"/start {refused.split('?start=')[1].split()[0]}")
    await admin.share_contact()
    await user.send("/profile")
    assert "Type the new e-mail address" in texts(await user.press("Change e-mail"))
