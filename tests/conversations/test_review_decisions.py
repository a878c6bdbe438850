"""Deciding safely: approval takes a second tap (and an old confirmation is refused with
the reason), every copy of a card follows the decision, catalogue reasons fit the field and
the role, and a typed reason in another language than the applicant's is pointed out
before it is sent. In both of the group's languages."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import REVIEWERS, BotHarness
from journey import Applicant, cards, fill_form, number, reach_form, submit, texts

from bot.offline.records import BotMessage
from bot.rules.models import Role, Status

#: What the reviewers see, per group language.
SEEN: dict[str, dict[str, str]] = {
    "zh": {
        "card": "新的注册申请",
        "resubmitted": "重新提交",
        "approve": "✅ 通过",
        "confirm": "确认通过",
        "cancel": "取消",
        "asked": "确认通过",
        "approved": "已通过",
        "not_approved": "保持不变",
        "outdated": "已过期",
        "claim": "认领",
        "holder": "认领人",
        "changes": "要求修改",
        "next": "下一步",
        "other": "自行填写原因",
        "send": "发送修改要求",
        "front": "法人证件正面照",
        "licence": "营业执照",
        "scope": "经营范围",
        "identity": "身份账号 ID",
        "photo_reason": "证件照片不清晰",
        "licence_reason": "营业执照照片不清晰",
        "ecommerce_reason": "缺少“电商产品销售”",
        "tech_reason": "缺少“技术开发”",
        "identity_reason": "无法核验您填写的身份账号",
        "flag": "申请人使用英文",
        "send_anyway": "照原样发送",
        "rewrite": "重新填写",
        "reason_in_own": "营业执照上的公章模糊，请重新上传。",
        "reason_other": "The stamp on the licence is blurred.",
    },
    "en": {
        "card": "New registration",
        "resubmitted": "Resubmission",
        "approve": "✅ Approve",
        "confirm": "Confirm approval",
        "cancel": "Cancel",
        "asked": "Approve",
        "approved": "Approved",
        "not_approved": "unchanged",
        "outdated": "out of date",
        "claim": "Claim",
        "holder": "held by",
        "changes": "Request changes",
        "next": "Next",
        "other": "Type a reason",
        "send": "Send change request",
        "front": "ID photo (front)",
        "licence": "Business licence",
        "scope": "Business scope",
        "identity": "Identity account id",
        "photo_reason": "The ID photo is unclear",
        "licence_reason": "The business licence is unreadable",
        "ecommerce_reason": "lacks e-commerce product sales",
        "tech_reason": "lacks technical development",
        "identity_reason": "identity account id could not be verified",
        "flag": "applicant reads Chinese",
        "send_anyway": "Send as it is",
        "rewrite": "Rewrite",
        "reason_in_own": "The stamp on the licence is blurred.",
        "reason_other": "营业执照上的公章模糊，请重新上传。",
    },
}


@pytest.fixture
def desk(harness_in_each_locale: BotHarness) -> tuple[BotHarness, dict[str, str]]:
    """The bot with its reviewers' group in one language, and what they see in it."""
    h = harness_in_each_locale
    return h, SEEN[h.settings.DEFAULT_LOCALE]


def status(h: BotHarness, rid: str) -> Status:
    stored = h.store.registrations.get(rid)
    assert stored is not None
    return stored.status


async def test_approval_takes_a_second_tap(desk: tuple[BotHarness, dict[str, str]]) -> None:
    h, see = desk
    group = h.admin_group
    reviewer = h.kit.user(REVIEWERS[0], "Rita")
    await submit(h, 601)
    [card] = cards(h, see["card"])
    asked = await reviewer.press(see["approve"], chat=group, message_id=card.message_id)
    # Nothing decided yet: the reviewer is asked, with the registration named.
    assert status(h, "601-isv") is Status.SUBMITTED
    assert number(h, 601) in texts(asked) and see["asked"] in texts(asked)
    # Cancel leaves it as it was.
    kept = await reviewer.press(see["cancel"], chat=group)
    assert see["not_approved"] in texts(kept) and status(h, "601-isv") is Status.SUBMITTED
    await reviewer.press(see["approve"], chat=group, message_id=card.message_id)
    confirmation = group.last()
    done = await reviewer.press(see["confirm"], chat=group)
    assert see["approved"] in texts(done) and status(h, "601-isv") is Status.APPROVED
    assert [e.action for e in h.store.audit.for_subject("601-isv")].count("approved") == 1
    # Pressed again once decided: told it is decided, nothing recorded twice.
    await reviewer.press_data(f"rv:apok:{number(h, 601)}:1", confirmation.message_id, group)
    assert reviewer.last_answer is not None and see["approved"] in reviewer.last_answer
    assert [e.action for e in h.store.audit.for_subject("601-isv")].count("approved") == 1


async def test_an_old_confirmation_after_a_resubmission_approves_nothing(
    desk: tuple[BotHarness, dict[str, str]],
) -> None:
    h, see = desk
    group = h.admin_group
    reviewer = h.kit.user(REVIEWERS[0], "Rita")
    await submit(h, 602)
    [card] = cards(h, see["card"])
    await reviewer.press(see["approve"], chat=group, message_id=card.message_id)
    confirmation = group.last()
    # Meanwhile another reviewer sends it back and the applicant submits it again.
    await h.kit.user(REVIEWERS[1]).send(f"/reject {number(h, 602)} Please check it", group)
    await h.deliver()
    applicant = h.kit.user(602)
    await applicant.press("Fix it now")
    await applicant.press("Submit for review")
    await h.deliver()
    assert status(h, "602-isv") is Status.RESUBMITTED
    # The confirmation was for what the reviewer saw before: refused, with why.
    await reviewer.press(see["confirm"], chat=group, message_id=confirmation.message_id)
    assert reviewer.last_answer is not None and see["outdated"] in reviewer.last_answer
    assert status(h, "602-isv") is Status.RESUBMITTED


async def test_copies_posted_by_review_follow_the_decision(
    desk: tuple[BotHarness, dict[str, str]],
) -> None:
    h, see = desk
    group = h.admin_group
    reviewer = h.kit.user(REVIEWERS[0], "Rita")
    await submit(h, 603)
    [original] = cards(h, see["card"])
    [copy] = await reviewer.send(f"/review {number(h, 603)}", chat=group)
    [second] = await reviewer.send(f"/review {number(h, 603)}", chat=group)
    await reviewer.press(see["claim"], chat=group, message_id=copy.message_id)
    for shown in (original, copy, second):
        now = on_screen(h, shown.message_id)
        assert see["holder"] in now.text and "Rita" in now.text, shown.message_id
    await reviewer.press(see["approve"], chat=group, message_id=second.message_id)
    await reviewer.press(see["confirm"], chat=group)
    for shown in (original, copy, second):
        now = on_screen(h, shown.message_id)
        assert see["approved"] in now.text and not now.markup, shown.message_id


def on_screen(h: BotHarness, message_id: int) -> BotMessage:
    """A message of the reviewers' group as it stands now."""
    [now] = [m for m in h.kit.messages(h.admin_group) if m.message_id == message_id]
    return now


def offered(message: Any) -> str:
    """The labels of a message's buttons, as one string."""
    return " | ".join(b["text"] for row in message.markup["inline_keyboard"] for b in row)


async def test_catalogue_reasons_fit_the_field_and_the_role(
    desk: tuple[BotHarness, dict[str, str]],
) -> None:
    h, see = desk
    group = h.admin_group
    reviewer = h.kit.user(REVIEWERS[0], "Rita")
    await submit(h, 604)  # a third-party developer
    await reviewer.send(f"/review {number(h, 604)}", chat=group)
    await reviewer.press(see["changes"], chat=group)
    await reviewer.press(see["front"], chat=group)
    await reviewer.press(see["scope"], chat=group)
    [asked] = await reviewer.press(see["next"], chat=group)
    # The ID photo: photo reasons, not the licence's.
    assert see["photo_reason"] in offered(asked) and see["licence_reason"] not in offered(asked)
    assert see["other"] in offered(asked)
    [asked] = await reviewer.press(see["photo_reason"], chat=group)
    # The business scope of a third-party developer: technical development, never the
    # merchant developers' e-commerce sales, nor the ID photo's reasons.
    assert see["tech_reason"] in offered(asked)
    assert see["ecommerce_reason"] not in offered(asked)
    assert see["photo_reason"] not in offered(asked)
    # A forged press of a reason that does not fit is not taken.
    draft = h.services.reviewer_drafts.get(REVIEWERS[0], number(h, 604))
    assert draft is not None and "business_scope" not in draft.reasons
    forged = f"rv:r:{number(h, 604)}:1:2"  # e-commerce, for a third-party developer
    await reviewer.press_data(forged, asked.message_id, group)
    draft = h.services.reviewer_drafts.get(REVIEWERS[0], number(h, 604))
    assert draft is not None and "business_scope" not in draft.reasons


async def test_a_merchant_gets_the_e_commerce_and_identity_reasons(
    desk: tuple[BotHarness, dict[str, str]],
) -> None:
    h, see = desk
    group = h.admin_group
    reviewer = h.kit.user(REVIEWERS[0], "Rita")
    user = h.kit.user(605, language_code="en")
    applicant = Applicant(605, zh=False, role=Role.MERCHANT)
    applicant.answers["business_scope"] = (
        "technology development, software development, e-commerce product sales"
    )
    await reach_form(user, "Merchant developer", zh=False)
    await fill_form(user, applicant, zh=False)
    await user.press("Submit for review")
    await h.deliver()
    await reviewer.send(f"/review {number(h, 605, Role.MERCHANT)}", chat=group)
    await reviewer.press(see["changes"], chat=group)
    await reviewer.press(see["identity"], chat=group)
    await reviewer.press(see["scope"], chat=group)
    [asked] = await reviewer.press(see["next"], chat=group)
    assert see["identity_reason"] in offered(asked)
    [asked] = await reviewer.press(see["identity_reason"], chat=group)
    assert see["ecommerce_reason"] in offered(asked) and see["tech_reason"] in offered(asked)


async def test_a_reason_typed_in_another_language_is_pointed_out_first(
    desk: tuple[BotHarness, dict[str, str]],
) -> None:
    h, see = desk
    group = h.admin_group
    reviewer = h.kit.user(REVIEWERS[0], "Rita")
    # The applicant reads the other language than the group's.
    await submit(h, 606, zh=see is SEEN["en"])
    await reviewer.send(f"/review {number(h, 606)}", chat=group)
    await reviewer.press(see["changes"], chat=group)
    await reviewer.press(see["licence"], chat=group)
    await reviewer.press(see["next"], chat=group)
    ask = await reviewer.press(see["other"], chat=group)
    flagged = await reviewer.reply_to(ask[-1].message_id, see["reason_in_own"], group)
    assert see["flag"] in texts(flagged)
    draft = h.services.reviewer_drafts.get(REVIEWERS[0], number(h, 606))
    assert draft is not None and draft.reasons == {}
    # Rewrite: asked again; the reason in the applicant's language goes through unflagged.
    ask = await reviewer.press(see["rewrite"], chat=group)
    confirm = await reviewer.reply_to(ask[-1].message_id, see["reason_other"], group)
    assert see["flag"] not in texts(confirm) and see["send"] in offered(confirm[-1])
    draft = h.services.reviewer_drafts.get(REVIEWERS[0], number(h, 606))
    assert draft is not None and draft.reasons == {"licence": see["reason_other"]}


async def test_a_flagged_reason_may_be_sent_as_it_is(
    desk: tuple[BotHarness, dict[str, str]],
) -> None:
    h, see = desk
    group = h.admin_group
    reviewer = h.kit.user(REVIEWERS[0], "Rita")
    await submit(h, 607, zh=see is SEEN["en"])
    [card] = cards(h, see["card"])
    ask = await reviewer.press("↩️", chat=group, message_id=card.message_id)  # not passed
    flagged = await reviewer.reply_to(ask[-1].message_id, see["reason_in_own"], group)
    assert see["flag"] in texts(flagged) and status(h, "607-isv") is Status.SUBMITTED
    await reviewer.press(see["send_anyway"], chat=group)
    assert status(h, "607-isv") is Status.CHANGES_REQUESTED
    stored = h.store.registrations.get("607-isv")
    assert stored is not None and stored.decision_reason == see["reason_in_own"]


async def test_cancelling_a_confirmation_after_someone_else_decided_says_so(
    desk: tuple[BotHarness, dict[str, str]],
) -> None:
    h, see = desk
    group = h.admin_group
    reviewer = h.kit.user(REVIEWERS[0], "Rita")
    await submit(h, 608)
    [card] = cards(h, see["card"])
    await reviewer.press(see["approve"], chat=group, message_id=card.message_id)
    confirmation = group.last()
    await h.kit.user(REVIEWERS[1]).send(f"/approve {number(h, 608)}", group)
    await reviewer.press(see["cancel"], chat=group, message_id=confirmation.message_id)
    # Not "unchanged": it was approved meanwhile, and the reviewer is told so.
    assert reviewer.last_answer is not None and see["approved"] in reviewer.last_answer
    now = next(m for m in h.kit.messages(group) if m.message_id == confirmation.message_id)
    assert see["not_approved"] not in now.text
