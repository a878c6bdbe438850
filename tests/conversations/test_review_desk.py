"""Reviewers decide in the admin group; applicants learn the result in the chat and by
e-mail (a real SMTP server on 127.0.0.1); a change request walks exactly the flagged fields."""

from __future__ import annotations

from conftest import REVIEWERS, BotHarness, Inbox
from journey import PDF, cards, changes_on_the_resubmission, number, submit, texts

from bot.rules.models import Delivery, Status


async def test_change_request_round_trip_ends_in_approval(
    mail_harness: BotHarness, smtp: tuple[Inbox, int]
) -> None:
    h, (inbox, _) = mail_harness, smtp
    group = h.admin_group
    applicant = h.kit.user(201, language_code="en")
    reviewer = h.kit.user(REVIEWERS[0], "Rita", language_code="zh")
    answers = await submit(h, 201)

    # The card: every answer by section, ID numbers masked, documents sent with it.
    [card] = cards(h, "新的注册申请")
    assert number(h, 201) in card.text and answers.answers["company_name"] in card.text
    assert answers.answers["legal_id_number"] not in card.text
    assert answers.answers["legal_id_number"][-4:] in card.text
    assert len(h.kit.api.calls("sendPhoto")) + len(h.kit.api.calls("sendDocument")) == 3

    claimed = await reviewer.press("认领", chat=group)
    assert "已认领" in texts(claimed)
    # The card itself now shows who holds it, and offers Release instead of Claim.
    [held] = [m for m in h.kit.messages(group) if m.message_id == card.message_id]
    assert held.edited and "认领人" in held.text and held.has_button("↩️ 释放")

    await reviewer.press("要求修改", chat=group)
    await reviewer.press("企业描述", chat=group)
    await reviewer.press("营业执照", chat=group)
    await reviewer.press("下一步", chat=group)
    await reviewer.press("企业描述过于笼统", chat=group)
    ask = await reviewer.press("自行填写原因", chat=group)
    await reviewer.reply_to(
        ask[-1].message_id, "The licence photo is cut off <at the bottom>", group
    )
    confirm = h.kit.last(group)
    assert "企业描述" in confirm.text and "cut off <at the bottom>" in confirm.text
    await reviewer.press("发送修改要求", chat=group)
    await h.deliver()

    told = applicant.messages()[-1]
    assert "needs changes" in told.text
    assert "Description" in told.text and "too vague" in told.text
    assert "Business licence" in told.text and "cut off <at the bottom>" in told.text
    [mail] = inbox.to(answers.answers["admin_email"])
    assert "needs changes" in mail["Subject"]
    body = mail.get_body(("plain",))
    assert body is not None and "cut off <at the bottom>" in body.get_content()

    # Exactly the two flagged fields, in form order, then the summary.
    first = await applicant.press("Fix it now")
    assert "Step 1 of 2" in texts(first) and "Business licence" in texts(first)
    assert "Reviewer's note" in texts(first)
    second = await applicant.upload(PDF + b"v2", file_name="licence-v2.pdf")
    assert "Step 2 of 2" in texts(second) and "Description" in texts(second)
    summary = await applicant.send("We build order printing and shipping software for 2,000 shops.")
    assert "Please check your registration" in texts(summary)
    done = await applicant.press("Submit for review")
    assert "Submitted for review" in texts(done)
    await h.deliver()

    assert "营业执照" in changes_on_the_resubmission(h).split("\n")[0]
    stored = h.store.registrations.get("201-isv")
    assert stored is not None and stored.status is Status.RESUBMITTED

    await reviewer.press("通过", chat=group)
    approved = await reviewer.press("确认通过", chat=group)
    assert "已通过" in texts(approved)
    await h.deliver()
    assert "is approved" in applicant.messages()[-1].text
    assert any("is approved" in m["Subject"] for m in inbox.to(answers.answers["admin_email"]))
    status = await applicant.send("/status")
    assert "Approved" in texts(status)
    history = await reviewer.send("/history 201-isv", chat=group)
    for step in ("提交审核", "认领", "要求修改", "通过"):
        assert step in texts(history)


async def test_a_decision_is_recorded_once(mail_harness: BotHarness) -> None:
    h = mail_harness
    group = h.admin_group
    first, second = (h.kit.user(r, language_code="zh") for r in REVIEWERS)
    await submit(h, 211)
    [card] = cards(h, "新的注册申请")
    await first.press("认领", chat=group, message_id=card.message_id)
    # The other reviewer, at the same moment, on the same card: refused, nothing recorded.
    await second.press_data("rv:approve:211-isv", card.message_id, group)
    assert second.last_answer is not None and "已被审核员" in second.last_answer
    await first.press_data("rv:approve:211-isv", card.message_id, group)
    confirmation = group.last()
    await first.press_data("rv:apok:211-isv:1", confirmation.message_id, group)
    assert first.last_answer is not None and "已通过" in first.last_answer
    # The holder pressing twice: the second press is told it is decided already.
    await first.press_data("rv:apok:211-isv:1", confirmation.message_id, group)
    assert first.last_answer is not None and "已通过" in first.last_answer
    assert "不能再执行此操作" in first.last_answer
    events = [e.action for e in h.store.audit.for_subject("211-isv")]
    assert events.count("approved") == 1
    await h.deliver()
    stored = h.store.registrations.get("211-isv")
    assert stored is not None
    approved = [n for n in stored.outbox if n.template == "approved"]
    assert len(approved) == 2  # chat and e-mail, once each
    assert all(n.state is Delivery.SENT for n in stored.outbox)
