"""Registration numbers: what applicants, administrators and reviewers see and type is a
public number that says nothing about the applicant's Telegram account."""

from __future__ import annotations

import csv
import io
import json

from conftest import REVIEWERS, BotHarness, Inbox
from journey import Applicant, confirm_as_administrator, fill_form, reach_form, texts

from bot.offline import Person

#: An applicant whose Telegram user id appears in none of their answers.
UID = 8_765_432
SECRET = str(UID)


async def submitted(harness: BotHarness, answers: int) -> tuple[Person, Applicant]:
    """That applicant, in English, submits a third-party developer's registration filled
    with the answers of test applicant ``answers``; the outbox has delivered it."""
    user = harness.kit.user(UID, language_code="en")
    applicant = Applicant(answers, zh=False)
    await reach_form(user, "Third-party developer", zh=False)
    await fill_form(user, applicant, zh=False)
    await user.press("Submit for review")
    await harness.deliver()
    return user, applicant


async def test_nobody_is_shown_the_applicants_telegram_user_id(harness: BotHarness) -> None:
    user, applicant = await submitted(harness, 77)

    # The applicant: the submission (with the administrator's link) and /status.
    seen = texts(user.messages()) + texts(await user.send("/status"))
    assert SECRET not in seen
    [stored] = harness.store.registrations.for_user(UID)
    number = stored.number
    assert number and SECRET not in number and number in seen
    link = next(w for w in seen.split() if "?start=adm-" in w)
    assert SECRET not in link

    # The reviewers: the card, the queue, a search, the history and the export.
    reviewer = harness.kit.user(REVIEWERS[0])
    group = harness.admin_group
    card = texts(harness.kit.messages(group))
    assert number in card
    queue = texts(await reviewer.send("/queue", chat=group))
    found = texts(await reviewer.send("/find Test 77", chat=group))
    history = texts(await reviewer.send(f"/history {number}", chat=group))
    exported = await reviewer.send("/export", chat=group)
    document = exported[-1].document
    assert document is not None
    csv_text = harness.kit.api.file(document["file_id"]).data.decode("utf-8-sig")
    for shown in (card, queue, found, history, csv_text):
        assert number in shown
        assert SECRET not in shown
    [row] = csv.DictReader(io.StringIO(csv_text))
    assert row["number"] == number
    for message in harness.kit.messages(group):
        assert SECRET not in message.text
        assert all(SECRET not in label for row in message.buttons for label in row)

    # The administrator opens the forwarded link and confirms: it still works.
    await confirm_as_administrator(harness, UID, applicant)

    # /mydata names the registration by its number too.
    sent = await user.send("/mydata")
    assert sent[-1].document is not None
    data = json.loads(harness.kit.api.file(sent[-1].document["file_id"]).data)
    assert data["registrations"][0]["number"] == number


async def test_reviewers_type_the_number_as_they_read_it(harness: BotHarness) -> None:
    user, _ = await submitted(harness, 78)
    [stored] = harness.store.registrations.for_user(UID)
    assert stored.number is not None
    reviewer = harness.kit.user(REVIEWERS[0])
    group = harness.admin_group
    # Lower case, without the hyphen, O for 0 and I/L for 1: the same number.
    typed = stored.number.lower().replace("-", "").replace("0", "o").replace("1", "l")
    card = texts(await reviewer.send(f"/review {typed}", chat=group))
    assert stored.number in card and "Test 78 Ltd" in card
    unknown = texts(await reviewer.send("/review ZZZZ-ZZZZ", chat=group))
    assert "没有找到注册" in unknown and "ZZZZ-ZZZZ" in unknown
    approved = texts(await reviewer.send(f"/approve {stored.number}", chat=group))
    assert stored.number in approved and SECRET not in approved
    await harness.deliver()
    told = texts(user.messages()[-2:])
    assert "approved" in told and stored.number in told and SECRET not in told


async def test_e_mails_name_the_number_not_the_user_id(
    mail_harness: BotHarness, smtp: tuple[Inbox, int]
) -> None:
    h, (inbox, _) = mail_harness, smtp
    _, applicant = await submitted(h, 79)
    [stored] = h.store.registrations.for_user(UID)
    await h.kit.user(REVIEWERS[0]).send(f"/approve {stored.number}", chat=h.admin_group)
    await h.deliver()
    mail = inbox.to(applicant.answers["admin_email"])[-1]
    assert stored.number in str(mail["Subject"])
    assert SECRET not in mail.as_string()  # headers (Message-ID too) and body
