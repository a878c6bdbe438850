"""Deciding safely: approval takes a second tap (and an old confirmation is refused with
the reason), every copy of a card follows the decision, catalogue reasons fit the field and
the role, and a typed reason in another language than the applicant's is pointed out
before it is sent. In both of the group's languages."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from conftest import REVIEWERS, BotHarness
from journey import Applicant, cards, fill_form, number, reach_form, submit, texts

from bot.offline import Group, Person
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


@dataclass(frozen=True)
class Desk:
    """The bot with its reviewers' group in one language, what they see in it, and Rita,
    the first reviewer, acting there."""

    h: BotHarness
    see: dict[str, str]
    group: Group
    rita: Person

    async def press(self, label: str, message_id: int | None = None) -> list[BotMessage]:
        """Rita taps the button the group sees as ``label`` (newest message, or that one)."""
        return await self.rita.press(self.see[label], chat=self.group, message_id=message_id)

    async def send(self, text: str) -> list[BotMessage]:
        return await self.rita.send(text, chat=self.group)

    async def card_of(self, user_id: int, zh: bool = False) -> BotMessage:
        """An applicant's registration submitted, and its one card in the group."""
        await submit(self.h, user_id, zh=zh)
        [card] = cards(self.h, self.see["card"])
        return card

    async def reasons_asked(self, user_id: int, *fields: str, role: Role = Role.ISV) -> BotMessage:
        """Rita's change request on these fields (labels), up to the first reason asked."""
        await self.send(f"/review {number(self.h, user_id, role)}")
        await self.press("changes")
        for field in fields:
            await self.press(field)
        [asked] = await self.press("next")
        return asked

    def drafted(self, user_id: int) -> dict[str, str]:
        """The reasons of Rita's change-request draft so far."""
        draft = self.h.services.reviewer_drafts.get(REVIEWERS[0], number(self.h, user_id))
        assert draft is not None
        return dict(draft.reasons)

    def status(self, rid: str) -> Status:
        stored = self.h.store.registrations.get(rid)
        assert stored is not None
        return stored.status

    def on_screen(self, message_id: int) -> BotMessage:
        """A message of the group as it stands now."""
        [now] = [m for m in self.h.kit.messages(self.group) if m.message_id == message_id]
        return now


@pytest.fixture
def desk(harness_in_each_locale: BotHarness) -> Desk:
    h = harness_in_each_locale
    rita = h.kit.user(REVIEWERS[0], "Rita")
    return Desk(h, SEEN[h.settings.DEFAULT_LOCALE], h.admin_group, rita)


def offered(message: Any) -> str:
    """The labels of a message's buttons, as one string."""
    return " | ".join(b["text"] for row in message.markup["inline_keyboard"] for b in row)


async def test_approval_takes_a_second_tap(desk: Desk) -> None:
    h, see, rita = desk.h, desk.see, desk.rita
    card = await desk.card_of(601)
    asked = await desk.press("approve", message_id=card.message_id)
    # Nothing decided yet: the reviewer is asked, with the registration named.
    assert desk.status("601-isv") is Status.SUBMITTED
    assert number(h, 601) in texts(asked) and see["asked"] in texts(asked)
    # Cancel leaves it as it was.
    kept = await desk.press("cancel")
    assert see["not_approved"] in texts(kept) and desk.status("601-isv") is Status.SUBMITTED
    await desk.press("approve", message_id=card.message_id)
    confirmation = desk.group.last()
    done = await desk.press("confirm")
    assert see["approved"] in texts(done) and desk.status("601-isv") is Status.APPROVED
    assert [e.action for e in h.store.audit.for_subject("601-isv")].count("approved") == 1
    # Pressed again once decided: told it is decided, nothing recorded twice.
    await rita.press_data(f"rv:apok:{number(h, 601)}:1", confirmation.message_id, desk.group)
    assert rita.last_answer is not None and see["approved"] in rita.last_answer
    assert [e.action for e in h.store.audit.for_subject("601-isv")].count("approved") == 1


async def test_an_old_confirmation_after_a_resubmission_approves_nothing(desk: Desk) -> None:
    h = desk.h
    card = await desk.card_of(602)
    await desk.press("approve", message_id=card.message_id)
    confirmation = desk.group.last()
    # Meanwhile another reviewer sends it back and the applicant submits it again.
    await h.kit.user(REVIEWERS[1]).send(f"/reject {number(h, 602)} Please check it", desk.group)
    await h.deliver()
    applicant = h.kit.user(602)
    await applicant.press("Fix it now")
    await applicant.press("Submit for review")
    await h.deliver()
    assert desk.status("602-isv") is Status.RESUBMITTED
    # The confirmation was for what the reviewer saw before: refused, with why.
    await desk.press("confirm", message_id=confirmation.message_id)
    assert desk.rita.last_answer is not None and desk.see["outdated"] in desk.rita.last_answer
    assert desk.status("602-isv") is Status.RESUBMITTED


async def test_copies_posted_by_review_follow_the_decision(desk: Desk) -> None:
    see = desk.see
    original = await desk.card_of(603)
    [copy] = await desk.send(f"/review {number(desk.h, 603)}")
    [second] = await desk.send(f"/review {number(desk.h, 603)}")
    await desk.press("claim", message_id=copy.message_id)
    for shown in (original, copy, second):
        now = desk.on_screen(shown.message_id)
        assert see["holder"] in now.text and "Rita" in now.text, shown.message_id
    await desk.press("approve", message_id=second.message_id)
    await desk.press("confirm")
    for shown in (original, copy, second):
        now = desk.on_screen(shown.message_id)
        assert see["approved"] in now.text and not now.markup, shown.message_id


async def test_catalogue_reasons_fit_the_field_and_the_role(desk: Desk) -> None:
    see = desk.see
    await submit(desk.h, 604)  # a third-party developer
    asked = await desk.reasons_asked(604, "front", "scope")
    # The ID photo: photo reasons, not the licence's.
    assert see["photo_reason"] in offered(asked) and see["licence_reason"] not in offered(asked)
    assert see["other"] in offered(asked)
    [asked] = await desk.press("photo_reason")
    # The business scope of a third-party developer: technical development, never the
    # merchant developers' e-commerce sales, nor the ID photo's reasons.
    assert see["tech_reason"] in offered(asked)
    assert see["ecommerce_reason"] not in offered(asked)
    assert see["photo_reason"] not in offered(asked)
    # A forged press of a reason that does not fit is not taken.
    assert "business_scope" not in desk.drafted(604)
    forged = f"rv:r:{number(desk.h, 604)}:1:2"  # e-commerce, for a third-party developer
    await desk.rita.press_data(forged, asked.message_id, desk.group)
    assert "business_scope" not in desk.drafted(604)


async def test_a_merchant_gets_the_e_commerce_and_identity_reasons(desk: Desk) -> None:
    see = desk.see
    user = desk.h.kit.user(605, language_code="en")
    applicant = Applicant(605, zh=False, role=Role.MERCHANT)
    applicant.answers["business_scope"] = (
        "technology development, software development, e-commerce product sales"
    )
    await reach_form(user, "Merchant developer", zh=False)
    await fill_form(user, applicant, zh=False)
    await user.press("Submit for review")
    await desk.h.deliver()
    asked = await desk.reasons_asked(605, "identity", "scope", role=Role.MERCHANT)
    assert see["identity_reason"] in offered(asked)
    [asked] = await desk.press("identity_reason")
    assert see["ecommerce_reason"] in offered(asked) and see["tech_reason"] in offered(asked)


async def test_a_reason_typed_in_another_language_is_pointed_out_first(desk: Desk) -> None:
    see, rita, group = desk.see, desk.rita, desk.group
    # The applicant reads the other language than the group's.
    await submit(desk.h, 606, zh=see is SEEN["en"])
    await desk.reasons_asked(606, "licence")
    ask = await desk.press("other")
    flagged = await rita.reply_to(ask[-1].message_id, see["reason_in_own"], group)
    assert see["flag"] in texts(flagged)
    assert desk.drafted(606) == {}
    # Rewrite: asked again; the reason in the applicant's language goes through unflagged.
    ask = await desk.press("rewrite")
    confirm = await rita.reply_to(ask[-1].message_id, see["reason_other"], group)
    assert see["flag"] not in texts(confirm) and see["send"] in offered(confirm[-1])
    assert desk.drafted(606) == {"licence": see["reason_other"]}


async def test_a_flagged_reason_may_be_sent_as_it_is(desk: Desk) -> None:
    see = desk.see
    card = await desk.card_of(607, zh=see is SEEN["en"])
    # "↩️": not passed
    ask = await desk.rita.press("↩️", chat=desk.group, message_id=card.message_id)
    flagged = await desk.rita.reply_to(ask[-1].message_id, see["reason_in_own"], desk.group)
    assert see["flag"] in texts(flagged) and desk.status("607-isv") is Status.SUBMITTED
    await desk.press("send_anyway")
    assert desk.status("607-isv") is Status.CHANGES_REQUESTED
    stored = desk.h.store.registrations.get("607-isv")
    assert stored is not None and stored.decision_reason == see["reason_in_own"]


async def test_cancelling_a_confirmation_after_someone_else_decided_says_so(desk: Desk) -> None:
    card = await desk.card_of(608)
    await desk.press("approve", message_id=card.message_id)
    confirmation = desk.group.last()
    await desk.h.kit.user(REVIEWERS[1]).send(f"/approve {number(desk.h, 608)}", desk.group)
    await desk.press("cancel", message_id=confirmation.message_id)
    # Not "unchanged": it was approved meanwhile, and the reviewer is told so.
    assert desk.rita.last_answer is not None and desk.see["approved"] in desk.rita.last_answer
    assert desk.see["not_approved"] not in desk.on_screen(confirmation.message_id).text
